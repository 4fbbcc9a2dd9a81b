import { describe, expect, test } from 'bun:test'
import { cookieActionFor } from '../../src/cookie-decision.js'
import type { SessionChanges, SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { SessionEngineError } from '../../src/errors.js'
import { CREATED_AT_KEY } from '../../src/internal-keys.js'
import { Session, stateOf } from '../../src/session.js'
import { type SessionMode, type SessionRuntime, SessionState } from '../../src/session-state.js'
import { NO_SCHEMA } from '../support/schema.js'

const TIMEOUT = 60_000
const TOUCH_INTERVAL = 6_000
const START = 1_000_000

interface Spy {
  readonly engine: SessionEngine
  readonly commits: { id: string; changes: SessionChanges; now: number }[]
  readonly deletes: string[]
  /** While set, commit and delete reject with this error. */
  failWith: Error | null
}

/** A memory engine that records commit and delete calls and can be made to fail. */
function spyEngine(): Spy {
  const inner = memoryEngine()
  const spy: Spy = {
    commits: [],
    deletes: [],
    failWith: null,
    engine: {
      ...inner,
      async commit(id, changes, now) {
        spy.commits.push({ id, changes, now })
        if (spy.failWith) throw spy.failWith
        return inner.commit(id, changes, now)
      },
      async delete(id) {
        spy.deletes.push(id)
        if (spy.failWith) throw spy.failWith
        return inner.delete(id)
      },
    },
  }
  return spy
}

interface Fixture {
  readonly spy: Spy
  readonly runtime: SessionRuntime
  readonly clock: { now: number }
  /** A new, never-saved session. */
  fresh(mode?: SessionMode): { state: SessionState; session: Session }
  /** Loads `id` from the engine into a new session. */
  load(id: string, mode?: SessionMode): Promise<{ state: SessionState; session: Session }>
  /** A session saved with `int:k = 1` and loaded back; no commits recorded yet. */
  stored(mode?: SessionMode): Promise<{ state: SessionState; session: Session }>
  /** How many sessions the engine holds now. */
  count(): Promise<number>
}

function fixture(): Fixture {
  const spy = spyEngine()
  const clock = { now: START }
  const runtime: SessionRuntime = {
    engine: spy.engine,
    timeout: TIMEOUT,
    touchInterval: TOUCH_INTERVAL,
    now: () => clock.now,
  }
  const self: Fixture = {
    spy,
    runtime,
    clock,
    fresh(mode = 'request') {
      const state = new SessionState(runtime, null, null, mode)
      return { state, session: new Session(state, NO_SCHEMA) }
    },
    async load(id, mode = 'request') {
      const stored = await runtime.engine.load(id, clock.now)
      if (!stored) throw new Error(`session ${id} is not stored`)
      const state = new SessionState(runtime, id, stored, mode)
      return { state, session: new Session(state, NO_SCHEMA) }
    },
    async stored(mode = 'request') {
      const { session } = self.fresh()
      session.int('k', 1)
      await session.save()
      spy.commits.length = 0
      return self.load(session.id, mode)
    },
    count: () => runtime.engine.count(clock.now),
  }
  return self
}

async function rejectionOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}

describe('session id', () => {
  test('id is a 32-character base64url string', () => {
    const { session } = fixture().fresh()
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })

  test('id stays the same across reads', () => {
    const { session } = fixture().fresh()
    expect(session.id).toBe(session.id)
  })

  test('reading the id of a new session writes nothing', async () => {
    const f = fixture()
    const { session } = f.fresh()
    void session.id
    await session.save()
    expect(f.spy.commits).toHaveLength(0)
    expect(await f.count()).toBe(0)
  })

  test('two new sessions get different ids', () => {
    const f = fixture()
    expect(f.fresh().session.id).not.toBe(f.fresh().session.id)
  })
})

describe('save', () => {
  test('save commits the changed keys with an expiry of now + timeout', async () => {
    const f = fixture()
    const { session } = f.fresh()
    session.int('a', 1)
    session.string('b', 'two')
    await session.save()
    expect(f.spy.commits).toEqual([
      {
        id: session.id,
        changes: {
          set: { 'int:a': 1, 'string:b': 'two', [CREATED_AT_KEY]: START },
          deleted: [],
          expiresAt: START + TIMEOUT,
          existingOnly: false,
        },
        now: START,
      },
    ])
    expect(session.expiresAt).toBe(START + TIMEOUT)
  })

  test('a second save without changes commits nothing', async () => {
    const f = fixture()
    const { session } = f.fresh()
    session.int('a', 1)
    await session.save()
    await session.save()
    expect(f.spy.commits).toHaveLength(1)
  })

  test('a save after further changes commits only those changes', async () => {
    const f = fixture()
    const { session } = f.fresh()
    session.int('a', 1)
    await session.save()
    session.int('b', 2)
    await session.save()
    expect(f.spy.commits[1]?.changes.set).toEqual({ 'int:b': 2 })
    expect((await f.load(session.id)).session.ints).toEqual({ a: 1, b: 2 })
  })

  test('saving a loaded session that was only read commits nothing', async () => {
    const f = fixture()
    const { session } = await f.stored()
    expect(session.int('k')).toBe(1)
    void session.ints
    await session.save()
    expect(f.spy.commits).toHaveLength(0)
  })

  test("a save after deleteInt of a loaded key sends deleted: ['int:k']", async () => {
    const f = fixture()
    const { session } = await f.stored()
    session.deleteInt('k')
    await session.save()
    expect(f.spy.commits).toHaveLength(1)
    expect(f.spy.commits[0]?.changes.set).toEqual({})
    expect(f.spy.commits[0]?.changes.deleted).toEqual(['int:k'])
    expect((await f.load(session.id)).session.intOrNull('k')).toBeNull()
  })

  test('a new session with only deletes stores nothing', async () => {
    const f = fixture()
    const { session } = f.fresh()
    session.deleteInt('k')
    session.deleteString('s')
    await session.save()
    expect(f.spy.commits).toHaveLength(0)
    expect(await f.count()).toBe(0)
  })

  test('a new session whose only write was deleted again stores nothing', async () => {
    const f = fixture()
    const { session } = f.fresh()
    session.int('k', 1)
    session.deleteInt('k')
    await session.save()
    expect(f.spy.commits).toHaveLength(0)
    expect(await f.count()).toBe(0)
  })

  test('a request session slides its expiry on a save once touchInterval has passed since its last activity', async () => {
    const f = fixture()
    const { session } = await f.stored()
    f.clock.now += TOUCH_INTERVAL
    session.int('k', 2)
    await session.save()
    const slid = START + TOUCH_INTERVAL + TIMEOUT
    expect(f.spy.commits[0]?.changes.expiresAt).toBe(slid)
    expect((await f.runtime.engine.load(session.id, f.clock.now))?.expiresAt).toBe(slid)
    expect(cookieActionFor(stateOf(session))).toBe('send')
  })

  test('a save within touchInterval keeps the expiry, so the cookie need not be sent again', async () => {
    const f = fixture()
    const { session } = await f.stored()
    f.clock.now += TOUCH_INTERVAL - 1
    session.int('k', 2)
    await session.save()
    expect(f.spy.commits[0]?.changes.expiresAt).toBe(START + TIMEOUT)
    expect((await f.runtime.engine.load(session.id, f.clock.now))?.data).toEqual({
      'int:k': 2,
      [CREATED_AT_KEY]: START,
    })
    expect(cookieActionFor(stateOf(session))).toBe('none')
  })

  test('a detached session keeps its stored expiresAt on save', async () => {
    const f = fixture()
    const { session } = await f.stored('detached')
    f.clock.now += 1_000
    session.int('k', 2)
    await session.save()
    expect(f.spy.commits[0]?.changes.expiresAt).toBe(START + TIMEOUT)
    expect(session.expiresAt).toBe(START + TIMEOUT)
    const reloaded = await f.runtime.engine.load(session.id, f.clock.now)
    expect(reloaded).toEqual({ data: { 'int:k': 2, [CREATED_AT_KEY]: START }, expiresAt: START + TIMEOUT })
  })

  test('save sets the cookie action to send', async () => {
    const f = fixture()
    const { state, session } = f.fresh()
    session.int('k', 1)
    await session.save()
    expect(cookieActionFor(state)).toBe('send')
  })
})

describe('engine failures', () => {
  test('save throws a SessionEngineError whose cause is the engine error', async () => {
    const f = fixture()
    const { session } = f.fresh()
    const failure = new Error('disk full')
    f.spy.failWith = failure
    session.int('k', 1)
    const error = await rejectionOf(() => session.save())
    expect(error).toBeInstanceOf(SessionEngineError)
    expect((error as SessionEngineError).cause).toBe(failure)
    // The message names the operation only; what the engine said stays in the cause, out of any response.
    expect((error as SessionEngineError).message).toBe('Session engine failed to commit a session')
  })

  test('changes of a failed save stay pending and a later save writes them', async () => {
    const f = fixture()
    const { state, session } = f.fresh()
    f.spy.failWith = new Error('down')
    session.int('k', 1)
    await rejectionOf(() => session.save())
    expect(state.hasChanges).toBe(true)
    f.spy.failWith = null
    await session.save()
    expect((await f.load(session.id)).session.int('k')).toBe(1)
  })

  test('deletes of a failed save stay pending and a later save sends them', async () => {
    const f = fixture()
    const { session } = await f.stored()
    f.spy.failWith = new Error('down')
    session.deleteInt('k')
    await rejectionOf(() => session.save())
    f.spy.failWith = null
    await session.save()
    expect(f.spy.commits.at(-1)?.changes.deleted).toEqual(['int:k'])
    expect((await f.load(session.id)).session.intOrNull('k')).toBeNull()
  })

  test('a write made while a failing save is in flight wins over the failed value', async () => {
    const f = fixture()
    const { session } = f.fresh()
    f.spy.failWith = new Error('down')
    session.int('k', 1)
    const saving = rejectionOf(() => session.save())
    session.int('k', 2)
    await saving
    f.spy.failWith = null
    await session.save()
    expect((await f.load(session.id)).session.int('k')).toBe(2)
  })

  test('destroy throws a SessionEngineError and keeps the id when the engine delete fails', async () => {
    const f = fixture()
    const { session } = await f.stored()
    const id = session.id
    const failure = new Error('unreachable')
    f.spy.failWith = failure
    const error = await rejectionOf(() => session.destroy())
    expect(error).toBeInstanceOf(SessionEngineError)
    expect((error as SessionEngineError).cause).toBe(failure)
    expect(session.id).toBe(id)
  })
})

describe('destroy and reset', () => {
  for (const method of ['destroy', 'reset'] as const) {
    test(`${method}() deletes the session from the engine`, async () => {
      const f = fixture()
      const { session } = await f.stored()
      const oldId = session.id
      await session[method]()
      expect(await f.runtime.engine.load(oldId, f.clock.now)).toBeNull()
      expect(await f.count()).toBe(0)
    })

    test(`${method}() gives the session a new id`, async () => {
      const f = fixture()
      const { session } = await f.stored()
      const oldId = session.id
      await session[method]()
      expect(session.id).not.toBe(oldId)
      expect(session.id).toMatch(/^[A-Za-z0-9_-]{32}$/)
    })

    test(`${method}() empties the data, pending writes included`, async () => {
      const f = fixture()
      const { state, session } = await f.stored()
      session.string('pending', 'x')
      await session[method]()
      expect(state.data.size).toBe(0)
      expect(session.intOrNull('k')).toBeNull()
      expect(session.stringOrNull('pending')).toBeNull()
      expect(session.expiresAt).toBeNull()
      expect(state.hasChanges).toBe(false)
    })

    test(`${method}() sets the cookie action to clear`, async () => {
      const f = fixture()
      const { state, session } = await f.stored()
      await session[method]()
      expect(cookieActionFor(state)).toBe('clear')
    })

    test(`a write and save after ${method}() stores a new session under the new id only`, async () => {
      const f = fixture()
      const { session } = await f.stored()
      const oldId = session.id
      await session[method]()
      session.int('after', 2)
      await session.save()
      expect(await f.runtime.engine.load(oldId, f.clock.now)).toBeNull()
      const reloaded = await f.runtime.engine.load(session.id, f.clock.now)
      expect(reloaded?.data).toEqual({ 'int:after': 2, [CREATED_AT_KEY]: START })
      expect(await f.count()).toBe(1)
    })

    test(`${method}() of a never-saved session calls no engine delete`, async () => {
      const f = fixture()
      const { session } = f.fresh()
      session.int('k', 1)
      await session[method]()
      expect(f.spy.deletes).toHaveLength(0)
      expect(await f.count()).toBe(0)
    })
  }
})

describe('regenerate', () => {
  test('regenerate() gives a stored session a new id and keeps its data', async () => {
    const f = fixture()
    const { session } = await f.stored()
    const oldId = session.id
    await session.regenerate()
    expect(session.id).not.toBe(oldId)
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(session.int('k')).toBe(1)
  })

  test('regenerate() removes the old id from the engine and stores the data under the new id', async () => {
    const f = fixture()
    const { session } = await f.stored()
    const oldId = session.id
    session.string('pending', 'p')
    await session.regenerate()
    expect(await f.runtime.engine.load(oldId, f.clock.now)).toBeNull()
    expect((await f.runtime.engine.load(session.id, f.clock.now))?.data).toEqual({
      'int:k': 1,
      'string:pending': 'p',
      [CREATED_AT_KEY]: START,
    })
    expect(await f.count()).toBe(1)
  })

  test('regenerate() of a never-saved session only changes the id', async () => {
    const f = fixture()
    const { state, session } = f.fresh()
    const oldId = session.id
    await session.regenerate()
    expect(session.id).not.toBe(oldId)
    expect(f.spy.commits).toHaveLength(0)
    expect(f.spy.deletes).toHaveLength(0)
    expect(await f.count()).toBe(0)
    expect(cookieActionFor(state)).toBe('none')
  })

  test('pending writes of a never-saved session are saved under the regenerated id', async () => {
    const f = fixture()
    const { session } = f.fresh()
    session.int('k', 1)
    const oldId = session.id
    await session.regenerate()
    await session.save()
    expect(await f.runtime.engine.load(oldId, f.clock.now)).toBeNull()
    expect((await f.runtime.engine.load(session.id, f.clock.now))?.data).toEqual({
      'int:k': 1,
      [CREATED_AT_KEY]: START,
    })
  })
})

describe('touchIfDue', () => {
  test('touchIfDue does nothing before touchInterval has passed since the last activity', async () => {
    const f = fixture()
    const { state } = await f.stored()
    f.clock.now = START + TOUCH_INTERVAL - 1
    await state.touchIfDue()
    expect(state.expiresAt).toBe(START + TIMEOUT)
    expect(cookieActionFor(state)).toBe('none')
    expect((await f.runtime.engine.load(state.id, f.clock.now))?.expiresAt).toBe(START + TIMEOUT)
  })

  test('touchIfDue moves the expiry once touchInterval has passed and sets the cookie action to send', async () => {
    const f = fixture()
    const { state } = await f.stored()
    f.clock.now = START + TOUCH_INTERVAL
    await state.touchIfDue()
    expect(state.expiresAt).toBe(START + TOUCH_INTERVAL + TIMEOUT)
    expect(cookieActionFor(state)).toBe('send')
    expect((await f.runtime.engine.load(state.id, f.clock.now))?.expiresAt).toBe(START + TOUCH_INTERVAL + TIMEOUT)
  })

  test('touchIfDue measures the interval from the last touch, not from the first save', async () => {
    const f = fixture()
    const { state } = await f.stored()
    f.clock.now = START + TOUCH_INTERVAL
    await state.touchIfDue()
    f.clock.now = START + 2 * TOUCH_INTERVAL - 1
    const again = await f.load(state.id)
    await again.state.touchIfDue()
    expect(again.state.expiresAt).toBe(START + TOUCH_INTERVAL + TIMEOUT)
    expect(cookieActionFor(again.state)).toBe('none')
  })

  test('touchIfDue does nothing for a never-saved session', async () => {
    const f = fixture()
    const { state } = f.fresh()
    f.clock.now = START + TIMEOUT
    await state.touchIfDue()
    expect(cookieActionFor(state)).toBe('none')
    expect(await f.count()).toBe(0)
  })

  test('touchIfDue does nothing for a detached session', async () => {
    const f = fixture()
    const { state } = await f.stored('detached')
    f.clock.now = START + TOUCH_INTERVAL * 2
    await state.touchIfDue()
    expect(state.expiresAt).toBe(START + TIMEOUT)
    expect((await f.runtime.engine.load(state.id, f.clock.now))?.expiresAt).toBe(START + TIMEOUT)
  })
})

describe('disabled sessions', () => {
  const uses: Record<string, (session: Session) => unknown> = {
    'int read': (session) => session.int('k'),
    'int write': (session) => session.int('k', 1),
    id: (session) => session.id,
    expiresAt: (session) => session.expiresAt,
    ints: (session) => session.ints,
    deleteInt: (session) => session.deleteInt('k'),
    save: (session) => session.save(),
    destroy: (session) => session.destroy(),
    regenerate: (session) => session.regenerate(),
  }

  for (const [name, use] of Object.entries(uses)) {
    test(`a disabled session throws an Error mentioning session: false on ${name}`, async () => {
      const f = fixture()
      const session = new Session(new SessionState(f.runtime, null, null, 'disabled'), NO_SCHEMA)
      const error = await rejectionOf(() => use(session))
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toContain('session: false')
      expect(f.spy.commits).toHaveLength(0)
    })
  }
})

describe('the cookie after regenerate', () => {
  test('regenerate in the same millisecond as the last save still sends the new cookie', async () => {
    const f = fixture()
    const { session } = await f.stored()
    // The clock does not move: the new record's expiry equals the old one's.
    await session.regenerate()
    expect(cookieActionFor(stateOf(session))).toBe('send')
  })
})
