import { describe, expect, test } from 'bun:test'
import { memoryEngine } from '../../src/engines/memory.js'
import { SessionConfigError } from '../../src/errors.js'
import { CREATED_AT_KEY } from '../../src/internal-keys.js'
import { Session } from '../../src/session.js'
import { type SessionRuntime, SessionState } from '../../src/session-state.js'
import { type StorableClass, storable } from '../../src/storable.js'
import { NO_SCHEMA } from '../support/schema.js'

// The registry is process-wide and shared by every test file, so each class and name here is unique to this file.

function makeRuntime(): SessionRuntime {
  return { engine: memoryEngine(), timeout: 60_000, touchInterval: 6_000, now: () => 1_000_000 }
}

function newSession(runtime: SessionRuntime): Session {
  return new Session(new SessionState(runtime, null, null), NO_SCHEMA)
}

/** Saves `session` and loads it back from the engine as a new Session. */
async function roundTrip(runtime: SessionRuntime, session: Session): Promise<Session> {
  await session.save()
  const stored = await runtime.engine.load(session.id, runtime.now())
  if (!stored) throw new Error('the session was not stored')
  return new Session(new SessionState(runtime, session.id, stored), NO_SCHEMA)
}

/** Defines a fresh storable class, so each test registers its own. */
function defineUserClass() {
  return class UserStorableTest {
    constructor(
      readonly id: number,
      readonly name: string,
    ) {}
    toJSON() {
      return { id: this.id, name: this.name }
    }
    static fromJSON(json: { id: number; name: string }) {
      return new UserStorableTest(json.id, json.name)
    }
  }
}

describe('storable', () => {
  test('an instance of a registered class survives a save and load as an instance of that class', async () => {
    const User = defineUserClass()
    storable(User, 'User-roundtrip-storable-test')
    const runtime = makeRuntime()
    const session = newSession(runtime)
    session.object('user', new User(7, 'Ada'))
    const loaded = await roundTrip(runtime, session)
    const user = loaded.object<InstanceType<typeof User>>('user')
    expect(user).toBeInstanceOf(User)
    expect(user.id).toBe(7)
    expect(user.name).toBe('Ada')
  })

  test('the registered name and the toJSON output are what the engine stores', async () => {
    const User = defineUserClass()
    storable(User, 'custom-name-storable-test')
    const runtime = makeRuntime()
    const session = newSession(runtime)
    session.object('user', new User(7, 'Ada'))
    await session.save()
    const stored = await runtime.engine.load(session.id, runtime.now())
    expect(stored?.data).toEqual({
      'object:user': { type: 'custom-name-storable-test', object: { id: 7, name: 'Ada' } },
      [CREATED_AT_KEY]: 1_000_000,
    })
  })

  test('without a name the class name is the stored name', async () => {
    class DefaultNameStorableTest {
      toJSON() {
        return { v: 1 }
      }
      static fromJSON() {
        return new DefaultNameStorableTest()
      }
    }
    storable(DefaultNameStorableTest)
    const runtime = makeRuntime()
    const session = newSession(runtime)
    session.object('o', new DefaultNameStorableTest())
    await session.save()
    const stored = await runtime.engine.load(session.id, runtime.now())
    expect(stored?.data['object:o']).toEqual({ type: 'DefaultNameStorableTest', object: { v: 1 } })
  })

  test('registering the same class twice is a no-op', async () => {
    const User = defineUserClass()
    storable(User, 'User-twice-storable-test')
    expect(() => storable(User, 'User-twice-storable-test')).not.toThrow()
    const runtime = makeRuntime()
    const session = newSession(runtime)
    session.object('user', new User(1, 'Bo'))
    expect((await roundTrip(runtime, session)).object('user')).toBeInstanceOf(User)
  })

  test('another class under a taken name throws a SessionConfigError and keeps the first registration', async () => {
    const First = defineUserClass()
    const Second = defineUserClass()
    storable(First, 'User-taken-storable-test')
    expect(() => storable(Second, 'User-taken-storable-test')).toThrow(SessionConfigError)
    const runtime = makeRuntime()
    const session = newSession(runtime)
    session.object('user', new First(1, 'Bo'))
    expect((await roundTrip(runtime, session)).object('user')).toBeInstanceOf(First)
    expect(() => session.object('user', new Second(2, 'Cy'))).toThrow(TypeError)
  })

  test('one class under a second name throws a SessionConfigError', () => {
    const User = defineUserClass()
    storable(User, 'User-first-name-storable-test')
    expect(() => storable(User, 'User-second-name-storable-test')).toThrow(SessionConfigError)
  })

  test('a class without a static fromJSON throws a SessionConfigError', () => {
    class NoFromJsonStorableTest {
      toJSON() {
        return {}
      }
    }
    expect(() => storable(NoFromJsonStorableTest as unknown as StorableClass)).toThrow(SessionConfigError)
  })

  test('a class without toJSON throws a SessionConfigError', () => {
    class NoToJsonStorableTest {
      readonly kind = 'no toJSON'
      static fromJSON() {
        return new NoToJsonStorableTest()
      }
    }
    expect(() => storable(NoToJsonStorableTest)).toThrow(SessionConfigError)
  })

  test('a rejected class stays unregistered', () => {
    class RejectedStorableTest {
      readonly kind = 'rejected'
      static fromJSON() {
        return new RejectedStorableTest()
      }
    }
    expect(() => storable(RejectedStorableTest)).toThrow(SessionConfigError)
    expect(() => newSession(makeRuntime()).object('o', new RejectedStorableTest())).toThrow(TypeError)
  })

  test('an empty name throws a SessionConfigError', () => {
    expect(() => storable(defineUserClass(), '')).toThrow(SessionConfigError)
  })

  test('BUG: storable(null) and storable(undefined) throw a SessionConfigError', () => {
    expect(() => storable(null as unknown as StorableClass)).toThrow(SessionConfigError)
    expect(() => storable(undefined as unknown as StorableClass)).toThrow(SessionConfigError)
  })

  test('storing an instance of an unregistered class throws a TypeError that mentions storable()', () => {
    class UnregisteredStorableTest {
      toJSON() {
        return {}
      }
      static fromJSON() {
        return new UnregisteredStorableTest()
      }
    }
    const session = newSession(makeRuntime())
    expect(() => session.object('o', new UnregisteredStorableTest())).toThrow(
      'register its class first with storable(UnregisteredStorableTest)',
    )
    expect(() => session.object('o', new UnregisteredStorableTest())).toThrow(TypeError)
    expect(session.objectOrNull('o')).toBeNull()
  })

  test('storing a plain object throws a TypeError that mentions storable()', () => {
    const session = newSession(makeRuntime())
    expect(() => session.object('o', { id: 1 })).toThrow(TypeError)
    expect(() => session.object('o', { id: 1 })).toThrow('storable(')
  })

  test('an instance of a subclass of a registered class is not storable', () => {
    const User = defineUserClass()
    storable(User, 'User-base-storable-test')
    class AdminStorableTest extends User {}
    expect(() => newSession(makeRuntime()).object('o', new AdminStorableTest(1, 'Ad'))).toThrow(TypeError)
  })

  test('a stored object under a name that no class is registered as reads as absent', async () => {
    const runtime = makeRuntime()
    const session = newSession(runtime)
    await runtime.engine.commit(
      session.id,
      {
        set: { 'object:o': { type: 'never-registered-storable-test', object: {} } },
        deleted: [],
        expiresAt: 2_000_000,
      },
      runtime.now(),
    )
    const stored = await runtime.engine.load(session.id, runtime.now())
    const loaded = new Session(new SessionState(runtime, session.id, stored), NO_SCHEMA)
    expect(loaded.objectOrNull('o')).toBeNull()
    expect(loaded.objects).toEqual({})
  })

  test('the registry is process-wide: a class registered once revives in sessions of any engine', async () => {
    const User = defineUserClass()
    storable(User, 'User-process-wide-storable-test')
    for (const runtime of [makeRuntime(), makeRuntime()]) {
      const session = newSession(runtime)
      session.object('user', new User(3, 'Di'))
      expect((await roundTrip(runtime, session)).object('user')).toBeInstanceOf(User)
    }
  })
})
