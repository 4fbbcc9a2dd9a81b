import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import {
  memoryEngine,
  Session,
  SessionConfigError,
  type SessionEngine,
  SessionEngineError,
  type SessionLogger,
  session,
} from 'elysia-sessions'
import { FEATURE_ENGINES } from './support/engines.js'
import { callsOf, closingAfterEach, cookiePairOf, idOf, recordingEngine, SECRET, send } from './support/http.js'

const opened = closingAfterEach()

/** The storage key of the owner; public tests see only the package, so it is repeated here. */
const OWNER_KEY = 'meta:owner'

/** A logger that records what it receives. */
function recordingLogger(withWarn = true): SessionLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = []
  const errors: string[] = []
  const logger = {
    warnings,
    errors,
    error: (message: string) => {
      errors.push(message)
    },
  }
  return withWarn ? { ...logger, warn: (message: string) => warnings.push(message) } : logger
}

/** `engine` as an engine written before owners existed: the same store, no owner index. */
function withoutOwnerIndex(engine: SessionEngine): SessionEngine {
  return {
    name: `${engine.name} without owner index`,
    load: (id, now) => engine.load(id, now),
    commit: (id, changes, now) => engine.commit(id, changes, now),
    touch: (id, expiresAt, now) => engine.touch(id, expiresAt, now),
    delete: (id) => engine.delete(id),
    deleteAll: () => engine.deleteAll(),
    count: (now) => engine.count(now),
    entries: (now, options) => engine.entries(now, options),
    deleteExpired: (now) => engine.deleteExpired(now),
    close: () => engine.close(),
  }
}

interface AppOptions {
  readonly logger?: SessionLogger
  readonly timeout?: number
  readonly absoluteTimeout?: number
}

function ownersApp(engine: SessionEngine, options: AppOptions = {}) {
  let releaseSlowWrite: () => void = () => undefined
  let slowWriteLoaded: () => void = () => undefined
  const slowWrite = {
    loaded: new Promise<void>((resolve) => {
      slowWriteLoaded = resolve
    }),
    release: () => releaseSlowWrite(),
  }
  const app = new Elysia()
    // Engines without an owner index warn once per plugin: a quiet logger unless a test reads it.
    .use(session({ secret: SECRET, engine, gcInterval: 0, logger: recordingLogger(), ...options }))
    .post('/login/:user', async ({ session, params, headers }) => {
      await session.regenerate()
      session.owner(params.user)
      session.string('agent', headers['user-agent'] ?? 'unknown')
      return 'logged in'
    })
    .get('/me', ({ session }) => ({ owner: session.owner(), agent: session.stringOrNull('agent') }))
    .get('/devices', async ({ session, sessions }) => {
      const owner = session.owner()
      if (owner === null) return []
      return (await sessions.listByOwner(owner)).map((each) => ({
        id: each.id,
        current: each.id === session.id,
        agent: each.stringOrNull('agent'),
        createdAt: each.createdAt,
        expiresAt: each.expiresAt,
      }))
    })
    .post('/logout-everywhere-else', async ({ session, sessions }) => {
      const owner = session.owner()
      return { destroyed: owner === null ? 0 : await sessions.destroyByOwner(owner, { except: session.id }) }
    })
    .post('/regenerate', ({ session }) => session.regenerate().then(() => 'regenerated'))
    .post('/reset', ({ session }) => session.reset().then(() => 'reset'))
    .post('/destroy', ({ session }) => session.destroy().then(() => 'destroyed'))
    .post('/unbind', ({ session }) => {
      session.deleteOwner()
      session.string('agent', 'anonymous again')
      return 'unbound'
    })
    .post('/slow-write', async ({ session }) => {
      session.owner()
      slowWriteLoaded()
      await new Promise<void>((resolve) => {
        releaseSlowWrite = resolve
      })
      session.int('late', 1)
      return 'written'
    })
    .get('/snapshots', ({ session }) => ({
      ints: session.ints,
      strings: session.strings,
      floats: session.floats,
      bools: session.bools,
      objects: session.objects,
      bigints: Object.keys(session.bigints),
    }))
  return { app: opened(app), sessions: app.decorator.sessions, slowWrite }
}

async function login(
  app: { handle(request: Request): Promise<Response> },
  user: string,
  agent = 'test',
): Promise<string> {
  const pair = cookiePairOf(await send(app, `/login/${user}`, { method: 'POST', headers: { 'user-agent': agent } }))
  if (!pair) throw new Error('login set no cookie')
  return pair
}

const INVALID_OWNER_IDS: readonly unknown[] = [
  '',
  'x'.repeat(257),
  '😀'.repeat(129),
  null,
  undefined,
  42,
  {},
  ['alice'],
  new String('alice'),
]

describe.each(FEATURE_ENGINES)('owners on the %s engine', (_name, make) => {
  test("a login binds the session to its owner, and each of the owner's sessions is listed with its data", async () => {
    const { app, sessions } = ownersApp(await make())
    const laptop = await login(app, 'alice', 'laptop')
    const phone = await login(app, 'alice', 'phone')
    const bobs = await login(app, 'bob', 'tablet')
    expect(await (await send(app, '/me', { cookie: phone })).json()).toEqual({ owner: 'alice', agent: 'phone' })
    const devices = (await (await send(app, '/devices', { cookie: laptop })).json()) as {
      id: string
      current: boolean
      agent: string
      createdAt: number
      expiresAt: number
    }[]
    expect(
      devices
        .map(({ id, current, agent }) => ({ id, current, agent }))
        .toSorted((a, b) => (a.agent < b.agent ? -1 : 1)),
    ).toEqual([
      { id: idOf(laptop), current: true, agent: 'laptop' },
      { id: idOf(phone), current: false, agent: 'phone' },
    ])
    for (const { createdAt, expiresAt } of devices) expect(expiresAt).toBeGreaterThan(createdAt)
    const listed = await sessions.listByOwner('bob')
    expect(listed.map((each) => each.id)).toEqual([idOf(bobs)])
    expect(listed[0]).toBeInstanceOf(Session)
    expect(listed[0]?.owner()).toBe('bob')
    expect(await sessions.listByOwner('carol')).toEqual([])
  })

  test('log out everywhere else destroys the other sessions of the owner, keeps this one and the other owners', async () => {
    const { app, sessions } = ownersApp(await make())
    const here = await login(app, 'alice')
    const others = [await login(app, 'alice'), await login(app, 'alice')]
    const bobs = await login(app, 'bob')
    const response = await send(app, '/logout-everywhere-else', { method: 'POST', cookie: here })
    expect(await response.json()).toEqual({ destroyed: 2 })
    expect((await sessions.listByOwner('alice')).map((each) => each.id)).toEqual([idOf(here)])
    expect((await sessions.listByOwner('bob')).map((each) => each.id)).toEqual([idOf(bobs)])
    expect(await (await send(app, '/me', { cookie: here })).json()).toEqual({ owner: 'alice', agent: 'test' })
    for (const other of others) {
      expect(await sessions.get(idOf(other))).toBeNull()
      // The destroyed session's next request gets a fresh, anonymous session.
      expect(await (await send(app, '/me', { cookie: other })).json()).toEqual({ owner: null, agent: null })
      const fresh = cookiePairOf(await send(app, '/unbind', { method: 'POST', cookie: other }))
      expect(fresh).toBeDefined()
      expect(idOf(fresh)).not.toBe(idOf(other))
    }
  })

  test('destroyByOwner takes except as one id or a list, and resolves to 0 for an owner with no session', async () => {
    const { app, sessions } = ownersApp(await make())
    const pairs = [await login(app, 'alice'), await login(app, 'alice'), await login(app, 'alice')]
    const [first, second, third] = pairs.map(idOf) as [string, string, string]
    expect(await sessions.destroyByOwner('alice', { except: [first, second] })).toBe(1)
    expect(await sessions.get(third)).toBeNull()
    expect(await sessions.destroyByOwner('alice', { except: first })).toBe(1)
    expect((await sessions.listByOwner('alice')).map((each) => each.id)).toEqual([first])
    expect(await sessions.destroyByOwner('alice')).toBe(1)
    expect(await sessions.destroyByOwner('alice')).toBe(0)
    expect(await sessions.destroyByOwner('nobody')).toBe(0)
  })

  test('a request that loaded a session before destroyByOwner destroyed it cannot bring it back', async () => {
    const { app, sessions, slowWrite } = ownersApp(await make())
    const pair = await login(app, 'alice')
    const pending = send(app, '/slow-write', { method: 'POST', cookie: pair })
    await slowWrite.loaded
    expect(await sessions.destroyByOwner('alice')).toBe(1)
    slowWrite.release()
    const response = await pending
    expect(await response.text()).toBe('written')
    expect(await sessions.get(idOf(pair))).toBeNull()
    expect(await sessions.listByOwner('alice')).toEqual([])
    // The late write starts a fresh session under a new id, without the destroyed session's owner.
    const fresh = cookiePairOf(response)
    expect(idOf(fresh)).not.toBe(idOf(pair))
    expect((await sessions.get(idOf(fresh)))?.owner()).toBeNull()
  })

  test('regenerate keeps the owner under the new id; reset and destroy drop it', async () => {
    const { app, sessions } = ownersApp(await make())
    const before = await login(app, 'alice')
    const after = cookiePairOf(await send(app, '/regenerate', { method: 'POST', cookie: before }))
    expect(idOf(after)).not.toBe(idOf(before))
    expect((await sessions.listByOwner('alice')).map((each) => each.id)).toEqual([idOf(after)])
    for (const path of ['/reset', '/destroy']) {
      const pair = await login(app, 'bob')
      expect((await sessions.listByOwner('bob')).map((each) => each.id)).toEqual([idOf(pair)])
      const response = await send(app, path, { method: 'POST', cookie: pair })
      expect(response.status).toBe(200)
      expect(await sessions.listByOwner('bob')).toEqual([])
      expect(await (await send(app, '/me', { cookie: pair })).json()).toEqual({ owner: null, agent: null })
    }
  })

  test("deleteOwner unbinds the session, saved with the request's other changes", async () => {
    const { app, sessions } = ownersApp(await make())
    const pair = await login(app, 'alice')
    await send(app, '/unbind', { method: 'POST', cookie: pair })
    expect(await sessions.listByOwner('alice')).toEqual([])
    const stored = await sessions.get(idOf(pair))
    expect(stored?.owner()).toBeNull()
    expect(stored?.string('agent')).toBe('anonymous again')
  })

  test('session.owner rejects an invalid owner id with a TypeError and changes nothing', async () => {
    const engine = await make()
    const app = opened(
      new Elysia()
        .use(session({ secret: SECRET, engine, gcInterval: 0 }))
        .post('/bind', ({ session, body }) => {
          const { owner } = body as { owner: string }
          session.owner(owner)
          return session.owner()
        })
        .post('/bad', ({ session }) => {
          const refused = INVALID_OWNER_IDS.filter((ownerId) => {
            try {
              session.owner(ownerId as string)
              return false
            } catch (error) {
              return error instanceof TypeError
            }
          })
          return { refused: refused.length, owner: session.owner() }
        }),
    )
    const fresh = await send(app, '/bad', { method: 'POST' })
    expect(await fresh.json()).toEqual({ refused: INVALID_OWNER_IDS.length, owner: null })
    expect(fresh.headers.getSetCookie()).toEqual([])
    const longest = '😀'.repeat(128)
    const bound = await send(app, '/bind', { method: 'POST', json: { owner: longest } })
    expect(await bound.text()).toBe(longest)
    const pair = cookiePairOf(bound)
    const again = await send(app, '/bad', { method: 'POST', cookie: pair })
    expect(await again.json()).toEqual({ refused: INVALID_OWNER_IDS.length, owner: longest })
    expect(await app.decorator.sessions.listByOwner(longest)).toHaveLength(1)
  })

  test('sessions.listByOwner and destroyByOwner reject an invalid owner id or except with a TypeError', async () => {
    const { app, sessions } = ownersApp(await make())
    await login(app, 'alice')
    for (const ownerId of INVALID_OWNER_IDS) {
      await expect(sessions.listByOwner(ownerId as string)).rejects.toThrow(TypeError)
      await expect(sessions.destroyByOwner(ownerId as string)).rejects.toThrow(TypeError)
    }
    for (const except of [42, [1], null, { id: 'x' }]) {
      await expect(sessions.destroyByOwner('alice', { except } as never)).rejects.toThrow(TypeError)
    }
    await expect(sessions.destroyByOwner('alice', null as never)).rejects.toThrow(TypeError)
    expect(await sessions.listByOwner('alice')).toHaveLength(1)
  })

  test('the owner id never reaches the cookie, the response or a typed snapshot', async () => {
    const { app } = ownersApp(await make())
    const owner = 'owner-marker-7f3a'
    const response = await send(app, `/login/${owner}`, { method: 'POST' })
    const pair = cookiePairOf(response)
    expect(response.headers.getSetCookie().join('\n')).not.toContain(owner)
    expect(await response.text()).not.toContain(owner)
    const snapshots = await send(app, '/snapshots', { cookie: pair })
    const text = await snapshots.text()
    expect(text).toContain('"agent"')
    expect(text).not.toContain(owner)
    expect(text).not.toContain(OWNER_KEY)
  })

  test('sessions past their absolute lifetime are never listed', async () => {
    const { app, sessions } = ownersApp(await make(), { absoluteTimeout: 150 })
    const pair = await login(app, 'alice')
    expect(await sessions.listByOwner('alice')).toHaveLength(1)
    await Bun.sleep(200)
    expect(await sessions.listByOwner('alice')).toEqual([])
    expect(await sessions.get(idOf(pair))).toBeNull()
  })

  test('destroyByOwner never counts a session past an absolute lifetime set after it was stored', async () => {
    const engine = await make()
    await login(ownersApp(engine).app, 'alice')
    await Bun.sleep(200)
    const { app, sessions } = ownersApp(engine, { absoluteTimeout: 150 })
    await login(app, 'alice')
    expect(await sessions.destroyByOwner('alice')).toBe(1)
    expect(await sessions.listByOwner('alice')).toEqual([])
  })

  test('expired sessions are never listed, even before GC ran', async () => {
    const { app, sessions } = ownersApp(await make(), { timeout: 150 })
    await login(app, 'alice')
    expect(await sessions.listByOwner('alice')).toHaveLength(1)
    await Bun.sleep(200)
    expect(await sessions.listByOwner('alice')).toEqual([])
    expect(await sessions.destroyByOwner('alice')).toBe(0)
  })
})

describe('owners on an engine without an owner index', () => {
  test('listByOwner and destroyByOwner scan every session, give the same answers, and warn once per plugin', async () => {
    const logger = recordingLogger()
    const engine = withoutOwnerIndex(memoryEngine())
    const { app, sessions } = ownersApp(engine, { logger })
    const here = await login(app, 'alice')
    await login(app, 'alice')
    await login(app, 'bob')
    expect(logger.warnings).toEqual([])
    expect((await sessions.listByOwner('alice')).map((each) => each.id)).toContain(idOf(here))
    expect(await sessions.listByOwner('alice')).toHaveLength(2)
    expect(await sessions.destroyByOwner('alice', { except: idOf(here) })).toBe(1)
    expect((await sessions.listByOwner('alice')).map((each) => each.id)).toEqual([idOf(here)])
    expect(await sessions.listByOwner('bob')).toHaveLength(1)
    expect(logger.warnings).toHaveLength(1)
    expect(logger.warnings[0]).toContain('owner index')
    expect(logger.warnings[0]).toContain('read every session')
    expect(logger.errors).toEqual([])
    // Another plugin warns for itself.
    const other = ownersApp(withoutOwnerIndex(memoryEngine()), { logger })
    await other.sessions.destroyByOwner('alice')
    expect(logger.warnings).toHaveLength(2)
  })

  test('without logger.warn, the warning goes to logger.error', async () => {
    const logger = recordingLogger(false)
    const { sessions } = ownersApp(withoutOwnerIndex(memoryEngine()), { logger })
    expect(await sessions.listByOwner('alice')).toEqual([])
    expect(logger.errors).toHaveLength(1)
    expect(logger.errors[0]).toContain('owner index')
  })

  test('an engine with an owner index is asked for one owner and never scanned, and nothing is warned', async () => {
    const logger = recordingLogger()
    const inner = memoryEngine()
    let scans = 0
    const engine: SessionEngine = {
      ...inner,
      entries: (now, options) => {
        scans++
        return inner.entries(now, options)
      },
    }
    const { app, sessions } = ownersApp(engine, { logger })
    await login(app, 'alice')
    expect(await sessions.listByOwner('alice')).toHaveLength(1)
    expect(await sessions.destroyByOwner('alice')).toBe(1)
    expect(scans).toBe(0)
    expect(logger.warnings).toEqual([])
  })

  test('the fallback never lists a session past its absolute lifetime', async () => {
    const { app, sessions } = ownersApp(withoutOwnerIndex(memoryEngine()), {
      absoluteTimeout: 150,
      logger: recordingLogger(),
    })
    await login(app, 'alice')
    await Bun.sleep(200)
    expect(await sessions.listByOwner('alice')).toEqual([])
    expect(await sessions.destroyByOwner('alice')).toBe(0)
  })
})

describe('owners and the engine', () => {
  test('a regenerate() racing destroyByOwner never brings the destroyed session back under its new id', async () => {
    const inner = memoryEngine()
    // Runs once, right after the engine answered the regenerate's touch of the old id.
    let afterTouch: (() => Promise<unknown>) | undefined
    const engine: SessionEngine = {
      ...inner,
      name: 'memory, paused after touch',
      listByOwner: inner.listByOwner?.bind(inner),
      deleteByOwner: inner.deleteByOwner?.bind(inner),
      async touch(id, expiresAt, now) {
        const alive = await inner.touch(id, expiresAt, now)
        const run = afterTouch
        afterTouch = undefined
        await run?.()
        return alive
      },
    }
    const app = opened(
      new Elysia()
        .use(session({ secret: SECRET, engine, gcInterval: 0 }))
        .get('/login', ({ session }) => {
          session.owner('u1')
          return 'ok'
        })
        .get('/elevate', async ({ session }) => {
          await session.regenerate()
          session.int('elevated', 1)
          return 'ok'
        }),
    )
    const { sessions } = app.decorator
    const pair = cookiePairOf(await send(app, '/login'))
    let destroyed: number | undefined
    afterTouch = async () => {
      destroyed = await sessions.destroyByOwner('u1')
    }
    expect((await send(app, '/elevate', { cookie: pair })).status).toBe(200)
    expect(destroyed).toBeGreaterThan(0)
    expect(await sessions.listByOwner('u1')).toEqual([])
  })

  test('a request that never binds an owner sends no owner change to the engine', async () => {
    const engine = recordingEngine()
    const app = opened(
      new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0 })).get('/write', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      }),
    )
    const pair = cookiePairOf(await send(app, '/write'))
    await send(app, '/write', { cookie: pair })
    const commits = callsOf(engine, 'commit')
    expect(commits).toHaveLength(2)
    for (const { args } of commits) expect(Object.hasOwn(args[1] as object, 'owner')).toBe(false)
  })

  test('binding the owner a session already has writes nothing', async () => {
    const engine = recordingEngine()
    const app = opened(
      new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0 })).get('/bind', ({ session }) => {
        session.owner('alice')
        return 'ok'
      }),
    )
    const first = await send(app, '/bind')
    expect(callsOf(engine, 'commit').map(({ args }) => (args[1] as { owner?: string }).owner)).toEqual(['alice'])
    const second = await send(app, '/bind', { cookie: cookiePairOf(first) })
    expect(second.headers.getSetCookie()).toEqual([])
    expect(callsOf(engine, 'commit')).toHaveLength(1)
  })

  test('an engine that declares capabilities.owners without its methods is a SessionConfigError', () => {
    const inner = memoryEngine()
    const { listByOwner: _list, ...withoutList } = inner
    expect(() => session({ secret: SECRET, engine: withoutList })).toThrow(SessionConfigError)
    expect(() => session({ secret: SECRET, engine: withoutList })).toThrow(/listByOwner/)
    expect(() => session({ secret: SECRET, engine: { ...withoutList, capabilities: {} } })).not.toThrow()
  })

  test('an engine failure in listByOwner or deleteByOwner, or in the fallback scan, is a SessionEngineError', async () => {
    const failure = new Error('disk on fire')
    const inner = memoryEngine()
    const broken: SessionEngine = {
      ...inner,
      listByOwner: () => Promise.reject(failure),
      deleteByOwner: () => {
        throw failure
      },
    }
    const { sessions } = ownersApp(broken)
    await expect(sessions.listByOwner('alice')).rejects.toThrow(SessionEngineError)
    await expect(sessions.listByOwner('alice')).rejects.toMatchObject({ cause: failure })
    await expect(sessions.destroyByOwner('alice')).rejects.toMatchObject({ name: 'SessionEngineError', cause: failure })
    const scanning = ownersApp(
      {
        ...withoutOwnerIndex(memoryEngine()),
        entries: () => {
          throw failure
        },
      },
      { logger: recordingLogger() },
    )
    await expect(scanning.sessions.listByOwner('alice')).rejects.toMatchObject({
      name: 'SessionEngineError',
      cause: failure,
    })
    await expect(scanning.sessions.destroyByOwner('alice')).rejects.toThrow(SessionEngineError)
  })
})
