import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { memoryEngine, type Session, type Sessions, session } from 'elysia-sessions'
import { callsOf, cookiePairOf, recordingEngine, SECRET, send, setCookieOf } from './support/http.js'

/** Whether the admin API `sessions` finds `session`: both then belong to the same plugin's engine. */
async function ownSession(sessions: Sessions, session: Session): Promise<boolean> {
  return (await sessions.get(session.id)) !== null
}

describe('typing and scope', () => {
  test('session is typed in handlers of the app, its groups and sub-apps that use the plugin, with no casts', async () => {
    const plugin = session({ secret: SECRET })
    const sub = new Elysia({ prefix: '/sub' }).use(plugin).get('/', ({ session }) => {
      const typed: Session = session
      typed.string('where', 'sub')
      return typed.string('where')
    })
    const app = new Elysia()
      .use(plugin)
      .get('/', ({ session }) => {
        session.int('n', 1)
        // @ts-expect-error an int setter takes a number
        expect(() => session.int('n', 'one')).toThrow(TypeError)
        return String(session.int('n'))
      })
      .group('/group', (group) => group.get('/', ({ session }) => String(session.intOrNull('n'))))
      .use(sub)
    const pair = cookiePairOf(await send(app, '/'))
    expect(await (await send(app, '/group', { cookie: pair })).text()).toBe('1')
    expect(await (await send(app, '/sub', { cookie: pair })).text()).toBe('sub')
  })

  test('using the same plugin twice loads the session once (Elysia dedupes it by cookie name, domain and path)', async () => {
    const engine = recordingEngine()
    const plugin = session({ secret: SECRET, engine })
    const app = new Elysia()
      .use(plugin)
      .use(plugin)
      .get('/set', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
      .get('/peek', ({ session }) => String(session.int('n')))
    const pair = cookiePairOf(await send(app, '/set'))
    engine.calls.length = 0
    await send(app, '/peek', { cookie: pair })
    expect(callsOf(engine, 'load')).toHaveLength(1)
  })

  test('routes declared before use() get no session and never touch the engine', async () => {
    const engine = recordingEngine()
    const app = new Elysia()
      .get('/before', (context) => String('session' in context))
      .use(session({ secret: SECRET, engine }))
      .get('/after', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
    const pair = cookiePairOf(await send(app, '/after'))
    engine.calls.length = 0
    expect(await (await send(app, '/before', { cookie: pair })).text()).toBe('false')
    expect(engine.calls).toHaveLength(0)
  })

  test('a second cookie lives in a sub-app with its own session, and neither sees the other', async () => {
    const mainEngine = memoryEngine()
    const adminEngine = memoryEngine()
    const admin = new Elysia({ prefix: '/admin' })
      .use(session({ secret: SECRET, engine: adminEngine, cookieName: 'admin_sid' }))
      .get('/login', ({ session }) => {
        session.string('role', 'admin')
        return 'admin'
      })
      .get(
        '/role',
        async ({ session, sessions }) => `${session.stringOrNull('role')} ${await ownSession(sessions, session)}`,
      )
    const app = new Elysia()
      .use(session({ secret: SECRET, engine: mainEngine }))
      .get('/login', ({ session }) => {
        session.string('role', 'user')
        return 'user'
      })
      .get(
        '/role',
        async ({ session, sessions }) => `${session.stringOrNull('role')} ${await ownSession(sessions, session)}`,
      )
      .use(admin)

    const userPair = cookiePairOf(await send(app, '/login'))
    const adminResponse = await send(app, '/admin/login')
    const adminPair = cookiePairOf(adminResponse, 'admin_sid')
    expect(setCookieOf(adminResponse, 'sessid')).toBeUndefined()
    const both = `${userPair}; ${adminPair}`

    expect(await (await send(app, '/role', { cookie: both })).text()).toBe('user true')
    expect(await (await send(app, '/admin/role', { cookie: both })).text()).toBe('admin true')
    expect(await mainEngine.count(Date.now())).toBe(1)
    expect(await adminEngine.count(Date.now())).toBe(1)
  })

  test('two apps in one process with different options do not interfere', async () => {
    const short = new Elysia()
      .use(session({ secret: SECRET, cookieName: 'a', timeout: 2_000 }))
      .get('/', ({ session }) => {
        session.int('n', 1)
        return 'a'
      })
    const long = new Elysia()
      .use(session({ secret: `${SECRET}-other`, cookieName: 'b', timeout: 7_200_000 }))
      .get('/', ({ session }) => {
        session.int('n', 2)
        return 'b'
      })
    expect(setCookieOf(await send(short, '/'), 'a')).toContain('Max-Age=2')
    const longResponse = await send(long, '/')
    expect(setCookieOf(longResponse, 'b')).toContain('Max-Age=7200')
    const crossed = `a=${cookiePairOf(longResponse, 'b')!.slice(2)}`
    expect(await (await send(short, '/', { cookie: crossed })).text()).toBe('a')
  })
})

describe('session: false', () => {
  function hotApp(engine: ReturnType<typeof recordingEngine>) {
    return new Elysia()
      .use(session({ secret: SECRET, engine }))
      .get('/set', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
      .get('/hot', () => 'hot', { session: false })
      .get('/misuse', ({ session }) => session.int('n'), { session: false })
      .get('/on', ({ session }) => String(session.int('n')), { session: true })
      .group('/static', { session: false }, (group) => group.get('/file', () => 'file'))
  }

  test('a route with { session: false } never reads the engine nor sets a cookie', async () => {
    const engine = recordingEngine()
    const app = hotApp(engine)
    const pair = cookiePairOf(await send(app, '/set'))
    engine.calls.length = 0
    const response = await send(app, '/hot', { cookie: pair })
    expect(await response.text()).toBe('hot')
    expect(engine.calls).toHaveLength(0)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  test('a group with { session: false } never reads the engine', async () => {
    const engine = recordingEngine()
    const app = hotApp(engine)
    const pair = cookiePairOf(await send(app, '/set'))
    engine.calls.length = 0
    expect(await (await send(app, '/static/file', { cookie: pair })).text()).toBe('file')
    expect(engine.calls).toHaveLength(0)
  })

  test('using the session on such a route fails with a message that names the option', async () => {
    const engine = recordingEngine()
    const response = await send(hotApp(engine), '/misuse')
    expect(response.status).toBe(500)
    expect(await response.text()).toContain('session: false')
  })

  test('{ session: false } still holds when session() is called twice with the same options (Elysia keeps one)', async () => {
    const engine = recordingEngine()
    const options = { secret: SECRET, engine }
    const app = new Elysia()
      .use(session(options))
      .use(session(options))
      .get('/set', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
      .get('/hot', () => 'hot', { session: false })
    const pair = cookiePairOf(await send(app, '/set'))
    engine.calls.length = 0
    const response = await send(app, '/hot', { cookie: pair })
    expect(await response.text()).toBe('hot')
    expect(engine.calls).toHaveLength(0)
  })

  test('{ session: true } is the default behaviour', async () => {
    const engine = recordingEngine()
    const app = hotApp(engine)
    const pair = cookiePairOf(await send(app, '/set'))
    expect(await (await send(app, '/on', { cookie: pair })).text()).toBe('1')
  })
})
