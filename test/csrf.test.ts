import { describe, expect, test } from 'bun:test'
import { type AnyElysia, Elysia, t } from 'elysia'
import {
  type CsrfOptions,
  type CsrfRefusal,
  csrf,
  Session,
  SessionConfigError,
  type SessionOptions,
  session,
} from 'elysia-sessions'
import { FEATURE_ENGINES } from './support/engines.js'
import {
  closingAfterEach,
  cookiePairOf,
  type Handler,
  type Outgoing,
  SECRET,
  send,
  setCookieOf,
} from './support/http.js'

const FORBIDDEN = {
  origin: 'Forbidden: cross-origin request',
  missing: 'Forbidden: missing CSRF token',
  invalid: 'Forbidden: invalid CSRF token',
} as const

const opened = closingAfterEach()

/** Sends a POST unless `outgoing` says otherwise: most requests here are ones that csrf() checks. */
function post(app: Handler, path: string, outgoing: Outgoing = {}): Promise<Response> {
  return send(app, path, { method: 'POST', ...outgoing })
}

/** A visitor's session cookie and a token for it, as a page with a form would hand them out. */
async function visit(app: Handler, cookie?: string): Promise<{ cookie: string; token: string }> {
  const response = await send(app, '/token', { cookie })
  expect(response.status).toBe(200)
  const pair = cookiePairOf(response) ?? cookie
  if (!pair) throw new Error('no session cookie')
  return { cookie: pair, token: await response.text() }
}

async function expectRefused(response: Response, reason: CsrfRefusal): Promise<void> {
  expect(await response.text()).toBe(FORBIDDEN[reason])
  expect(response.status).toBe(403)
  expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
}

describe.each(FEATURE_ENGINES)('csrf() on the %s engine', (_, makeEngine) => {
  /** An app with session() and csrf(); `ran` lists the handlers that ran. */
  async function protectedApp(csrfOptions: CsrfOptions = {}, sessionOptions: Partial<SessionOptions> = {}) {
    const ran: string[] = []
    const app = opened(
      new Elysia()
        .use(session({ secret: SECRET, engine: await makeEngine(), ...sessionOptions }))
        .use(csrf(csrfOptions))
        .get('/token', ({ csrfToken }) => csrfToken())
        .get('/page', () => {
          ran.push('page')
          return 'page'
        })
        .post('/submit', () => {
          ran.push('POST')
          return 'done'
        })
        .put('/submit', () => {
          ran.push('PUT')
          return 'done'
        })
        .patch('/submit', () => {
          ran.push('PATCH')
          return 'done'
        })
        .delete('/submit', () => {
          ran.push('DELETE')
          return 'done'
        })
        .route('PROPFIND', '/submit', () => {
          ran.push('PROPFIND')
          return 'done'
        })
        .options('/submit', () => {
          ran.push('OPTIONS')
          return 'options'
        })
        .route('TRACE', '/submit', () => {
          ran.push('TRACE')
          return 'trace'
        })
        .post('/echo', ({ body }) => JSON.stringify(body))
        .post('/named', ({ body }) => `name:${body.name}:${Object.keys(body)}`, {
          body: t.Object({ name: t.String() }),
        })
        .post('/raw-form', async ({ request }) => String((await request.formData()).get('note')))
        .post('/raw-text', async ({ request }) => request.text())
        .post('/login', async ({ session }) => {
          await session.regenerate()
          session.string('user', 'ada')
          return 'in'
        })
        .post('/reset', async ({ session, csrfToken }) => {
          await session.reset()
          return csrfToken()
        })
        .post('/logout', async ({ session, csrfToken }) => {
          await session.destroy()
          return csrfToken()
        })
        .post('/webhooks/stripe', async ({ request }) => `hook:${await request.text()}`)
        .post('/webhooks', () => 'webhooks root')
        .post('/webhooksX', () => 'webhooksX')
        .post('/off', () => 'off', { csrf: false })
        .post('/on', () => 'on', { csrf: true })
        .group('/open', { csrf: false }, (group) => group.post('/inside', () => 'inside'))
        .post('/sessionless', () => 'sessionless', { session: false })
        .post('/sessionless-exempt', () => 'exempt', { session: false, csrf: false }),
    )
    return { app, ran }
  }

  describe('reading pages', () => {
    test('a GET creates no session and sends no cookie', async () => {
      const { app, ran } = await protectedApp()
      const response = await send(app, '/page')
      expect(await response.text()).toBe('page')
      expect(ran).toEqual(['page'])
      expect(response.headers.getSetCookie()).toEqual([])
      expect(await app.decorator.sessions.count()).toBe(0)
    })

    test('HEAD, OPTIONS and TRACE are allowed without a token', async () => {
      const { app, ran } = await protectedApp()
      expect((await post(app, '/page', { method: 'HEAD' })).status).toBe(200)
      expect(await (await post(app, '/submit', { method: 'OPTIONS' })).text()).toBe('options')
      expect(await (await post(app, '/submit', { method: 'TRACE' })).text()).toBe('trace')
      expect(ran).toEqual(['page', 'OPTIONS', 'TRACE'])
    })

    test('csrfToken() stores a session and sends its cookie', async () => {
      const { app } = await protectedApp()
      const response = await send(app, '/token')
      expect(setCookieOf(response)).toBeDefined()
      expect(await app.decorator.sessions.count()).toBe(1)
    })

    test('csrfToken() on a session that has its secret writes nothing and sends no cookie', async () => {
      const { app } = await protectedApp()
      const { cookie } = await visit(app)
      const again = await send(app, '/token', { cookie })
      expect(await again.text()).toMatch(/^[A-Za-z0-9_-]{86}$/)
      expect(again.headers.getSetCookie()).toEqual([])
    })
  })

  describe('refused requests', () => {
    test.each(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND'])(
      '%s without a token gets a 403 and the handler does not run',
      async (method) => {
        const { app, ran } = await protectedApp()
        const { cookie } = await visit(app)
        await expectRefused(await post(app, '/submit', { method, cookie }), 'missing')
        expect(ran).toEqual([])
      },
    )

    test('a refused request of a visitor without a session creates none and sends no cookie', async () => {
      const { app, ran } = await protectedApp()
      const response = await post(app, '/submit', { form: { authenticity_token: 'x'.repeat(86) } })
      await expectRefused(response, 'invalid')
      expect(response.headers.getSetCookie()).toEqual([])
      expect(await app.decorator.sessions.count()).toBe(0)
      expect(ran).toEqual([])
    })

    test('the session plugin still finishes a refused request (a due touch re-sends the cookie)', async () => {
      const { app } = await protectedApp({}, { touchInterval: 0 })
      const { cookie } = await visit(app)
      await Bun.sleep(5)
      const response = await post(app, '/submit', { cookie })
      await expectRefused(response, 'missing')
      expect(setCookieOf(response)).toBeDefined()
    })

    test('a body without a token field, or of a type that cannot carry one, means a missing token', async () => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      await expectRefused(await post(app, '/submit', { cookie, form: { note: 'hi' } }), 'missing')
      await expectRefused(await post(app, '/submit', { cookie, json: [token] }), 'missing')
      await expectRefused(await post(app, '/submit', { cookie, json: 'not an object' }), 'missing')
      await expectRefused(await post(app, '/submit', { cookie, text: `authenticity_token=${token}` }), 'missing')
      await expectRefused(await post(app, '/submit', { cookie, headers: { 'x-csrf-token': '' } }), 'missing')
    })

    test.each([
      ['tampered', (token: string) => `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`],
      ['short', (token: string) => token.slice(0, 40)],
      ['garbage', () => 'not a token at all'],
      ['the unmasked secret', () => 'A'.repeat(43)],
    ])('a %s token is invalid', async (_, mangle) => {
      const { app, ran } = await protectedApp()
      const { cookie, token } = await visit(app)
      await expectRefused(await post(app, '/submit', { cookie, headers: { 'x-csrf-token': mangle(token) } }), 'invalid')
      await expectRefused(
        await post(app, '/submit', { cookie, form: { authenticity_token: mangle(token) } }),
        'invalid',
      )
      expect(ran).toEqual([])
    })

    test('a JSON token that is not a string is invalid', async () => {
      const { app } = await protectedApp()
      const { cookie } = await visit(app)
      await expectRefused(await post(app, '/submit', { cookie, json: { authenticity_token: 42 } }), 'invalid')
    })

    test.each(['/submit', '/echo', '/named'])('a multipart token that is a file is invalid on %s', async (path) => {
      const { app, ran } = await protectedApp()
      const { cookie, token } = await visit(app)
      const file = new File([token], 'token.txt', { type: 'text/plain' })
      const multipart = { name: 'ada', authenticity_token: file }
      await expectRefused(await post(app, path, { cookie, multipart }), 'invalid')
      expect(ran).toEqual([])
    })

    test("another session's token is invalid", async () => {
      const { app, ran } = await protectedApp()
      const mine = await visit(app)
      const theirs = await visit(app)
      const response = await post(app, '/submit', { cookie: mine.cookie, headers: { 'x-csrf-token': theirs.token } })
      await expectRefused(response, 'invalid')
      expect(ran).toEqual([])
    })

    test('a token without its session cookie is invalid', async () => {
      const { app } = await protectedApp()
      const { token } = await visit(app)
      await expectRefused(await post(app, '/submit', { headers: { 'x-csrf-token': token } }), 'invalid')
    })
  })

  describe('accepted tokens', () => {
    test('in the x-csrf-token header', async () => {
      const { app, ran } = await protectedApp()
      const { cookie, token } = await visit(app)
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND']) {
        const response = await post(app, '/submit', { method, cookie, headers: { 'x-csrf-token': token } })
        expect(await response.text()).toBe('done')
      }
      expect(ran).toEqual(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND'])
    })

    test.each([
      ['a urlencoded form field', (token: string): Outgoing => ({ form: { note: 'hi', authenticity_token: token } })],
      [
        'a multipart form field',
        (token: string): Outgoing => ({ multipart: { note: 'hi', authenticity_token: token } }),
      ],
      ['a JSON body field', (token: string): Outgoing => ({ json: { note: 'hi', authenticity_token: token } })],
    ])('in %s, whether or not the handler reads the body', async (_, bodyWith) => {
      const { app, ran } = await protectedApp()
      const { cookie, token } = await visit(app)
      expect(await (await post(app, '/submit', { cookie, ...bodyWith(token) })).text()).toBe('done')
      expect(ran).toEqual(['POST'])
      const echoed = await post(app, '/echo', { cookie, ...bodyWith(token) })
      expect(JSON.parse(await echoed.text())).toMatchObject({ note: 'hi' })
    })

    test.each([
      ['urlencoded', (token: string): Outgoing => ({ form: { name: 'ada', authenticity_token: token } })],
      ['multipart', (token: string): Outgoing => ({ multipart: { name: 'ada', authenticity_token: token } })],
      ['JSON', (token: string): Outgoing => ({ json: { name: 'ada', authenticity_token: token } })],
    ])('in a %s body on a route whose body schema does not name the token field', async (_, bodyWith) => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      expect(await (await post(app, '/named', { cookie, ...bodyWith(token) })).text()).toBe('name:ada:name')
      await expectRefused(await post(app, '/named', { cookie, ...bodyWith('x'.repeat(86)) }), 'invalid')
    })

    test('in a JSON body of a +json media type, whether or not the handler reads the body', async () => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      const json = { name: 'ada', authenticity_token: token }
      const contentType = 'application/vnd.api+json'
      expect(await (await post(app, '/submit', { cookie, json, contentType })).text()).toBe('done')
      expect((await post(app, '/echo', { cookie, json, contentType })).status).toBe(200)
    })

    test('in a form whose handler reads the request itself, which it still can', async () => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      for (const body of [
        { form: { note: 'hi', authenticity_token: token } },
        { multipart: { note: 'hi', authenticity_token: token } },
      ]) {
        expect(await (await post(app, '/raw-form', { cookie, ...body })).text()).toBe('hi')
      }
    })

    test('the header wins over the body', async () => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      const withGoodHeader = { cookie, headers: { 'x-csrf-token': token }, form: { authenticity_token: 'bad' } }
      expect(await (await post(app, '/submit', withGoodHeader)).text()).toBe('done')
      const withBadHeader = { cookie, headers: { 'x-csrf-token': 'bad' }, form: { authenticity_token: token } }
      await expectRefused(await post(app, '/submit', withBadHeader), 'invalid')
    })

    test('two tokens of one session differ and both verify, again and again', async () => {
      const { app } = await protectedApp()
      const first = await visit(app)
      const second = await visit(app, first.cookie)
      expect(second.cookie).toBe(first.cookie)
      expect(second.token).not.toBe(first.token)
      for (const token of [first.token, second.token, first.token]) {
        const response = await post(app, '/submit', { cookie: first.cookie, headers: { 'x-csrf-token': token } })
        expect(await response.text()).toBe('done')
      }
    })
  })

  describe('the origin check', () => {
    test.each([
      ['a cross-site Origin', { origin: 'https://evil.example' }],
      ['Origin: null', { origin: 'null' }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['another port of the same host', { origin: 'http://localhost:8080' }],
      ['another scheme of the same host', { origin: 'https://localhost' }],
      ['an Origin that only starts like the own one', { origin: 'http://local' }],
      ['an Origin that extends the own host', { origin: 'http://localhost.evil.example' }],
      [
        'a same-origin Origin with a cross-site Sec-Fetch-Site',
        { origin: 'http://localhost', 'sec-fetch-site': 'cross-site' },
      ],
    ])('%s is refused even with a valid token', async (_, headers) => {
      const { app, ran } = await protectedApp()
      const { cookie, token } = await visit(app)
      await expectRefused(
        await post(app, '/submit', { cookie, headers: { ...headers, 'x-csrf-token': token } }),
        'origin',
      )
      expect(ran).toEqual([])
    })

    test('the origin is checked before the token', async () => {
      const { app } = await protectedApp()
      await expectRefused(await post(app, '/submit', { headers: { origin: 'https://evil.example' } }), 'origin')
    })

    test.each([
      ['a same-origin Origin', { origin: 'http://localhost' }],
      ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
      ['Sec-Fetch-Site: none (typed by the user)', { 'sec-fetch-site': 'none' }],
      ['both, same-origin', { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' }],
    ])('%s with a valid token is accepted', async (_, headers) => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      const response = await post(app, '/submit', { cookie, headers: { ...headers, 'x-csrf-token': token } })
      expect(await response.text()).toBe('done')
    })

    test('a trusted origin is accepted (the public origin behind a proxy), others still refused', async () => {
      const { app } = await protectedApp({ trustedOrigins: ['https://app.example.com', 'http://localhost:3000'] })
      const { cookie, token } = await visit(app)
      for (const origin of ['https://app.example.com', 'http://localhost:3000']) {
        const response = await post(app, '/submit', { cookie, headers: { origin, 'x-csrf-token': token } })
        expect(await response.text()).toBe('done')
      }
      const other = await post(app, '/submit', {
        cookie,
        headers: { origin: 'https://example.com', 'x-csrf-token': token },
      })
      await expectRefused(other, 'origin')
    })

    test('a trusted origin is accepted when the browser says same-site, and refused when it says cross-site', async () => {
      const { app } = await protectedApp({ trustedOrigins: ['https://partner.example'] })
      const { cookie, token } = await visit(app)
      const headers = { origin: 'https://partner.example', 'x-csrf-token': token }
      const sameSite = await post(app, '/submit', { cookie, headers: { ...headers, 'sec-fetch-site': 'same-site' } })
      expect(await sameSite.text()).toBe('done')
      const crossSite = await post(app, '/submit', { cookie, headers: { ...headers, 'sec-fetch-site': 'cross-site' } })
      await expectRefused(crossSite, 'origin')
    })

    test.each([
      ['no Origin', {}],
      ['an untrusted Origin', { origin: 'https://evil.example' }],
      ['the own origin', { origin: 'http://localhost' }],
      ['a trusted Origin', { origin: 'https://partner.example' }],
    ])('Sec-Fetch-Site: cross-site with %s is refused', async (_, headers) => {
      const { app } = await protectedApp({ trustedOrigins: ['https://partner.example'] })
      const { cookie, token } = await visit(app)
      const refused = { ...headers, 'sec-fetch-site': 'cross-site', 'x-csrf-token': token }
      await expectRefused(await post(app, '/submit', { cookie, headers: refused }), 'origin')
    })

    test('a trusted origin still needs a token', async () => {
      const { app } = await protectedApp({ trustedOrigins: ['https://app.example.com'] })
      await expectRefused(await post(app, '/submit', { headers: { origin: 'https://app.example.com' } }), 'missing')
    })
  })

  describe('exemptions', () => {
    test('allowedRoutes: an exact path, and a prefix that matches only below it', async () => {
      const { app } = await protectedApp({ allowedRoutes: ['/off-by-path', '/webhooks/*'] })
      const exempt = opened(
        new Elysia()
          .use(session({ secret: SECRET, engine: await makeEngine() }))
          .use(csrf({ allowedRoutes: ['/exact'] }))
          .post('/exact', () => 'exact')
          .post('/exact/below', () => 'below'),
      )
      expect(await (await post(exempt, '/exact')).text()).toBe('exact')
      await expectRefused(await post(exempt, '/exact/below'), 'missing')
      expect(await (await post(app, '/webhooks/stripe', { text: 'payload' })).text()).toBe('hook:payload')
      await expectRefused(await post(app, '/webhooks'), 'missing')
      await expectRefused(await post(app, '/webhooksX'), 'missing')
    })

    /** An app that exempts `/exact`, `/slash/` and `/hooks/*`; every handler says which route it is. */
    async function routedApp(strictPath: boolean) {
      return opened(
        new Elysia({ strictPath })
          .use(session({ secret: SECRET, engine: await makeEngine() }))
          .use(csrf({ allowedRoutes: ['/exact', '/slash/', '/hooks/*'] }))
          .post('/exact', () => 'exact')
          .post('/exact/*', () => 'below exact')
          .post('/slash', () => 'slash')
          .post('/hooks', () => 'hooks root')
          .post('/hooks/:name', ({ params }) => `hook ${params.name}`),
      )
    }

    test('allowedRoutes match paths as Elysia routes them: one trailing slash leads to the same route', async () => {
      const app = await routedApp(false)
      for (const [path, route] of [
        ['/exact', 'exact'],
        ['/exact/', 'exact'],
        ['/slash', 'slash'],
        ['/slash/', 'slash'],
        ['/hooks/stripe', 'hook stripe'],
        ['/hooks/stripe/', 'hook stripe'],
      ]) {
        expect(await (await post(app, path as string)).text()).toBe(route as string)
      }
      // Elysia runs the handler of '/hooks' for '/hooks/', and of '/exact/*' for '/exact//': neither is exempt.
      await expectRefused(await post(app, '/hooks/'), 'missing')
      await expectRefused(await post(app, '/exact//'), 'missing')
      await expectRefused(await post(app, '/exact/below'), 'missing')
    })

    test('with strictPath, an exact allowed route matches only that path', async () => {
      const app = await routedApp(true)
      expect(await (await post(app, '/exact')).text()).toBe('exact')
      // With strictPath, Elysia runs the handler of '/exact/*' for '/exact/', and '/slash' is not '/slash/'.
      await expectRefused(await post(app, '/exact/'), 'missing')
      await expectRefused(await post(app, '/slash'), 'missing')
    })

    test('an exempt route can read the raw body itself (csrf() makes Elysia parse no body)', async () => {
      const { app } = await protectedApp({ allowedRoutes: ['/raw-text'] })
      const response = await post(app, '/raw-text', { json: { event: 'paid' } })
      expect(await response.text()).toBe('{"event":"paid"}')
    })

    test('{ csrf: false } on a route and on a group; { csrf: true } keeps the check', async () => {
      const { app } = await protectedApp()
      expect(await (await post(app, '/off')).text()).toBe('off')
      expect(await (await post(app, '/open/inside')).text()).toBe('inside')
      await expectRefused(await post(app, '/on'), 'missing')
    })

    test('a { session: false } route is refused unless it is exempt too', async () => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      await expectRefused(await post(app, '/sessionless', { cookie }), 'missing')
      await expectRefused(await post(app, '/sessionless', { cookie, headers: { 'x-csrf-token': token } }), 'invalid')
      expect(await (await post(app, '/sessionless-exempt')).text()).toBe('exempt')
    })
  })

  describe('options', () => {
    test('a custom header and parameterName replace the defaults', async () => {
      const { app } = await protectedApp({ header: 'X-XSRF-Token', parameterName: '_csrf' })
      const { cookie, token } = await visit(app)
      expect(await (await post(app, '/submit', { cookie, headers: { 'x-xsrf-token': token } })).text()).toBe('done')
      expect(await (await post(app, '/submit', { cookie, form: { _csrf: token } })).text()).toBe('done')
      expect(await (await post(app, '/submit', { cookie, json: { _csrf: token } })).text()).toBe('done')
      await expectRefused(await post(app, '/submit', { cookie, headers: { 'x-csrf-token': token } }), 'missing')
      await expectRefused(await post(app, '/submit', { cookie, form: { authenticity_token: token } }), 'missing')
    })

    test('custom allowedMethods, in any case, replace the default list', async () => {
      const { app, ran } = await protectedApp({ allowedMethods: ['get', 'Delete'] })
      expect(await (await post(app, '/submit', { method: 'DELETE' })).text()).toBe('done')
      await expectRefused(await post(app, '/submit', { method: 'OPTIONS' }), 'missing')
      await expectRefused(await post(app, '/submit'), 'missing')
      expect(ran).toEqual(['DELETE'])
    })

    test('an error string is the body of every refusal', async () => {
      const { app } = await protectedApp({ error: 'Nope' })
      for (const headers of [{}, { origin: 'https://evil.example' }, { 'x-csrf-token': 'bad' }] as Record<
        string,
        string
      >[]) {
        const response = await post(app, '/submit', { headers })
        expect(response.status).toBe(403)
        expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
        expect(await response.text()).toBe('Nope')
      }
    })

    test('an error function gets the handler context and the reason; its string is sent with status 403', async () => {
      const calls: string[] = []
      const { app, ran } = await protectedApp({
        error: ({ request, path, session }, reason) => {
          calls.push(`${request.method} ${path} ${session instanceof Session} ${reason}`)
          return `refused: ${reason}`
        },
      })
      const { cookie, token } = await visit(app)
      const cases: [Outgoing, CsrfRefusal][] = [
        [{ cookie }, 'missing'],
        [{ cookie, headers: { 'x-csrf-token': 'bad' } }, 'invalid'],
        [{ cookie, headers: { origin: 'https://evil.example', 'x-csrf-token': token } }, 'origin'],
      ]
      for (const [outgoing, reason] of cases) {
        const response = await post(app, '/submit', { method: 'PATCH', ...outgoing })
        expect(response.status).toBe(403)
        expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
        expect(await response.text()).toBe(`refused: ${reason}`)
      }
      expect(calls).toEqual(['PATCH /submit true missing', 'PATCH /submit true invalid', 'PATCH /submit true origin'])
      expect(ran).toEqual([])
    })

    test('a Response from an error function, sync or async, is sent as it is', async () => {
      const { app } = await protectedApp({
        error: async (_context, reason) =>
          new Response(null, { status: 303, headers: { location: `/page?refused=${reason}` } }),
      })
      const response = await post(app, '/submit')
      expect(response.status).toBe(303)
      expect(response.headers.get('location')).toBe('/page?refused=missing')
      const sync = await protectedApp({ error: () => new Response('gone', { status: 419 }) })
      const teapot = await post(sync.app, '/submit')
      expect([teapot.status, await teapot.text()]).toEqual([419, 'gone'])
    })

    test('anything else from an error function goes to Elysia as the response, with status 403 unless it has its own', async () => {
      const statusApp = await protectedApp({ error: ({ status }, reason) => status(419, `expired: ${reason}`) })
      const expired = await post(statusApp.app, '/submit')
      expect([expired.status, await expired.text()]).toEqual([419, 'expired: missing'])
      for (const error of [
        (_: unknown, reason: CsrfRefusal) => ({ refused: reason }),
        async (_: unknown, reason: CsrfRefusal) => ({ refused: reason }),
      ]) {
        const { app, ran } = await protectedApp({ error })
        const response = await post(app, '/submit')
        expect(response.status).toBe(403)
        expect(response.headers.get('content-type')).toStartWith('application/json')
        expect(await response.json()).toEqual({ refused: 'missing' })
        expect(ran).toEqual([])
      }
    })

    test('an error function that returns nothing gets the default refusal, and the handler does not run', async () => {
      for (const error of [() => undefined, async () => null]) {
        const { app, ran } = await protectedApp({ error })
        await expectRefused(await post(app, '/submit'), 'missing')
        expect(ran).toEqual([])
      }
    })
  })

  describe('the secret across the session lifecycle', () => {
    test('a token survives regenerate()', async () => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      const login = await post(app, '/login', { cookie, headers: { 'x-csrf-token': token } })
      expect(await login.text()).toBe('in')
      const newCookie = cookiePairOf(login)
      expect(newCookie).toBeDefined()
      expect(newCookie).not.toBe(cookie)
      const after = await post(app, '/submit', { cookie: newCookie, headers: { 'x-csrf-token': token } })
      expect(await after.text()).toBe('done')
    })

    test.each([
      ['reset()', '/reset'],
      ['destroy()', '/logout'],
    ])("%s drops the secret: a token made after it works, the session's old tokens do not", async (_, path) => {
      const { app } = await protectedApp()
      const { cookie, token } = await visit(app)
      const response = await post(app, path, { cookie, headers: { 'x-csrf-token': token } })
      expect(response.status).toBe(200)
      const newToken = await response.text()
      const newCookie = cookiePairOf(response)
      expect(newCookie).toBeDefined()
      expect(newCookie).not.toBe(cookie)
      await expectRefused(
        await post(app, '/submit', { cookie: newCookie, headers: { 'x-csrf-token': token } }),
        'invalid',
      )
      await expectRefused(await post(app, '/submit', { cookie, headers: { 'x-csrf-token': token } }), 'invalid')
      const withNewToken = await post(app, '/submit', { cookie: newCookie, headers: { 'x-csrf-token': newToken } })
      expect(await withNewToken.text()).toBe('done')
    })
  })
})

describe('setting up', () => {
  test('csrfToken is typed in handlers, the csrf option on routes, and neither reaches an app that uses the app', () => {
    const app = new Elysia()
      .use(session({ secret: SECRET }))
      .use(csrf())
      .get('/', ({ csrfToken }) => {
        const token: string = csrfToken()
        return token
      })
      .post('/hook', () => 'ok' as const, { csrf: false })
    // @ts-expect-error the csrf option is a boolean
    app.post('/wrong', () => 'ok', { csrf: 'no' })
    type HookResponse = (typeof app)['~Routes']['hook']['post']['response'][200]
    const declared: HookResponse = 'ok'
    // @ts-expect-error a refusal's Response does not join the response type of the app's routes
    const refusal: HookResponse = new Response('Forbidden')
    expect([declared, refusal]).toHaveLength(2)
    new Elysia().use(app).get('/outer', (context) => {
      // @ts-expect-error csrfToken is local to the app that uses csrf()
      return context.csrfToken
    })
    opened(app)
  })

  test('csrf() without session() before it throws a SessionConfigError when it is used', () => {
    expect(() => new Elysia().use(csrf())).toThrow(SessionConfigError)
    expect(() => new Elysia().use(csrf())).toThrow('new Elysia().use(session({ secret })).use(csrf())')
  })

  test('a route csrf() covers but session() does not reach fails with a SessionConfigError, and its handler never runs', async () => {
    const ran: string[] = []
    const errors: unknown[] = []
    const withSession = new Elysia().use(session({ secret: SECRET }))
    const app = opened(
      new Elysia()
        .use(withSession)
        .use(csrf())
        .onError(({ error }) => {
          errors.push(error)
        })
        .post('/submit', () => {
          ran.push('submit')
          return 'done'
        }),
    )
    expect((await post(app, '/submit')).status).toBe(500)
    expect(errors).toEqual([expect.any(SessionConfigError)])
    expect(ran).toEqual([])
  })

  test('one csrf() used twice, or two with the same options, check a request once; different options (another error function) both check', () => {
    const checksOn = (app: { routes: { path: string; hooks: { beforeHandle?: { fn: { name: string } }[] } }[] }) =>
      app.routes
        .find((route) => route.path === '/submit')
        ?.hooks.beforeHandle?.filter((hook) => hook.fn.name === 'verifyCsrf').length
    const appWith = (...plugins: ReturnType<typeof csrf>[]) => {
      let app: AnyElysia = new Elysia().use(session({ secret: SECRET }))
      for (const plugin of plugins) app = app.use(plugin)
      return opened(app.post('/submit', () => 'done'))
    }
    const protect = csrf()
    expect(checksOn(appWith(protect))).toBe(1)
    expect(checksOn(appWith(protect, protect))).toBe(1)
    expect(checksOn(appWith(csrf({ header: 'x-a' }), csrf({ header: 'x-a' })))).toBe(1)
    expect(checksOn(appWith(csrf({ header: 'x-a' }), csrf({ header: 'x-b' })))).toBe(2)
    expect(checksOn(appWith(csrf({ error: () => 'a' }), csrf({ error: () => 'b' })))).toBe(2)
    const refusing = (message: string) => () => message
    expect(checksOn(appWith(csrf({ error: refusing('a') }), csrf({ error: refusing('b') })))).toBe(2)
    const options = { error: refusing('a') }
    expect(checksOn(appWith(csrf(options), csrf(options)))).toBe(1)
    expect(checksOn(appWith(csrf(options), csrf({ ...options })))).toBe(1)
  })

  test('{ csrf: false } still exempts when one csrf() is used twice, or two with the same options', async () => {
    const protect = csrf()
    for (const [first, second] of [
      [protect, protect],
      [csrf(), csrf()],
    ] as const) {
      const app = opened(
        new Elysia()
          .use(session({ secret: SECRET }))
          .use(first)
          .use(second)
          .post('/off', () => 'off', { csrf: false })
          .group('/open', { csrf: false }, (group) => group.post('/inside', () => 'inside'))
          .post('/on', () => 'on'),
      )
      expect(await (await post(app, '/off')).text()).toBe('off')
      expect(await (await post(app, '/open/inside')).text()).toBe('inside')
      await expectRefused(await post(app, '/on'), 'missing')
    }
  })

  test('on a real server, the own origin is the scheme, host and port the request reached', async () => {
    const app = new Elysia()
      .use(session({ secret: SECRET }))
      .use(csrf())
      .get('/token', ({ csrfToken }) => csrfToken())
      .post('/submit', () => 'done')
      .listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const base = `http://127.0.0.1:${app.server?.port}`
      const page = await fetch(`${base}/token`)
      const headers = { cookie: cookiePairOf(page) ?? '', 'x-csrf-token': await page.text() }
      const own = await fetch(`${base}/submit`, { method: 'POST', headers: { ...headers, origin: base } })
      expect(await own.text()).toBe('done')
      const otherPort = `http://127.0.0.1:${(app.server?.port ?? 0) + 1}`
      const other = await fetch(`${base}/submit`, { method: 'POST', headers: { ...headers, origin: otherPort } })
      await expectRefused(other, 'origin')
    } finally {
      await app.stop()
    }
  })

  const badOptions: [string, unknown, string][] = [
    ['options that are not an object', null, 'csrf(options) takes an options object'],
    [
      'a header name with a space',
      { header: 'x csrf' },
      "header must be an HTTP header name such as 'x-csrf-token' (letters, digits and !#$%&'*+-.^_`|~ only)",
    ],
    ['an empty header name', { header: '' }, 'header must be an HTTP header name'],
    ['a header name that is not a string', { header: 5 }, 'header must be an HTTP header name'],
    [
      'an empty parameterName',
      { parameterName: '' },
      "parameterName must be a form field name such as 'authenticity_token'",
    ],
    ['a parameterName with a space', { parameterName: 'csrf token' }, 'parameterName must be a form field name'],
    ['a parameterName Elysia would read as nested', { parameterName: 'csrf.token' }, 'letters, digits, _ and - only'],
    ['allowedMethods that is not an array', { allowedMethods: 'GET' }, 'allowedMethods must be an array of strings'],
    ['allowedMethods holding a non-string', { allowedMethods: ['GET', 1] }, 'allowedMethods[1] must be a string'],
    [
      'allowedMethods holding a bad method',
      { allowedMethods: ['GE T'] },
      "allowedMethods[0] must be an HTTP method such as 'GET'",
    ],
    [
      'trustedOrigins that is not an array',
      { trustedOrigins: 'https://example.com' },
      'trustedOrigins must be an array',
    ],
    [
      'a trusted origin with a trailing slash',
      { trustedOrigins: ['https://example.com/'] },
      "did you mean 'https://example.com'?",
    ],
    [
      'a trusted origin with a path',
      { trustedOrigins: ['https://example.com/app'] },
      "did you mean 'https://example.com'?",
    ],
    [
      'a trusted origin with upper case',
      { trustedOrigins: ['https://Example.com'] },
      "did you mean 'https://example.com'?",
    ],
    [
      'a trusted origin with a default port',
      { trustedOrigins: ['https://example.com:443'] },
      "did you mean 'https://example.com'?",
    ],
    [
      'a trusted origin without a scheme',
      { trustedOrigins: ['example.com'] },
      "trustedOrigins[0] must be an origin such as 'https://example.com'",
    ],
    ['the null origin', { trustedOrigins: ['null'] }, 'trustedOrigins[0] must be an origin'],
    [
      'an allowed route without a leading slash',
      { allowedRoutes: ['login'] },
      "allowedRoutes[0] must be a path starting with '/'",
    ],
    ['an allowed route with a wildcard inside', { allowedRoutes: ['/a/*/b'] }, "a prefix ending in '/*'"],
    ['an allowed route with a bare trailing wildcard', { allowedRoutes: ['/webhooks*'] }, "a prefix ends in '/*'"],
    ['an allowed route with a query', { allowedRoutes: ['/login?next=/'] }, 'allowedRoutes[0] must be a path'],
    ['an error that is neither string nor function', { error: 42 }, 'error must be a string or a function'],
  ]

  test.each(badOptions)('%s throws a SessionConfigError at csrf() that says how to fix it', (_, options, message) => {
    expect(() => csrf(options as CsrfOptions)).toThrow(SessionConfigError)
    expect(() => csrf(options as CsrfOptions)).toThrow(message)
  })
})
