import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { memoryEngine, type SessionEngine, type SynchronousCalls, session } from 'elysia-sessions'
import { promisesOnly } from './support/engines.js'
import { closingAfterEach, cookiePairOf, recordingEngine, SECRET, send, type Writable } from './support/http.js'

const opened = closingAfterEach()

function appOn(engine: SessionEngine) {
  // Compiled at once: Elysia otherwise compiles a route on its first request, through a promise.
  return opened(
    new Elysia({ precompile: true })
      .use(session({ secret: SECRET, engine, touchInterval: 0 }))
      .get('/increment', ({ session }) => {
        const count = (session.intOrNull('count') ?? 0) + 1
        session.int('count', count)
        return `${count}`
      })
      // Elysia takes a handler whose source returns a call for an async one, so these return none.
      .get('/read', ({ session }) => {
        const count = session.intOrNull('count')
        return { count }
      })
      .get('/health', () => 'ok', { session: false }),
  )
}

/** Sends through `app.fetch`, as Bun.serve does, and says whether the answer came without a promise. */
function fetchNow(app: { fetch(request: Request): Response | Promise<Response> }, path: string, cookie?: string) {
  const headers = cookie ? { cookie } : undefined
  const answer = app.fetch(new Request(`http://localhost${path}`, { headers }))
  return { immediate: answer instanceof Response, response: Promise.resolve(answer) }
}

describe("an engine's synchronous calls", () => {
  test('make the plugin answer a new session, a write, a read and a touch without a promise', async () => {
    const app = appOn(memoryEngine())
    const created = fetchNow(app, '/increment')
    expect(created.immediate).toBe(true)
    const cookie = cookiePairOf(await created.response)
    expect(cookie).toBeDefined()
    const written = fetchNow(app, '/increment', cookie)
    expect(written.immediate).toBe(true)
    expect(await (await written.response).text()).toBe('2')
    // touchInterval: 0, so every read also touches.
    const read = fetchNow(app, '/read', cookie)
    expect(read.immediate).toBe(true)
    expect(await (await read.response).json()).toEqual({ count: 2 })
    expect(fetchNow(app, '/health').immediate).toBe(true)
  })

  test('an engine without them is driven through its promises, and keeps the same sessions', async () => {
    const app = appOn(promisesOnly(memoryEngine()))
    const created = fetchNow(app, '/increment')
    expect(created.immediate).toBe(false)
    const cookie = cookiePairOf(await created.response)
    expect(await (await send(app, '/increment', { cookie })).text()).toBe('2')
  })

  test('the plugin takes every per-request call through them, never through a promise', async () => {
    const recording = recordingEngine()
    const promised: string[] = []
    const promising =
      <Method extends 'load' | 'commit' | 'touch' | 'delete'>(method: Method) =>
      (...args: Parameters<SessionEngine[Method]>) => {
        promised.push(method)
        return (recording[method] as (...a: typeof args) => ReturnType<SessionEngine[Method]>)(...args)
      }
    const engine: SessionEngine = {
      ...recording,
      load: promising('load'),
      commit: promising('commit'),
      touch: promising('touch'),
      delete: promising('delete'),
    }
    const sync = recording.sync as SynchronousCalls
    ;(engine as Writable<SessionEngine>).sync = { ...sync, engine }
    const app = appOn(engine)
    const cookie = cookiePairOf(await send(app, '/increment'))
    await send(app, '/increment', { cookie })
    await send(app, '/read', { cookie })
    expect(promised).toEqual([])
    expect(recording.calls.map((call) => call.method)).toEqual(['commit', 'load', 'commit', 'load', 'touch'])
  })

  test('a wrapper that spreads an engine and replaces a method is driven through its own methods', async () => {
    const inner = memoryEngine()
    let loads = 0
    const wrapper: SessionEngine = {
      ...inner,
      async load(id, now) {
        loads++
        return inner.load(id, now)
      },
    }
    expect(wrapper.sync).toBeDefined()
    const app = appOn(wrapper)
    const cookie = cookiePairOf(await send(app, '/increment'))
    expect(await (await send(app, '/increment', { cookie })).text()).toBe('2')
    expect(loads).toBe(1)
  })
})
