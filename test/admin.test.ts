import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { memoryEngine, Session, SessionEngineError, session } from 'elysia-sessions'
import { cookiePairOf, idOf, SECRET, send } from './support/http.js'

function adminApp(engine = memoryEngine()) {
  const app = new Elysia()
    .use(session({ secret: SECRET, engine, gcInterval: 0 }))
    .get('/login/:name', ({ session, params }) => {
      session.string('name', params.name)
      return 'ok'
    })
    .get('/me', ({ session }) => session.stringOrNull('name') ?? 'nobody')
  return { app, sessions: app.decorator.sessions, engine }
}

async function loginMany(app: ReturnType<typeof adminApp>['app'], names: string[]) {
  const pairs: string[] = []
  for (const name of names) pairs.push(cookiePairOf(await send(app, `/login/${name}`))!)
  return pairs
}

describe('admin API (sessions)', () => {
  test('sessions in a handler offers the admin methods and nothing else', async () => {
    const { app } = adminApp()
    const seen = app.get('/admin', ({ sessions }) => {
      const names = new Set<string>()
      for (let proto = sessions; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') names.add(name)
      }
      return [...names].sort()
    })
    expect(await (await send(seen, '/admin')).json()).toEqual([
      'all',
      'close',
      'count',
      'destroy',
      'destroyAll',
      'destroyByOwner',
      'each',
      'gc',
      'get',
      'listByOwner',
    ])
  })

  test('get returns a session by its raw id, or null for unknown and malformed ids', async () => {
    const { app, sessions } = adminApp()
    const [pair] = await loginMany(app, ['ada'])
    const found = await sessions.get(idOf(pair))
    expect(found).toBeInstanceOf(Session)
    expect(found?.string('name')).toBe('ada')
    expect(await sessions.get('A'.repeat(32))).toBeNull()
    expect(await sessions.get('../../etc/passwd')).toBeNull()
    expect(await sessions.get(pair!)).toBeNull()
  })

  test('a session from get can be changed and saved, keeping its stored expiry, and the user sees the change', async () => {
    const { app, sessions, engine } = adminApp()
    const [pair] = await loginMany(app, ['ada'])
    const before = await engine.load(idOf(pair), Date.now())
    await Bun.sleep(5)
    const found = (await sessions.get(idOf(pair)))!
    found.string('name', 'grace')
    await found.save()
    const after = await engine.load(idOf(pair), Date.now())
    expect(after?.expiresAt).toBe(before!.expiresAt)
    expect(await (await send(app, '/me', { cookie: pair })).text()).toBe('grace')
  })

  test('saving a session from get after it was destroyed does not bring it back', async () => {
    const { app, sessions } = adminApp()
    const [pair] = await loginMany(app, ['ada'])
    const found = (await sessions.get(idOf(pair)))!
    await sessions.destroy(idOf(pair))
    found.string('name', 'mallory')
    await found.save()
    expect(await sessions.count()).toBe(0)
    expect(await (await send(app, '/me', { cookie: pair })).text()).toBe('nobody')
  })

  test('count, all and each see every live session; each awaits its callback', async () => {
    const { app, sessions } = adminApp()
    await loginMany(app, ['a', 'b', 'c'])
    expect(await sessions.count()).toBe(3)
    expect((await sessions.all()).map((each) => each.string('name')).sort()).toEqual(['a', 'b', 'c'])
    const seen: string[] = []
    await sessions.each(async (each) => {
      await Bun.sleep(1)
      seen.push(each.string('name'))
    })
    expect(seen.sort()).toEqual(['a', 'b', 'c'])
  })

  test('each streams more sessions than one batch', async () => {
    const { sessions, engine } = adminApp()
    const expiresAt = Date.now() + 60_000
    for (let index = 0; index < 1_234; index++) {
      await engine.commit(`id${index}`.padEnd(32, 'x'), { set: { 'int:i': index }, deleted: [], expiresAt }, Date.now())
    }
    let seen = 0
    await sessions.each(() => {
      seen++
    })
    expect(seen).toBe(1_234)
  })

  test('destroy logs one user out and destroyAll logs everyone out', async () => {
    const { app, sessions } = adminApp()
    const [ada, bob, cy] = await loginMany(app, ['ada', 'bob', 'cy'])
    await sessions.destroy(idOf(ada))
    await sessions.destroy('unknown-id')
    expect(await (await send(app, '/me', { cookie: ada })).text()).toBe('nobody')
    expect(await (await send(app, '/me', { cookie: bob })).text()).toBe('bob')
    await sessions.destroyAll()
    expect(await sessions.count()).toBe(0)
    expect(await (await send(app, '/me', { cookie: cy })).text()).toBe('nobody')
  })

  test('gc sweeps expired sessions now and resolves to how many it removed', async () => {
    const { sessions, engine } = adminApp()
    const now = Date.now()
    await engine.commit('expired'.padEnd(32, 'x'), { set: {}, deleted: [], expiresAt: now - 1 }, now - 10)
    await engine.commit('alive'.padEnd(32, 'x'), { set: {}, deleted: [], expiresAt: now + 60_000 }, now)
    expect(await sessions.gc()).toBe(1)
    expect(await sessions.count()).toBe(1)
  })

  test('an engine failure in an admin call is a SessionEngineError with its cause', async () => {
    const failing = { ...memoryEngine(), count: async () => Promise.reject(new Error('down')) }
    const { sessions } = adminApp(failing)
    const error = await sessions.count().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SessionEngineError)
    expect((error as SessionEngineError).cause).toEqual(new Error('down'))
  })

  test('close closes the engine once, and app.stop() closes it too', async () => {
    let closes = 0
    const engine = { ...memoryEngine(), close: async () => void closes++ }
    const { sessions } = adminApp(engine)
    await Promise.all([sessions.close(), sessions.close()])
    expect(closes).toBe(1)

    const served = adminApp({ ...memoryEngine(), close: async () => void closes++ }).app
    served.listen({ port: 0, hostname: '127.0.0.1' })
    await served.stop()
    expect(closes).toBe(2)
  })
})
