import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { memoryEngine, type SessionOptions, session } from 'elysia-sessions'
import { signedCookieValue } from './support/cookie-format.js'
import { callsOf, cookiePairOf, idOf, recordingEngine, SECRET, send, setCookieOf } from './support/http.js'

function counterApp(options: Partial<SessionOptions> = {}) {
  return new Elysia()
    .use(session({ secret: SECRET, ...options }))
    .get('/count', ({ session }) => {
      const count = (session.intOrNull('count') ?? 0) + 1
      session.int('count', count)
      return String(count)
    })
    .get('/peek', ({ session }) => String(session.intOrNull('count')))
    .get('/id', ({ session }) => session.id)
}

describe('session cookie', () => {
  test('the first write sets an HttpOnly, SameSite=Lax cookie on path / with Max-Age of the timeout', async () => {
    const response = await send(counterApp(), '/count')
    const header = setCookieOf(response)
    expect(header).toMatch(/^sessid=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}; /)
    expect(header).toContain('Max-Age=3600')
    expect(header).toContain('Path=/')
    expect(header).toContain('HttpOnly')
    expect(header).toContain('SameSite=Lax')
    expect(header).not.toContain('Secure')
  })

  test('the cookie value is the id and its HMAC-SHA256 signature', async () => {
    const pair = cookiePairOf(await send(counterApp(), '/count'))
    const value = pair!.slice('sessid='.length)
    expect(value).toBe(signedCookieValue(idOf(pair), SECRET))
  })

  test('a new session that is never written sets no cookie and stores nothing', async () => {
    const engine = recordingEngine()
    const app = counterApp({ engine })
    const response = await send(app, '/id')
    expect(response.status).toBe(200)
    expect((await response.text()).length).toBe(32)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(callsOf(engine, 'commit')).toHaveLength(0)
    expect(await engine.count(Date.now())).toBe(0)
  })

  test('a request without a cookie reads nothing from the engine', async () => {
    const engine = recordingEngine()
    await send(counterApp({ engine }), '/peek')
    expect(callsOf(engine, 'load')).toHaveLength(0)
  })

  test('a request with a validly signed cookie loads the session once', async () => {
    const engine = recordingEngine()
    const app = counterApp({ engine })
    const pair = cookiePairOf(await send(app, '/count'))
    engine.calls.length = 0
    expect(await (await send(app, '/peek', { cookie: pair })).text()).toBe('1')
    expect(callsOf(engine, 'load')).toHaveLength(1)
  })

  test('options set the cookie name and its Secure, Domain, Path, SameSite and HttpOnly attributes', async () => {
    const app = counterApp({
      cookieName: '__Secure-sid',
      secure: true,
      domain: 'example.com',
      path: '/app',
      sameSite: 'strict',
      httpOnly: false,
    })
    const header = setCookieOf(await send(app, '/count'), '__Secure-sid')!
    expect(header).toContain('Domain=example.com')
    expect(header).toContain('Path=/app')
    expect(header).toContain('Secure')
    expect(header).toContain('SameSite=Strict')
    expect(header).not.toContain('HttpOnly')
  })

  test('a timeout that is not a whole number of seconds gives a Max-Age rounded up', async () => {
    const header = setCookieOf(await send(counterApp({ timeout: 1_500 }), '/count'))
    expect(header).toContain('Max-Age=2')
  })

  test('a sub-second timeout still gives a cookie that lives (Max-Age=1)', async () => {
    const header = setCookieOf(await send(counterApp({ timeout: 200 }), '/count'))
    expect(header).toContain('Max-Age=1')
  })
})

describe('cookies that name no session', () => {
  async function freshAfter(cookie: string) {
    const engine = recordingEngine()
    const app = counterApp({ engine })
    const genuine = cookiePairOf(await send(app, '/count'))!
    engine.calls.length = 0
    const response = await send(app, '/count', { cookie: cookie.replace('GENUINE', genuine.slice('sessid='.length)) })
    return { response, genuine, engine }
  }

  const cases: [string, string][] = [
    ['a tampered signature', 'sessid=GENUINE'.replace('GENUINE', 'GENUINEx')],
    ['garbage', 'sessid=not-a-session'],
    ['an empty value', 'sessid='],
    ['JSON', 'sessid={"id":1}'],
    ['a number', 'sessid=12.5'],
    ['a percent-encoded value', 'sessid=%E0%A4%A'],
    ['a very long value', `sessid=${'a'.repeat(4000)}`],
  ]
  for (const [what, cookie] of cases) {
    test(`a cookie with ${what} gives a fresh session, never an error`, async () => {
      const { response, genuine } = await freshAfter(cookie)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('1')
      const pair = cookiePairOf(response)
      expect(pair).toBeDefined()
      expect(idOf(pair)).not.toBe(idOf(genuine))
    })
  }

  test('a cookie whose id was changed but whose signature was kept is rejected without an engine read', async () => {
    const { response, engine, genuine } = await freshAfter('sessid=GENUINE')
    expect(await response.text()).toBe('2')
    const genuineValue = genuine.slice('sessid='.length)
    const [id, signature] = genuineValue.split('.') as [string, string]
    const forged = `sessid=${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}.${signature}`
    engine.calls.length = 0
    const forgedResponse = await send(counterApp({ engine }), '/peek', { cookie: forged })
    expect(await forgedResponse.text()).toBe('null')
    expect(callsOf(engine, 'load')).toHaveLength(0)
  })

  test('a cookie signed with another secret gives a fresh session', async () => {
    const app = counterApp()
    const genuine = cookiePairOf(await send(app, '/count'))!
    const cookie = `sessid=${signedCookieValue(idOf(genuine), 'another-secret-that-is-also-32-characters-long')}`
    expect(await (await send(app, '/peek', { cookie })).text()).toBe('null')
  })

  test('a correctly signed id that the engine does not know is not adopted', async () => {
    const chosenId = 'A'.repeat(32)
    const response = await send(counterApp(), '/count', { cookie: `sessid=${signedCookieValue(chosenId, SECRET)}` })
    expect(await response.text()).toBe('1')
    expect(idOf(cookiePairOf(response))).not.toBe(chosenId)
  })

  test('a cookie that names no session is cleared when nothing is written', async () => {
    const response = await send(counterApp(), '/peek', { cookie: 'sessid=garbage' })
    expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
  })
})

describe('secret rotation', () => {
  const OLD = 'old-secret-that-is-at-least-32-characters-long'
  const NEW = 'new-secret-that-is-at-least-32-characters-long'

  test('with several secrets the first signs and all verify, and an old cookie is re-signed with the first', async () => {
    const engine = memoryEngine()
    const before = counterApp({ secret: OLD, engine })
    const oldPair = cookiePairOf(await send(before, '/count'))!

    const after = counterApp({ secret: [NEW, OLD], engine })
    const response = await send(after, '/peek', { cookie: oldPair })
    expect(await response.text()).toBe('1')
    const resigned = cookiePairOf(response)!
    expect(idOf(resigned)).toBe(idOf(oldPair))
    expect(resigned.slice('sessid='.length)).toBe(signedCookieValue(idOf(oldPair), NEW))

    const again = await send(after, '/peek', { cookie: resigned })
    expect(await again.text()).toBe('1')
    expect(again.headers.getSetCookie()).toEqual([])
  })

  test('a cookie signed with a secret that was dropped gives a fresh session', async () => {
    const engine = memoryEngine()
    const oldPair = cookiePairOf(await send(counterApp({ secret: OLD, engine }), '/count'))!
    const response = await send(counterApp({ secret: NEW, engine }), '/peek', { cookie: oldPair })
    expect(await response.text()).toBe('null')
  })
})
