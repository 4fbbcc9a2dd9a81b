import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import {
  csrf,
  type EngineErrorMode,
  memoryEngine,
  type SessionEngine,
  SessionEngineError,
  type SessionLogger,
  type SynchronousCalls,
  session,
} from 'elysia-sessions'
import {
  closingAfterEach,
  cookiePairOf,
  SECRET,
  SILENT_LOGGER,
  send,
  setCookieOf,
  type Writable,
} from './support/http.js'

/** What the engine says when it fails: it names a host and a user, as drivers' messages do. */
const ENGINE_MESSAGE = 'connect ECONNREFUSED 10.0.0.7:6379 (user admin)'

type Method = 'load' | 'commit' | 'touch'

/** The plugin's two ways to call an engine: its promises alone, or its synchronous calls on the request path. */
const ENGINE_CALLS = ['promises', 'synchronous calls'] as const
type EngineCalls = (typeof ENGINE_CALLS)[number]

/** A memory engine whose methods fail while they are listed in `down`, offering synchronous calls or not. */
function flakyEngine(calls: EngineCalls) {
  const engine = memoryEngine()
  const inner = engine.sync as SynchronousCalls
  const down = new Set<Method>()
  const fail = (method: Method) => {
    if (down.has(method)) throw new Error(ENGINE_MESSAGE)
  }
  const flaky: Writable<SessionEngine> = {
    ...engine,
    sync: undefined,
    async load(id, now) {
      fail('load')
      return engine.load(id, now)
    },
    async commit(id, changes, now) {
      fail('commit')
      return engine.commit(id, changes, now)
    },
    async touch(id, expiresAt, now) {
      fail('touch')
      return engine.touch(id, expiresAt, now)
    },
    close: () => engine.close(),
  }
  if (calls === 'synchronous calls') {
    flaky.sync = {
      engine: flaky,
      load(id, now) {
        fail('load')
        return inner.load(id, now)
      },
      commit(id, changes, now) {
        fail('commit')
        return inner.commit(id, changes, now)
      },
      touch(id, expiresAt, now) {
        fail('touch')
        return inner.touch(id, expiresAt, now)
      },
      delete: (id) => inner.delete(id),
    }
  }
  return { engine: flaky as SessionEngine, down }
}

function recordingLogger() {
  const lines: { message: string; cause: unknown }[] = []
  const logger: SessionLogger = {
    error: (message, cause) => lines.push({ message, cause }),
    warn: (message) => lines.push({ message, cause: undefined }),
  }
  return { logger, lines }
}

const opened = closingAfterEach()
const nodeEnv = process.env.NODE_ENV
afterEach(() => {
  process.env.NODE_ENV = nodeEnv
})

function appOn(engine: SessionEngine, options: { onEngineError?: EngineErrorMode; logger?: SessionLogger } = {}) {
  return opened(
    new Elysia()
      .use(session({ secret: SECRET, engine, touchInterval: 0, secure: true, logger: SILENT_LOGGER, ...options }))
      .get('/set', ({ session }) => {
        session.string('name', 'Ada')
        return 'set'
      })
      .get('/name', ({ session }) => ({ available: session.available, name: session.stringOrNull('name') }))
      .get('/flash', ({ flash }) => {
        flash.set('notice', 'hello')
        return 'flashed'
      })
      .get('/health', () => 'ok', { session: false }),
  )
}

/** An app with a session written while the engine worked, and the browser's cookie for it. */
async function signedIn(calls: EngineCalls, options: Parameters<typeof appOn>[1] = {}) {
  const { engine, down } = flakyEngine(calls)
  const app = appOn(engine, options)
  const cookie = cookiePairOf(await send(app, '/set'))
  if (!cookie) throw new Error('no cookie was set')
  return { app, cookie, down }
}

for (const calls of ENGINE_CALLS) {
  describe(`through ${calls}`, () => {
    describe("onEngineError: 'fail' (the default)", () => {
      test.each([
        ['development', 'development'],
        ['production', 'production'],
      ])(
        'a failed load answers 503 with a short generic body, never the engine message (NODE_ENV=%s)',
        async (_, env) => {
          process.env.NODE_ENV = env
          const { app, cookie, down } = await signedIn(calls)
          down.add('load')
          const response = await send(app, '/name', { cookie })
          expect(response.status).toBe(503)
          const body = await response.text()
          expect(body).toBe('Session engine failed to load a session')
          expect(body).not.toContain('10.0.0.7')
          expect(body).not.toContain('admin')
          // No HTML: Elysia sends the message as it is (with no content type, which a browser shows as text).
          expect(response.headers.get('content-type') ?? 'text/plain').toStartWith('text/plain')
        },
      )

      test("the browser's cookie is left as it is, and works again once the engine is back", async () => {
        const { app, cookie, down } = await signedIn(calls)
        down.add('load')
        const failed = await send(app, '/name', { cookie })
        expect(failed.status).toBe(503)
        expect(setCookieOf(failed)).toBeUndefined()
        down.clear()
        expect(await (await send(app, '/name', { cookie })).json()).toEqual({ available: true, name: 'Ada' })
      })

      test('a failed commit answers 503 with a generic body, and sets no cookie', async () => {
        const { engine, down } = flakyEngine(calls)
        const app = appOn(engine)
        down.add('commit')
        const response = await send(app, '/set')
        expect(response.status).toBe(503)
        expect(await response.text()).toBe('Session engine failed to commit a session')
        expect(setCookieOf(response)).toBeUndefined()
      })

      test("an app's own onError after the plugin receives the SessionEngineError with its cause, and answers", async () => {
        const { engine, down } = flakyEngine(calls)
        const seen: unknown[] = []
        const app = opened(
          new Elysia()
            .use(session({ secret: SECRET, engine, logger: SILENT_LOGGER }))
            .onError(({ error }) => {
              seen.push(error)
              if (error instanceof SessionEngineError) {
                return new Response('<h1>Back in a minute</h1>', {
                  status: 503,
                  headers: { 'content-type': 'text/html' },
                })
              }
            })
            .get('/set', ({ session }) => {
              session.int('n', 1)
              return 'set'
            })
            .get('/n', ({ session }) => session.intOrNull('n')),
        )
        const cookie = cookiePairOf(await send(app, '/set'))
        down.add('load')
        const response = await send(app, '/n', { cookie })
        expect(response.status).toBe(503)
        expect(await response.text()).toBe('<h1>Back in a minute</h1>')
        expect(response.headers.get('content-type')).toBe('text/html')
        const error = seen.find((each) => each instanceof SessionEngineError) as SessionEngineError
        expect(error.operation).toBe('load a session')
        expect((error.cause as Error).message).toBe(ENGINE_MESSAGE)
      })

      test('routes with { session: false } answer during an outage', async () => {
        const { app, down } = await signedIn(calls)
        down.add('load')
        down.add('commit')
        expect(await (await send(app, '/health')).text()).toBe('ok')
      })

      test('a failed touch is logged and the response goes out as usual, with the cookie as it was', async () => {
        const { logger, lines } = recordingLogger()
        const { app, cookie, down } = await signedIn(calls, { logger })
        down.add('touch')
        const response = await send(app, '/name', { cookie })
        expect(response.status).toBe(200)
        expect(await response.json()).toEqual({ available: true, name: 'Ada' })
        expect(setCookieOf(response)).toBeUndefined()
        expect(lines).toHaveLength(1)
        expect(lines[0]?.message).toContain('failed to touch a session')
        expect(lines[0]?.message).toContain(ENGINE_MESSAGE)
      })

      test('an outage is logged a burst at a time: the first failure in full, then one line with the count', async () => {
        const { logger, lines } = recordingLogger()
        const { app, cookie, down } = await signedIn(calls, { logger })
        down.add('load')
        for (let request = 0; request < 1_000; request++)
          expect((await send(app, '/name', { cookie })).status).toBe(503)
        expect(lines).toHaveLength(1)
        expect(lines[0]?.message).toBe(
          `elysia-sessions: session engine failed to load a session: ${ENGINE_MESSAGE} (more failures in the next 10 s are counted, not logged)`,
        )
        expect((lines[0]?.cause as Error | undefined)?.message).toBe(ENGINE_MESSAGE)
        // The count of the rest is logged when the burst ends, or when the app stops.
        await app.decorator.sessions.close()
        expect(lines).toHaveLength(2)
        expect(lines[1]?.message).toStartWith('elysia-sessions: 999 more session engine failures in the same burst')
      })
    })

    test('a regenerate that fails half-way leaves the session under its old id: no new cookie, no new record', async () => {
      const { engine, down } = flakyEngine(calls)
      const app = opened(
        new Elysia()
          .use(session({ secret: SECRET, engine, logger: SILENT_LOGGER }))
          .get('/set', ({ session }) => {
            session.string('name', 'Ada')
            return 'set'
          })
          .get('/login', async ({ session }) => {
            await session.regenerate()
            session.string('user', 'ada')
            return 'logged in'
          })
          .get('/who', ({ session }) => `${session.stringOrNull('name')} ${session.stringOrNull('user')}`),
      )
      const cookie = cookiePairOf(await send(app, '/set'))
      // The new id is written, then checking the old one fails.
      down.add('touch')
      const failed = await send(app, '/login', { cookie })
      expect(failed.status).toBe(503)
      expect(setCookieOf(failed)).toBeUndefined()
      down.clear()
      expect(await engine.count(Date.now())).toBe(1)
      expect(await (await send(app, '/who', { cookie })).text()).toBe('Ada null')
    })

    describe("onEngineError: 'continue'", () => {
      test('a request whose session cannot load runs with an unavailable, empty session, and the cookie stays', async () => {
        const { app, cookie, down } = await signedIn(calls, { onEngineError: 'continue' })
        down.add('load')
        const response = await send(app, '/name', { cookie })
        expect(response.status).toBe(200)
        expect(await response.json()).toEqual({ available: false, name: null })
        expect(setCookieOf(response)).toBeUndefined()
        down.clear()
        expect(await (await send(app, '/name', { cookie })).json()).toEqual({ available: true, name: 'Ada' })
      })

      test('writes to an unavailable session throw a SessionEngineError rather than being dropped', async () => {
        const { app, cookie, down } = await signedIn(calls, { onEngineError: 'continue' })
        down.add('load')
        for (const path of ['/set', '/flash']) {
          const response = await send(app, path, { cookie })
          expect(response.status).toBe(503)
          expect(await response.text()).toBe('Session engine failed to load this session, so it cannot be changed')
          expect(setCookieOf(response)).toBeUndefined()
        }
        down.clear()
        expect(await (await send(app, '/name', { cookie })).json()).toEqual({ available: true, name: 'Ada' })
      })

      test('a handler can tell, and catch the refusal', async () => {
        const { engine, down } = flakyEngine(calls)
        const app = opened(
          new Elysia()
            .use(session({ secret: SECRET, engine, onEngineError: 'continue', logger: SILENT_LOGGER }))
            .get('/set', ({ session }) => {
              session.int('n', 1)
              return 'set'
            })
            .get('/visit', ({ session }) => {
              if (!session.available) return 'sessions are down: showing the public page'
              return String(session.int('n'))
            })
            .get('/try', async ({ session }) => {
              try {
                await session.regenerate()
                return 'regenerated'
              } catch (error) {
                return error instanceof SessionEngineError ? 'refused' : 'other'
              }
            }),
        )
        const cookie = cookiePairOf(await send(app, '/set'))
        down.add('load')
        expect(await (await send(app, '/visit', { cookie })).text()).toBe('sessions are down: showing the public page')
        expect(await (await send(app, '/try', { cookie })).text()).toBe('refused')
      })

      test('with csrf(), a form posted during the outage answers 503, not a 403 that calls it forged', async () => {
        const { engine, down } = flakyEngine(calls)
        const app = opened(
          new Elysia()
            .use(session({ secret: SECRET, engine, onEngineError: 'continue', logger: SILENT_LOGGER }))
            .use(csrf())
            .get('/form', ({ csrfToken }) => csrfToken())
            .post('/form', () => 'saved'),
        )
        const page = await send(app, '/form')
        const cookie = cookiePairOf(page)
        const token = await page.text()
        down.add('load')
        const posted = await send(app, '/form', { method: 'POST', cookie, form: { authenticity_token: token } })
        expect(posted.status).toBe(503)
        down.clear()
        expect((await send(app, '/form', { method: 'POST', cookie, form: { authenticity_token: token } })).status).toBe(
          200,
        )
      })

      test('a request whose writes are refused counts as one failure in the log, not two', async () => {
        const { logger, lines } = recordingLogger()
        const { app, cookie, down } = await signedIn(calls, { onEngineError: 'continue', logger })
        down.add('load')
        for (let request = 0; request < 10; request++) expect((await send(app, '/set', { cookie })).status).toBe(503)
        await app.decorator.sessions.close()
        expect(lines.map((line) => line.message)).toEqual([
          expect.stringContaining('failed to load a session'),
          expect.stringMatching(/^elysia-sessions: 9 more session engine failures/),
        ])
      })

      test('the failed load is logged, rate-limited, with its cause', async () => {
        const { logger, lines } = recordingLogger()
        const { app, cookie, down } = await signedIn(calls, { onEngineError: 'continue', logger })
        down.add('load')
        for (let request = 0; request < 50; request++) await send(app, '/name', { cookie })
        expect(lines).toHaveLength(1)
        expect((lines[0]?.cause as Error | undefined)?.message).toBe(ENGINE_MESSAGE)
      })

      test('a request without a cookie, or with a forged one, never reaches the engine and is not affected', async () => {
        const { app, down } = await signedIn(calls, { onEngineError: 'continue' })
        down.add('load')
        expect(await (await send(app, '/name')).json()).toEqual({ available: true, name: null })
        const forged = `sessid=${'A'.repeat(32)}.${'B'.repeat(43)}`
        expect(await (await send(app, '/name', { cookie: forged })).json()).toEqual({ available: true, name: null })
      })
    })
  })
}

test('onEngineError must be fail or continue', () => {
  expect(() => session({ secret: SECRET, onEngineError: 'retry' as never })).toThrow(
    "onEngineError must be 'fail' or 'continue', got \"retry\"",
  )
})
