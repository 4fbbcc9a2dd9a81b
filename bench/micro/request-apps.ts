import { Elysia } from 'elysia'
import type { SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { session } from '../../src/plugin.js'
import { benchSchema } from '../schema.js'
import { handwrittenApp } from '../servers/handwritten-app.js'

/** The secret every benchmark app signs with (at least 32 characters, as `session()` requires). */
export const BENCH_SECRET = 'bench-secret-that-is-at-least-32-characters-long'

/** Elysia's router needs a host of at least 4 characters. */
export const ORIGIN = 'http://localhost'

/** After this many new sessions, scenario c empties its engine, so a long run never grows the heap without bound. */
const NEW_SESSIONS_KEPT = 50_000

/** One kind of request sent through `app.handle`, without any network. */
export interface RequestScenario {
  /**
   * Short key for `--profile`: `bare`, `a`, `b`, `c`, `d`, `sa` and `sb` (a and b with a schema), or `ha`, `hb` and
   * `hc` (a, b and c on the hand-written session of bench/servers/handwritten-app.ts, the practical ceiling).
   */
  readonly key: string
  readonly name: string
  readonly send: () => Promise<Response>
}

/** The request scenarios and the apps behind them. */
export interface RequestScenarios {
  readonly scenarios: readonly RequestScenario[]
  close(): Promise<void>
}

function sessionApp(engine: SessionEngine) {
  return new Elysia()
    .use(session({ secret: BENCH_SECRET, engine }))
    .get('/increment', ({ session }) => {
      const count = (session.intOrNull('count') ?? 0) + 1
      session.int('count', count)
      return count
    })
    .get('/read', ({ session }) => {
      // A `let`, so the source returns no call: Elysia compiles a handler that does as async (bench/README.md).
      let count = session.intOrNull('count')
      count ??= 0
      return count
    })
    .get('/new', ({ session }) => {
      session.int('count', 1)
      return 1
    })
    .get('/unused', () => 1)
}

/** `sessionApp`'s counter routes, declared with the benchmarks' three-key schema and kept with get/set. */
function typedSessionApp(engine: SessionEngine) {
  return new Elysia()
    .use(session({ secret: BENCH_SECRET, engine, schema: benchSchema }))
    .get('/increment', ({ session }) => {
      session.set('counter', session.get('counter') + 1)
      return session.get('counter')
    })
    .get('/read', ({ session }) => {
      let counter = session.get('counter')
      counter += 0
      return counter
    })
}

/**
 * Bare Elysia against the plugin on the memory engine: a (read and increment an existing session), b (read it
 * only), c (a request without a cookie that writes a new session), d (no cookie, the handler ignores the session);
 * then a and b again with a three-key schema, and a, b and c on the hand-written session.
 * Each scenario is checked once before it is returned, so a benchmark never measures a broken path.
 */
export async function openRequestScenarios(): Promise<RequestScenarios> {
  const bare = new Elysia().get('/plain', () => 1)
  const engine = memoryEngine()
  const app = sessionApp(engine)
  const freshEngine = memoryEngine()
  const fresh = sessionApp(freshEngine)

  const first = await app.handle(new Request(`${ORIGIN}/increment`))
  const cookie = first.headers.getSetCookie()[0]?.split(';')[0]
  if (!cookie?.startsWith('sessid=')) throw new Error('the plugin did not set a session cookie')
  const headers = { cookie }
  let made = 0
  const typed = typedSessionApp(memoryEngine())
  const typedCookie = (await typed.handle(new Request(`${ORIGIN}/increment`))).headers.getSetCookie()[0]?.split(';')[0]
  if (!typedCookie?.startsWith('sessid=')) throw new Error('the plugin with a schema did not set a session cookie')
  const typedHeaders = { cookie: typedCookie }
  const handwritten = handwrittenApp(BENCH_SECRET)
  const handwrittenCookie = (await handwritten.app.handle(new Request(`${ORIGIN}/a`))).headers
    .getSetCookie()[0]
    ?.split(';')[0]
  if (!handwrittenCookie?.startsWith('sessid=')) throw new Error('the hand-written session set no session cookie')
  const handwrittenHeaders = { cookie: handwrittenCookie }
  let handwrittenMade = 0

  const scenarios: RequestScenario[] = [
    {
      key: 'bare',
      name: 'bare Elysia (same cookie header)',
      send: () => bare.handle(new Request(`${ORIGIN}/plain`, { headers })),
    },
    {
      key: 'a',
      name: 'a: read + increment',
      send: () => app.handle(new Request(`${ORIGIN}/increment`, { headers })),
    },
    {
      key: 'b',
      name: 'b: read only',
      send: () => app.handle(new Request(`${ORIGIN}/read`, { headers })),
    },
    {
      key: 'c',
      name: 'c: new session',
      async send() {
        if (++made % NEW_SESSIONS_KEPT === 0) await freshEngine.deleteAll()
        return fresh.handle(new Request(`${ORIGIN}/new`))
      },
    },
    {
      key: 'd',
      name: 'd: no cookie, session unused',
      send: () => app.handle(new Request(`${ORIGIN}/unused`)),
    },
    {
      key: 'sa',
      name: 'a with a three-key schema',
      send: () => typed.handle(new Request(`${ORIGIN}/increment`, { headers: typedHeaders })),
    },
    {
      key: 'sb',
      name: 'b with a three-key schema',
      send: () => typed.handle(new Request(`${ORIGIN}/read`, { headers: typedHeaders })),
    },
    {
      key: 'ha',
      name: 'a on the hand-written session',
      send: () => handwritten.app.handle(new Request(`${ORIGIN}/a`, { headers: handwrittenHeaders })),
    },
    {
      key: 'hb',
      name: 'b on the hand-written session',
      send: () => handwritten.app.handle(new Request(`${ORIGIN}/b`, { headers: handwrittenHeaders })),
    },
    {
      key: 'hc',
      name: 'c on the hand-written session',
      send() {
        // As in c: only the first session (the one a and b use) stays for good.
        if (++handwrittenMade % NEW_SESSIONS_KEPT === 0) {
          for (const id of [...handwritten.sessions.keys()].slice(1)) handwritten.sessions.delete(id)
        }
        return handwritten.app.handle(new Request(`${ORIGIN}/c`))
      },
    },
  ]

  await checkScenarios(scenarios)
  return {
    scenarios,
    async close() {
      await app.decorator.sessions.close()
      await fresh.decorator.sessions.close()
      await typed.decorator.sessions.close()
    },
  }
}

/**
 * Sends each scenario twice and checks what it did, so a benchmark never measures a broken path: a increments the
 * counter, b reads it without changing it, c sets a new session cookie, bare and d set none.
 */
async function checkScenarios(scenarios: readonly RequestScenario[]): Promise<void> {
  for (const scenario of scenarios) {
    const answers: { status: number; body: string; setsCookie: boolean }[] = []
    for (let round = 0; round < 2; round++) {
      const response = await scenario.send()
      const setsCookie = response.headers.getSetCookie().some((header) => header.startsWith('sessid='))
      answers.push({ status: response.status, body: await response.text(), setsCookie })
    }
    const [first, second] = answers as [(typeof answers)[0], (typeof answers)[0]]
    const expected: Record<string, boolean> = {
      bare: !first.setsCookie && first.body === '1',
      a: Number(second.body) === Number(first.body) + 1,
      b: Number(first.body) > 0 && second.body === first.body,
      sa: Number(second.body) === Number(first.body) + 1,
      sb: Number(first.body) > 0 && second.body === first.body,
      ha: Number(second.body) === Number(first.body) + 1,
      hb: Number(first.body) > 0 && second.body === first.body,
      c: first.setsCookie && second.setsCookie,
      hc: first.setsCookie && second.setsCookie && first.body === '1',
      d: !first.setsCookie && first.body === '1',
    }
    if (first.status !== 200 || second.status !== 200 || expected[scenario.key] !== true) {
      throw new Error(`scenario ${scenario.name} does not behave as expected: ${JSON.stringify(answers)}`)
    }
  }
}
