import { afterEach, describe, expect, setSystemTime, test } from 'bun:test'
import { Elysia, redirect, status, t } from 'elysia'
import { type Session, type SessionEngine, session } from 'elysia-sessions'
import { FEATURE_ENGINES } from './support/engines.js'
import { cookiePairOf, SECRET, send, setCookieOf } from './support/http.js'

const PRIVATE = 'private, no-cache="set-cookie"'

/** The two cache headers of `response`, null where absent. */
function cacheHeadersOf(response: Response) {
  return { vary: response.headers.get('vary'), cacheControl: response.headers.get('cache-control') }
}

for (const [engineName, makeEngine] of FEATURE_ENGINES) {
  describe(`cache headers (${engineName} engine)`, () => {
    const closers: (() => Promise<void>)[] = []

    afterEach(async () => {
      setSystemTime()
      for (const close of closers.splice(0)) await close()
    })

    function appOn(engine: SessionEngine) {
      const app = new Elysia()
        .use(session({ secret: SECRET, engine, timeout: 60_000, touchInterval: 10_000, gcInterval: 0 }))
        .get('/set', ({ session }) => {
          session.int('n', 1)
          return 'set'
        })
        .get('/peek', ({ session }) => String(session.intOrNull('n')))
        .get('/ignore', () => 'ignores the session')
        .get('/object', ({ session }) => ({ n: session.intOrNull('n') }))
        .get('/destroy', async ({ session }) => {
          await session.destroy()
          return 'bye'
        })
        .get('/app-vary/:vary', ({ session, set, params }) => {
          set.headers.vary = decodeURIComponent(params.vary)
          return String(session.intOrNull('n'))
        })
        .get('/app-vary-then-set', ({ session, set }) => {
          set.headers.vary = 'Accept-Encoding'
          session.int('n', 2)
          return 'set'
        })
        .get('/app-cache-control', ({ session, set }) => {
          set.headers['cache-control'] = 'no-store'
          session.int('n', 2)
          return 'set'
        })
        .get('/app-cache-control-capitalized', ({ session, set }) => {
          set.headers['Cache-Control'] = 'no-store'
          session.int('n', 2)
          return 'set'
        })
        .get('/response', ({ session }) => {
          session.int('n', 3)
          return new Response('raw', {
            headers: { vary: 'Accept-Encoding', 'cache-control': 'public, max-age=60' },
          })
        })
        .get('/async-response', async ({ session }) => {
          await Bun.sleep(1)
          session.int('n', 3)
          return new Response('raw', { headers: { Vary: 'Accept-Encoding' } })
        })
        .get('/response-varying-on-cookie', ({ session }) => {
          session.int('n', 3)
          return new Response('raw', { headers: { vary: 'Accept-Encoding, COOKIE' } })
        })
        .get('/plain-response', ({ session }) => {
          session.int('n', 3)
          return new Response('raw')
        })
        .get('/read-response', ({ session }) => new Response(String(session.intOrNull('n'))))
        .get('/redirect', ({ session }) => {
          session.int('n', 4)
          return redirect('/peek')
        })
        .get('/status', ({ session }) => {
          session.int('n', 5)
          return status(418, 'teapot')
        })
        .get('/throw', ({ session }) => {
          session.int('n', 6)
          throw new Error('handler failed')
        })
        .get('/thrown-status', ({ session }) => {
          session.int('n', 7)
          throw status(409, 'conflict')
        })
        .get('/read-then-throw', ({ session }) => {
          session.intOrNull('n')
          throw new Error('handler failed')
        })
        .get('/off', () => 'no session here', { session: false })
        .get(
          '/off-throws',
          () => {
            throw new Error('failed without a session')
          },
          { session: false },
        )
        .post('/validated', ({ body }) => String(body.n), { body: t.Object({ n: t.Number() }) })
      closers.push(() => app.decorator.sessions.close())
      return app
    }

    async function appWithSession() {
      const app = appOn(await makeEngine())
      const pair = cookiePairOf(await send(app, '/set'))
      expect(pair).toBeDefined()
      return { app, pair }
    }

    describe('requests without the session cookie', () => {
      test('a response that sends no cookie gets neither header', async () => {
        const app = appOn(await makeEngine())
        for (const path of ['/peek', '/ignore', '/object', '/read-response']) {
          expect(cacheHeadersOf(await send(app, path))).toEqual({ vary: null, cacheControl: null })
        }
      })

      test('a response that sends a new session cookie varies on Cookie and is private', async () => {
        const app = appOn(await makeEngine())
        const response = await send(app, '/set')
        expect(setCookieOf(response)).toBeDefined()
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: PRIVATE })
      })
    })

    describe('requests that carry the session cookie', () => {
      test('a response that sends no cookie varies on Cookie and keeps its Cache-Control as it was', async () => {
        const { app, pair } = await appWithSession()
        for (const path of ['/peek', '/ignore', '/object', '/read-response']) {
          const response = await send(app, path, { cookie: pair })
          expect(response.headers.getSetCookie()).toEqual([])
          expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: null })
        }
      })

      test('a response that slides the expiry re-sends the cookie and is private', async () => {
        setSystemTime(1_900_000_000_000)
        const { app, pair } = await appWithSession()
        setSystemTime(1_900_000_000_000 + 10_000)
        const response = await send(app, '/peek', { cookie: pair })
        expect(cookiePairOf(response)).toBe(pair!)
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: PRIVATE })
      })

      test('a response that clears the cookie (destroy) varies on Cookie and is private', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/destroy', { cookie: pair })
        expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: PRIVATE })
      })

      test('a response that clears a cookie naming no session varies on Cookie and is private', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/peek', { cookie: `${pair!.slice(0, -2)}xx` })
        expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: PRIVATE })
      })

      test('a failed request that only read the session varies on Cookie', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/read-then-throw', { cookie: pair })
        expect(response.status).toBe(500)
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: null })
      })
    })

    describe("the app's own headers", () => {
      test('Cookie is appended to a Vary the app set', async () => {
        const { app, pair } = await appWithSession()
        const read = await send(app, '/app-vary/Accept-Encoding', { cookie: pair })
        expect(read.headers.get('vary')).toBe('Accept-Encoding, Cookie')
        const written = await send(app, '/app-vary-then-set')
        expect(cacheHeadersOf(written)).toEqual({ vary: 'Accept-Encoding, Cookie', cacheControl: PRIVATE })
      })

      test('a Vary that already lists Cookie (in any case) or is * is left as it is', async () => {
        const { app, pair } = await appWithSession()
        for (const vary of ['cookie', 'Origin, COOKIE', '*']) {
          const response = await send(app, `/app-vary/${encodeURIComponent(vary)}`, { cookie: pair })
          expect(response.headers.get('vary')).toBe(vary)
        }
      })

      test('a Cache-Control the app set is kept, in whatever case it named the header', async () => {
        const app = appOn(await makeEngine())
        for (const path of ['/app-cache-control', '/app-cache-control-capitalized']) {
          const response = await send(app, path)
          expect(setCookieOf(response)).toBeDefined()
          expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: 'no-store' })
        }
      })
    })

    describe('every way a handler answers', () => {
      test('a returned Response keeps its Cache-Control and gets Cookie appended to its own Vary', async () => {
        const app = appOn(await makeEngine())
        for (const path of ['/response', '/async-response']) {
          const response = await send(app, path)
          expect(setCookieOf(response)).toBeDefined()
          expect(response.headers.get('vary')).toBe('Accept-Encoding, Cookie')
        }
        expect((await send(app, '/response')).headers.get('cache-control')).toBe('public, max-age=60')
        expect((await send(app, '/async-response')).headers.get('cache-control')).toBe(PRIVATE)
      })

      test("an app's onError that answers with its own Response gets Cookie appended to that Response's Vary", async () => {
        const engine = await makeEngine()
        const answerFailures = ({ set }: { set: { status?: number | string } }) => {
          set.status = 503
          return new Response('custom error', { headers: { vary: 'Origin' } })
        }
        const failing = ({ session }: { session: Session }) => {
          session.int('n', 1)
          throw new Error('handler failed')
        }
        const apps = {
          'declared after session()': new Elysia()
            .use(session({ secret: SECRET, engine, gcInterval: 0 }))
            .onError(answerFailures)
            .get('/throw', failing),
          'declared before session()': new Elysia()
            .onError(answerFailures)
            .use(session({ secret: SECRET, engine, gcInterval: 0 }))
            .get('/throw', failing),
        }
        for (const [order, app] of Object.entries(apps)) {
          const response = await send(app, '/throw')
          expect({ order, body: await response.text(), cookieSent: setCookieOf(response) !== undefined }).toEqual({
            order,
            body: 'custom error',
            cookieSent: true,
          })
          expect({ order, ...cacheHeadersOf(response) }).toEqual({
            order,
            vary: 'Origin, Cookie',
            cacheControl: PRIVATE,
          })
        }
        closers.push(() => engine.close())
      })

      test('a returned Response whose Vary lists Cookie keeps it unchanged', async () => {
        const response = await send(appOn(await makeEngine()), '/response-varying-on-cookie')
        expect(response.headers.get('vary')).toBe('Accept-Encoding, COOKIE')
      })

      const answers: [string, number][] = [
        ['/plain-response', 200],
        ['/redirect', 302],
        ['/status', 418],
        ['/throw', 500],
        ['/thrown-status', 409],
      ]
      for (const [path, expectedStatus] of answers) {
        test(`${path} that sends the cookie varies on Cookie and is private`, async () => {
          const response = await send(appOn(await makeEngine()), path)
          expect(response.status).toBe(expectedStatus)
          expect(setCookieOf(response)).toBeDefined()
          expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: PRIVATE })
        })
      }
    })

    describe('responses the plugin leaves alone', () => {
      test('a route with { session: false } gets no cache headers, even when the request carries the cookie', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/off', { cookie: pair })
        expect(await response.text()).toBe('no session here')
        expect(cacheHeadersOf(response)).toEqual({ vary: null, cacheControl: null })
      })

      test('a { session: false } route that throws gets no cache headers either', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/off-throws', { cookie: pair })
        expect(response.status).toBe(500)
        expect(cacheHeadersOf(response)).toEqual({ vary: null, cacheControl: null })
      })
    })

    describe('error responses before the session is loaded', () => {
      test('a 404 to a request that carried the cookie varies on Cookie', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/no-such-route', { cookie: pair })
        expect(response.status).toBe(404)
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: null })
      })

      test('a body that fails validation, sent with the cookie, gets a response that varies on Cookie', async () => {
        const { app, pair } = await appWithSession()
        const response = await send(app, '/validated', { cookie: pair, method: 'POST', json: { n: 'not a number' } })
        expect(response.status).toBe(422)
        expect(cacheHeadersOf(response)).toEqual({ vary: 'Cookie', cacheControl: null })
      })

      test('a 404 or a failed validation without the cookie gets no cache headers', async () => {
        const app = appOn(await makeEngine())
        expect(cacheHeadersOf(await send(app, '/no-such-route'))).toEqual({ vary: null, cacheControl: null })
        const invalid = await send(app, '/validated', { method: 'POST', json: { n: 'x' } })
        expect(invalid.status).toBe(422)
        expect(cacheHeadersOf(invalid)).toEqual({ vary: null, cacheControl: null })
      })
    })
  })
}
