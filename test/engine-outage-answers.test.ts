import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { type EngineErrorMode, type SessionEngine, type SessionLogger, session } from 'elysia-sessions'
import { cookiePairOf, SECRET, SILENT_LOGGER, send, setCookieOf } from './support/http.js'
import { closeProxiedStore, PROXIED_ENGINES, type ProxiedStore } from './support/proxied-engines.js'
import { testService } from './support/services.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

/** Short, so a cut connection fails requests fast. */
const OPERATION_TIMEOUT = 500

/** Answers within a few seconds once the server is reachable again; the same engine, never a new one. */
async function eventuallyAnswers(app: { handle(request: Request): Promise<Response> }, cookie: string) {
  const deadline = performance.now() + 5_000
  for (;;) {
    const response = await send(app, '/name', { cookie })
    if (response.status === 200 || performance.now() > deadline) return response
    await Bun.sleep(50)
  }
}

for (const networked of PROXIED_ENGINES) {
  const service = testService(networked.variable, `${networked.name} engine outages answered safely`)
  describe.skipIf(!service.url)(service.label, () => {
    let proxy: TcpProxy
    let store: ProxiedStore
    let engine: SessionEngine

    beforeAll(async () => {
      const url = service.url as string
      proxy = await startTcpProxy(Number(new URL(url).port))
      store = await networked.open(url, proxy.port, { label: 'outage', operationTimeout: OPERATION_TIMEOUT })
      engine = store.engine
    })

    afterAll(() => closeProxiedStore(proxy, store))

    function appFor(onEngineError: EngineErrorMode, logger: SessionLogger = SILENT_LOGGER) {
      return (
        new Elysia()
          .use(session({ secret: SECRET, engine, onEngineError, logger, gcInterval: 0, touchInterval: 0 }))
          .get('/set', ({ session }) => {
            session.string('name', 'Ada')
            return 'set'
          })
          // The server goes away after the session was loaded: the commit (or, for a read, the touch) is what fails.
          .get('/cut-then-set', async ({ session }) => {
            await proxy.cut()
            session.string('name', 'Grace')
            return 'set'
          })
          .get('/cut-then-read', async ({ session }) => {
            await proxy.cut()
            return session.stringOrNull('name') ?? 'nobody'
          })
          .get('/name', ({ session }) =>
            session.available ? (session.stringOrNull('name') ?? 'nobody') : 'unavailable',
          )
      )
    }

    test("'fail': a cut connection answers 503 with the generic body, keeps the cookie, and recovers", async () => {
      const app = appFor('fail')
      const cookie = cookiePairOf(await send(app, '/set')) as string
      await proxy.cut()
      try {
        const started = performance.now()
        const failed = await send(app, '/name', { cookie })
        expect(performance.now() - started).toBeLessThan(OPERATION_TIMEOUT + 1_000)
        expect(failed.status).toBe(503)
        const body = await failed.text()
        expect(body).toBe('Session engine failed to load a session')
        expect(body).not.toContain('127.0.0.1')
        expect(setCookieOf(failed)).toBeUndefined()
      } finally {
        await proxy.restore()
      }
      const back = await eventuallyAnswers(app, cookie)
      expect([back.status, await back.text()]).toEqual([200, 'Ada'])
    })

    test('a commit cut off after the load answers 503 with the generic body, and the stored session is unchanged', async () => {
      const app = appFor('fail')
      const cookie = cookiePairOf(await send(app, '/set')) as string
      try {
        const failed = await send(app, '/cut-then-set', { cookie })
        expect(failed.status).toBe(503)
        expect(await failed.text()).toBe('Session engine failed to commit a session')
        expect(setCookieOf(failed)).toBeUndefined()
      } finally {
        await proxy.restore()
      }
      const back = await eventuallyAnswers(app, cookie)
      expect([back.status, await back.text()]).toEqual([200, 'Ada'])
    })

    test('a touch cut off after the load is logged, and the read answers as usual', async () => {
      const logged: string[] = []
      const app = appFor('fail', { error: (message) => logged.push(message), warn() {} })
      const cookie = cookiePairOf(await send(app, '/set')) as string
      try {
        const read = await send(app, '/cut-then-read', { cookie })
        expect([read.status, await read.text()]).toEqual([200, 'Ada'])
        expect(setCookieOf(read)).toBeUndefined()
        expect(logged).toEqual([expect.stringContaining('session engine failed to touch a session')])
      } finally {
        await proxy.restore()
      }
    })

    test("'continue': a cut connection runs the request with an unavailable session and refuses its writes", async () => {
      const app = appFor('continue')
      const cookie = cookiePairOf(await send(app, '/set')) as string
      await proxy.cut()
      try {
        const read = await send(app, '/name', { cookie })
        expect([read.status, await read.text()]).toEqual([200, 'unavailable'])
        expect(setCookieOf(read)).toBeUndefined()
        const write = await send(app, '/set', { cookie })
        expect(write.status).toBe(503)
        expect(setCookieOf(write)).toBeUndefined()
      } finally {
        await proxy.restore()
      }
      const back = await eventuallyAnswers(app, cookie)
      expect([back.status, await back.text()]).toEqual([200, 'Ada'])
    })
  })
}
