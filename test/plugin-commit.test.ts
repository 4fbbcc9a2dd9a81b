import { describe, expect, test } from 'bun:test'
import { Elysia, redirect, status } from 'elysia'
import {
  memoryEngine,
  type Session,
  type SessionEngine,
  SessionEngineError,
  type SessionOptions,
  session,
} from 'elysia-sessions'
import { appDataOf, callsOf, cookiePairOf, idOf, recordingEngine, SECRET, send, setCookieOf } from './support/http.js'

function appWith(engine: SessionEngine, options: Partial<SessionOptions> = {}) {
  return new Elysia()
    .use(session({ secret: SECRET, engine, ...options }))
    .get('/set/:key', ({ session, params }) => {
      session.string(params.key, 'v')
      return 'ok'
    })
    .get('/peek', ({ session }) => JSON.stringify(session.strings))
    .get('/throw', ({ session }) => {
      session.string('via', 'throw')
      throw new Error('handler failed')
    })
    .get('/status', ({ session }) => {
      session.string('via', 'status')
      return status(418, 'teapot')
    })
    .get('/thrown-status', ({ session }) => {
      session.string('via', 'thrown-status')
      throw status(409, 'conflict')
    })
    .get('/response', ({ session }) => {
      session.string('via', 'response')
      return new Response('raw', { status: 400, headers: { 'x-raw': '1' } })
    })
    .get('/redirect', ({ session }) => {
      session.string('via', 'redirect')
      return redirect('/peek')
    })
    .get('/destroy', async ({ session }) => {
      await session.destroy()
      return 'bye'
    })
    .get('/destroy-then-write', async ({ session }) => {
      await session.destroy()
      session.string('after', 'destroy')
      return session.id
    })
    .get('/regenerate', async ({ session }) => {
      await session.regenerate()
      return session.id
    })
    .get('/reset', async ({ session }) => {
      await session.reset()
      return session.id
    })
}

async function storedStrings(engine: SessionEngine, pair: string | undefined) {
  const stored = await engine.load(idOf(pair), Date.now())
  return stored ? (appDataOf(stored.data) ?? null) : null
}

describe('writes reach the engine before the response leaves', () => {
  const paths: [string, number][] = [
    ['/throw', 500],
    ['/status', 418],
    ['/thrown-status', 409],
    ['/response', 400],
    ['/redirect', 302],
  ]
  for (const [path, expectedStatus] of paths) {
    test(`when the handler answers through ${path}`, async () => {
      const engine = memoryEngine()
      const response = await send(appWith(engine), path)
      expect(response.status).toBe(expectedStatus)
      const pair = cookiePairOf(response)
      expect(pair).toBeDefined()
      expect(await storedStrings(engine, pair)).toEqual({ 'string:via': path.slice(1) })
    })
  }

  test('a returned Response keeps its own headers next to the cookie', async () => {
    const response = await send(appWith(memoryEngine()), '/response')
    expect(response.headers.get('x-raw')).toBe('1')
    expect(await response.text()).toBe('raw')
  })
})

describe('write only what changed, once per request', () => {
  test('a request that changes one key commits only that key', async () => {
    const engine = recordingEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/a'))
    engine.calls.length = 0
    await send(app, '/set/b', { cookie: pair })
    const commits = callsOf(engine, 'commit')
    expect(commits).toHaveLength(1)
    const changes = commits[0]!.args[1] as { set: object; deleted: unknown[] }
    expect(changes.set).toEqual({ 'string:b': 'v' })
    expect(changes.deleted).toEqual([])
  })

  test('a request that only reads commits nothing and sends no cookie', async () => {
    const engine = recordingEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/a'))
    engine.calls.length = 0
    const response = await send(app, '/peek', { cookie: pair })
    expect(await response.text()).toBe('{"a":"v"}')
    expect(callsOf(engine, 'commit')).toHaveLength(0)
    expect(callsOf(engine, 'touch')).toHaveLength(0)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  test('concurrent requests that change different keys of one session both keep their writes', async () => {
    const engine = memoryEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/first'))
    const keys = Array.from({ length: 40 }, (_, index) => `key${index}`)
    const responses = await Promise.all(keys.map((key) => send(app, `/set/${key}`, { cookie: pair })))
    expect(responses.map((response) => response.status)).toEqual(keys.map(() => 200))
    const data = await storedStrings(engine, pair)
    expect(Object.keys(data ?? {}).sort()).toEqual(['string:first', ...keys.map((key) => `string:${key}`)].sort())
  })
})

describe('destroy, regenerate and reset over HTTP', () => {
  test('destroy removes the data from the engine and expires the cookie with Max-Age=0', async () => {
    const engine = memoryEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/a'))
    const response = await send(app, '/destroy', { cookie: pair })
    expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
    expect(await storedStrings(engine, pair)).toBeNull()
    expect(await (await send(app, '/peek', { cookie: pair })).text()).toBe('{}')
  })

  test('a write after destroy in the same request starts a fresh session under a new id', async () => {
    const engine = memoryEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/a'))
    const response = await send(app, '/destroy-then-write', { cookie: pair })
    const fresh = cookiePairOf(response)
    expect(idOf(fresh)).toBe(await response.text())
    expect(idOf(fresh)).not.toBe(idOf(pair))
    expect(await storedStrings(engine, fresh)).toEqual({ 'string:after': 'destroy' })
    expect(await storedStrings(engine, pair)).toBeNull()
  })

  test('regenerate gives a new id, keeps the data and removes the old id', async () => {
    const engine = memoryEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/a'))
    const response = await send(app, '/regenerate', { cookie: pair })
    const renewed = cookiePairOf(response)
    expect(idOf(renewed)).toBe(await response.text())
    expect(idOf(renewed)).not.toBe(idOf(pair))
    expect(await storedStrings(engine, renewed)).toEqual({ 'string:a': 'v' })
    expect(await storedStrings(engine, pair)).toBeNull()
  })

  test('regenerate on a never-saved session only changes the pending id', async () => {
    const engine = recordingEngine()
    const response = await send(appWith(engine), '/regenerate')
    expect((await response.text()).length).toBe(32)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(callsOf(engine, 'commit')).toHaveLength(0)
    expect(callsOf(engine, 'delete')).toHaveLength(0)
  })

  test('reset drops the data and the old id', async () => {
    const engine = memoryEngine()
    const app = appWith(engine)
    const pair = cookiePairOf(await send(app, '/set/a'))
    const response = await send(app, '/reset', { cookie: pair })
    expect(await response.text()).not.toBe(idOf(pair))
    expect(await storedStrings(engine, pair)).toBeNull()
    expect(await engine.count(Date.now())).toBe(0)
  })
})

describe('sliding expiry', () => {
  function clockedApp(engine: SessionEngine, clock: { now: number }) {
    const realNow = Date.now
    Date.now = () => clock.now
    const app = appWith(engine, { timeout: 60_000, touchInterval: 10_000 })
    return { app, restore: () => (Date.now = realNow) }
  }

  test('a read after touchInterval moves the expiry with a touch and re-sends the cookie', async () => {
    const engine = recordingEngine()
    const clock = { now: Date.now() }
    const { app, restore } = clockedApp(engine, clock)
    try {
      const pair = cookiePairOf(await send(app, '/set/a'))
      clock.now += 5_000
      engine.calls.length = 0
      const early = await send(app, '/peek', { cookie: pair })
      expect(callsOf(engine, 'touch')).toHaveLength(0)
      expect(early.headers.getSetCookie()).toEqual([])

      clock.now += 6_000
      const late = await send(app, '/peek', { cookie: pair })
      const touches = callsOf(engine, 'touch')
      expect(touches).toHaveLength(1)
      expect(touches[0]!.args[1]).toBe(clock.now + 60_000)
      expect(callsOf(engine, 'commit')).toHaveLength(0)
      expect(cookiePairOf(late)).toBe(pair)
      expect(setCookieOf(late)).toContain('Max-Age=60')

      clock.now += 55_000
      expect(await (await send(app, '/peek', { cookie: pair })).text()).toBe('{"a":"v"}')
    } finally {
      restore()
    }
  })

  test('a write within touchInterval keeps the expiry and sends no cookie; a write after it slides both', async () => {
    const engine = recordingEngine()
    const clock = { now: Date.now() }
    const { app, restore } = clockedApp(engine, clock)
    try {
      const created = clock.now
      const pair = cookiePairOf(await send(app, '/set/a'))
      clock.now += 5_000
      engine.calls.length = 0
      const early = await send(app, '/set/b', { cookie: pair })
      expect(callsOf(engine, 'commit')[0]!.args[1]).toMatchObject({
        set: { 'string:b': 'v' },
        expiresAt: created + 60_000,
      })
      expect(early.headers.getSetCookie()).toEqual([])

      clock.now += 6_000
      engine.calls.length = 0
      const late = await send(app, '/set/c', { cookie: pair })
      expect(callsOf(engine, 'commit')[0]!.args[1]).toMatchObject({ expiresAt: clock.now + 60_000 })
      expect(callsOf(engine, 'touch')).toHaveLength(0)
      expect(cookiePairOf(late)).toBe(pair)
      expect(setCookieOf(late)).toContain('Max-Age=60')
      expect(await (await send(app, '/peek', { cookie: pair })).text()).toBe('{"a":"v","b":"v","c":"v"}')
    } finally {
      restore()
    }
  })

  test('a session idle for longer than the timeout is gone', async () => {
    const clock = { now: Date.now() }
    const { app, restore } = clockedApp(memoryEngine(), clock)
    try {
      const pair = cookiePairOf(await send(app, '/set/a'))
      clock.now += 60_001
      const response = await send(app, '/peek', { cookie: pair })
      expect(await response.text()).toBe('{}')
      expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
    } finally {
      restore()
    }
  })

  test('a touch never re-creates a session destroyed in the meantime', async () => {
    const engine = memoryEngine()
    const clock = { now: Date.now() }
    const realNow = Date.now
    Date.now = () => clock.now
    try {
      const app = new Elysia()
        .use(session({ secret: SECRET, engine, timeout: 60_000, touchInterval: 1_000 }))
        .get('/set', ({ session }) => {
          session.int('n', 1)
          return 'ok'
        })
        .get('/destroyed-elsewhere', async ({ session, sessions }) => {
          await sessions.destroy(session.id)
          return 'read'
        })
      const pair = cookiePairOf(await send(app, '/set'))
      clock.now += 5_000
      const response = await send(app, '/destroyed-elsewhere', { cookie: pair })
      expect(response.status).toBe(200)
      expect(await engine.load(idOf(pair), clock.now)).toBeNull()
      expect(response.headers.getSetCookie()).toEqual([])
    } finally {
      Date.now = realNow
    }
  })
})

describe('engine failures', () => {
  function failing(method: 'load' | 'commit'): SessionEngine {
    const engine = memoryEngine()
    return {
      ...engine,
      [method]: async () => {
        throw new Error(`${method} is down`)
      },
    }
  }

  test('a failing commit surfaces as a SessionEngineError with its cause', async () => {
    const errors: unknown[] = []
    const app = new Elysia()
      .onError(({ error }) => {
        errors.push(error)
      })
      .use(session({ secret: SECRET, engine: failing('commit') }))
      .get('/set', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
    const response = await send(app, '/set')
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('Session engine failed to commit a session')
    const error = errors.find((each) => each instanceof SessionEngineError) as SessionEngineError
    expect(error).toBeInstanceOf(SessionEngineError)
    expect((error.cause as Error).message).toBe('commit is down')
  })

  test('a failing load surfaces as a SessionEngineError with its cause', async () => {
    const engine = memoryEngine()
    const working = appWith(engine)
    const pair = cookiePairOf(await send(working, '/set/a'))
    const errors: unknown[] = []
    const app = new Elysia()
      .onError(({ error }) => {
        errors.push(error)
      })
      .use(session({ secret: SECRET, engine: { ...failing('load') } }))
      .get('/peek', ({ session }) => session.id)
    const response = await send(app, '/peek', { cookie: pair })
    expect(response.status).toBe(503)
    expect(await response.text()).toBe('Session engine failed to load a session')
    expect(setCookieOf(response)).toBeUndefined()
    expect(errors.some((each) => each instanceof SessionEngineError && each.cause instanceof Error)).toBe(true)
  })

  test('a commit that fails while the request already failed is logged, and the original error answers', async () => {
    const logged: unknown[] = []
    const app = new Elysia()
      .use(session({ secret: SECRET, engine: failing('commit'), logger: { error: (...args) => logged.push(args) } }))
      .get('/throw', ({ session }) => {
        session.int('n', 1)
        throw new Error('handler failed')
      })
    const response = await send(app, '/throw')
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('handler failed')
    expect(logged).toHaveLength(1)
  })
})

describe('a session destroyed while another request still runs', () => {
  test('the late request neither revives the old id nor sends it back, and its write starts a fresh session', async () => {
    const engine = memoryEngine()
    const { promise: gate, resolve: release } = Promise.withResolvers<void>()
    const app = new Elysia()
      .use(session({ secret: SECRET, engine }))
      .get('/login', ({ session }) => {
        session.string('user', 'ada')
        return 'ok'
      })
      .get('/logout', async ({ session }) => {
        await session.destroy()
        return 'bye'
      })
      .get('/slow', async ({ session }) => {
        await gate
        session.int('seen', 1)
        return 'seen'
      })
    const pair = cookiePairOf(await send(app, '/login'))
    const slow = send(app, '/slow', { cookie: pair })
    await Bun.sleep(5)
    await send(app, '/logout', { cookie: pair })
    release()
    const late = await slow
    expect(late.status).toBe(200)
    const fresh = cookiePairOf(late)
    expect(idOf(fresh)).not.toBe(idOf(pair))
    expect(await engine.load(idOf(pair), Date.now())).toBeNull()
    expect(appDataOf((await engine.load(idOf(fresh), Date.now()))?.data)).toEqual({ 'int:seen': 1 })
  })
})

test('a regenerate that races a destroy does not carry the destroyed data to the new id', async () => {
  const engine = memoryEngine()
  const { promise: gate, resolve: release } = Promise.withResolvers<void>()
  const app = new Elysia()
    .use(session({ secret: SECRET, engine }))
    .get('/login', ({ session }) => {
      session.bool('admin', true)
      return 'ok'
    })
    .get('/logout', async ({ session }) => {
      await session.destroy()
      return 'bye'
    })
    .get('/slow-login', async ({ session }) => {
      session.string('note', 'late')
      await gate
      await session.regenerate()
      return 'renewed'
    })
  const pair = cookiePairOf(await send(app, '/login'))
  const slow = send(app, '/slow-login', { cookie: pair })
  await Bun.sleep(5)
  await send(app, '/logout', { cookie: pair })
  release()
  const renewed = cookiePairOf(await slow)
  expect(idOf(renewed)).not.toBe(idOf(pair))
  expect(appDataOf((await engine.load(idOf(renewed), Date.now()))?.data)).toEqual({ 'string:note': 'late' })
  expect(await engine.count(Date.now())).toBe(1)
})

describe('when the session is saved', () => {
  test("writes in the app's own onAfterHandle hooks are saved with the handler's", async () => {
    const engine = memoryEngine()
    const app = new Elysia()
      .use(session({ secret: SECRET, engine }))
      .onAfterHandle(({ session }) => {
        session.string('stamp', 'after')
      })
      .get('/', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
    const pair = cookiePairOf(await send(app, '/'))
    expect(appDataOf((await engine.load(idOf(pair), Date.now()))?.data)).toEqual({
      'int:n': 1,
      'string:stamp': 'after',
    })
  })

  test('a change after the session was saved for its request throws instead of being lost', async () => {
    let kept: Session | undefined
    const app = new Elysia().use(session({ secret: SECRET })).get('/', ({ session }) => {
      kept = session
      session.int('n', 1)
      return 'ok'
    })
    await send(app, '/')
    expect(() => kept!.int('n', 2)).toThrow('already saved')
    expect(() => kept!.deleteInt('n')).toThrow('already saved')
    expect(kept!.int('n')).toBe(1)
  })
})
