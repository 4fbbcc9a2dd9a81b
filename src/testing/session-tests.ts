import { describe, expect, test } from 'bun:test'
import type { SessionData } from '../engine.js'
import {
  type ConformanceHarness,
  commitFor,
  EXPIRY_WAIT,
  LONG_LIFETIME,
  newId,
  SHORT_LIFETIME,
  tryToChange,
} from './harness.js'

// Every test shares one store, so none may run alongside another even under `bun test --concurrent`.
const contractTest = test.serial

/** How many concurrent commits the concurrency tests run against one session. */
const CONCURRENT_COMMITS = 50

/** A storable object as the plugin encodes it: the registered name and the instance's JSON. */
const STORED_USER = { type: 'User', object: { id: 1, name: 'Ada', nested: { a: [1, 2, { b: null }] } } }

/** Ids that no plugin would send but that an engine must still answer with `null`, never an error. */
const MALFORMED_IDS = [
  '',
  ' ',
  'not a session id',
  '*',
  '?',
  '%',
  '../../etc/passwd',
  "'; DROP TABLE sessions; --",
  '{"$ne":null}',
  'x'.repeat(1_000),
  '😀',
]

/** Registers the tests of the methods that act on one session: load, commit, touch, delete, deleteAll and close. */
export function registerSessionTests(harness: ConformanceHarness, { sharedStore }: { sharedStore: boolean }): void {
  describe('load', () => {
    contractTest('load resolves to null for an unknown id', async () => {
      await commitFor(harness, newId(), { 'int:other': 1 })
      expect(await harness.engine.load(newId(), harness.clock.now())).toBeNull()
    })

    contractTest('load resolves to null for a malformed id', async () => {
      await commitFor(harness, newId(), { 'int:other': 1 })
      for (const id of MALFORMED_IDS) expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
    })

    contractTest('load resolves to the data and expiry of a committed session', async () => {
      const id = newId()
      const data = { 'int:count': 3, 'string:name': 'Ada', 'object:user': STORED_USER }
      const expiresAt = await commitFor(harness, id, data)
      expect(await harness.engine.load(id, harness.clock.now())).toEqual({ data, expiresAt })
    })

    contractTest(
      'load never returns an expired session, even before it has been swept',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'int:count': 1 }, SHORT_LIFETIME)
        expect(await harness.engine.load(id, harness.clock.now())).not.toBeNull()
        await harness.clock.advance(EXPIRY_WAIT)
        expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      },
      harness.slowTimeout,
    )

    contractTest('changing the data load returned never changes what is stored', async () => {
      const id = newId()
      const data = { 'int:count': 1, 'object:user': STORED_USER }
      await commitFor(harness, id, data)
      const loaded = await harness.engine.load(id, harness.clock.now())
      const mutable = loaded?.data as Record<string, unknown>
      tryToChange(() => {
        mutable['int:count'] = 2
      })
      tryToChange(() => {
        mutable['string:added'] = 'x'
      })
      tryToChange(() => (mutable['object:user'] as typeof STORED_USER).object.nested.a.push(3))
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual(data)
    })
  })

  describe('commit', () => {
    contractTest('commit creates a session that is unknown', async () => {
      const id = newId()
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      await commitFor(harness, id, { 'bool:created': true })
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'bool:created': true })
    })

    contractTest(
      'commit creates a session that expired at now from empty data',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'int:stale': 1, 'string:kept': 'old' }, SHORT_LIFETIME)
        await harness.clock.advance(EXPIRY_WAIT)
        const now = harness.clock.now()
        await harness.engine.commit(id, { set: { 'int:fresh': 2 }, deleted: [], expiresAt: now + LONG_LIFETIME }, now)
        expect(await harness.engine.load(id, harness.clock.now())).toEqual({
          data: { 'int:fresh': 2 },
          expiresAt: now + LONG_LIFETIME,
        })
      },
      harness.slowTimeout,
    )

    contractTest('changing the values a commit was given, once it resolved, never changes what is stored', async () => {
      const id = newId()
      const user = structuredClone(STORED_USER)
      const set: Record<string, unknown> = { 'int:count': 1, 'object:user': user }
      await harness.engine.commit(
        id,
        { set: set as SessionData, deleted: [], expiresAt: harness.clock.now() + LONG_LIFETIME },
        harness.clock.now(),
      )
      set['int:count'] = 2
      user.object.nested.a.push(3)
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({
        'int:count': 1,
        'object:user': STORED_USER,
      })
    })

    contractTest('commit resolves to true when it writes', async () => {
      const id = newId()
      const now = harness.clock.now()
      expect(
        await harness.engine.commit(id, { set: { 'int:n': 1 }, deleted: [], expiresAt: now + LONG_LIFETIME }, now),
      ).toBe(true)
      const changes = { set: { 'int:n': 2 }, deleted: [], expiresAt: now + LONG_LIFETIME, existingOnly: true }
      expect(await harness.engine.commit(id, changes, now)).toBe(true)
      expect((await harness.engine.load(id, now))?.data).toEqual({ 'int:n': 2 })
    })

    contractTest(
      'commit with existingOnly on a live session keeps the keys it does not change, removes deleted keys and sets the expiry',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'int:count': 1, 'string:name': 'Ada', 'bool:admin': true })
        const now = harness.clock.now()
        const expiresAt = now + LONG_LIFETIME + 1_000
        const changes = { set: { 'int:count': 2 }, deleted: ['bool:admin'], expiresAt, existingOnly: true }
        expect(await harness.engine.commit(id, changes, now)).toBe(true)
        expect(await harness.engine.load(id, harness.clock.now())).toEqual({
          data: { 'int:count': 2, 'string:name': 'Ada' },
          expiresAt,
        })
      },
    )

    contractTest(
      'two concurrent commits with existingOnly that change different keys of one live session both keep their writes',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'string:before': 'kept' })
        const now = harness.clock.now()
        const expiresAt = now + LONG_LIFETIME
        const results = await Promise.all(
          Array.from({ length: CONCURRENT_COMMITS }, (_, index) =>
            harness.engine.commit(
              id,
              { set: { [`int:key${index}`]: index }, deleted: [], expiresAt, existingOnly: true },
              now,
            ),
          ),
        )
        expect(results.every(Boolean)).toBe(true)
        const data = (await harness.engine.load(id, harness.clock.now()))?.data ?? {}
        expect(Object.keys(data).length).toBe(CONCURRENT_COMMITS + 1)
        expect(data['string:before']).toBe('kept')
      },
      harness.slowTimeout,
    )

    contractTest('commit with existingOnly leaves an unknown session alone and resolves to false', async () => {
      const id = newId()
      const now = harness.clock.now()
      const changes = { set: { 'int:n': 1 }, deleted: [], expiresAt: now + LONG_LIFETIME, existingOnly: true }
      expect(await harness.engine.commit(id, changes, now)).toBe(false)
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
    })

    contractTest('commit with existingOnly never re-creates a deleted session', async () => {
      const id = newId()
      await commitFor(harness, id, { 'string:user': 'ada' })
      await harness.engine.delete(id)
      const now = harness.clock.now()
      const changes = { set: { 'int:late': 1 }, deleted: [], expiresAt: now + LONG_LIFETIME, existingOnly: true }
      expect(await harness.engine.commit(id, changes, now)).toBe(false)
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
    })

    contractTest(
      'commit with existingOnly never re-creates an expired session',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'string:user': 'ada' }, SHORT_LIFETIME)
        await harness.clock.advance(EXPIRY_WAIT)
        const now = harness.clock.now()
        const changes = { set: { 'int:late': 1 }, deleted: [], expiresAt: now + LONG_LIFETIME, existingOnly: true }
        expect(await harness.engine.commit(id, changes, now)).toBe(false)
        expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      },
      harness.slowTimeout,
    )

    contractTest('commit writes the keys in set, replacing their old values', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1, 'string:name': 'Ada' })
      await commitFor(harness, id, { 'int:count': 2, 'string:name': 'Grace', 'bool:new': false })
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({
        'int:count': 2,
        'string:name': 'Grace',
        'bool:new': false,
      })
    })

    contractTest('commit keeps every stored key it does not change', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1, 'string:name': 'Ada', 'object:user': STORED_USER })
      await commitFor(harness, id, { 'int:count': 2 })
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({
        'int:count': 2,
        'string:name': 'Ada',
        'object:user': STORED_USER,
      })
    })

    contractTest('commit removes the keys in deleted', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1, 'string:name': 'Ada', 'bool:admin': true })
      const now = harness.clock.now()
      await harness.engine.commit(
        id,
        { set: {}, deleted: ['string:name', 'bool:admin'], expiresAt: now + LONG_LIFETIME },
        now,
      )
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'int:count': 1 })
    })

    contractTest('commit ignores a deleted key that is not stored', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1 })
      const now = harness.clock.now()
      await harness.engine.commit(id, { set: {}, deleted: ['string:absent'], expiresAt: now + LONG_LIFETIME }, now)
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'int:count': 1 })
    })

    contractTest('commit writes set and removes deleted in one call', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1, 'string:name': 'Ada', 'bool:admin': true })
      const now = harness.clock.now()
      await harness.engine.commit(
        id,
        { set: { 'int:count': 2, 'float:score': 0.5 }, deleted: ['bool:admin'], expiresAt: now + LONG_LIFETIME },
        now,
      )
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({
        'int:count': 2,
        'string:name': 'Ada',
        'float:score': 0.5,
      })
    })

    contractTest('commit makes changes.expiresAt the expiry, whether later or earlier than before', async () => {
      const id = newId()
      const now = harness.clock.now()
      for (const expiresAt of [now + LONG_LIFETIME, now + 2 * LONG_LIFETIME, now + LONG_LIFETIME / 2]) {
        await harness.engine.commit(id, { set: { 'int:count': 1 }, deleted: [], expiresAt }, now)
        expect((await harness.engine.load(id, now))?.expiresAt).toBe(expiresAt)
      }
    })

    contractTest('commit changes only the session it names', async () => {
      const [changed, untouched] = [newId(), newId()]
      const untouchedExpiresAt = await commitFor(harness, untouched, { 'int:count': 1, 'string:name': 'Ada' })
      await commitFor(harness, changed, { 'int:count': 1, 'string:name': 'Ada' })
      const now = harness.clock.now()
      await harness.engine.commit(
        changed,
        { set: { 'int:count': 2 }, deleted: ['string:name'], expiresAt: now + 2 * LONG_LIFETIME },
        now,
      )
      expect(await harness.engine.load(untouched, harness.clock.now())).toEqual({
        data: { 'int:count': 1, 'string:name': 'Ada' },
        expiresAt: untouchedExpiresAt,
      })
    })

    contractTest(
      'two concurrent commits that change different keys of one session both keep their writes',
      async () => {
        const id = newId()
        const now = harness.clock.now()
        const expiresAt = now + LONG_LIFETIME
        await Promise.all(
          Array.from({ length: CONCURRENT_COMMITS }, (_, index) =>
            harness.engine.commit(id, { set: { [`int:key${index}`]: index }, deleted: [], expiresAt }, now),
          ),
        )
        expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual(everyConcurrentKey())
      },
    )

    contractTest.if(sharedStore)(
      'two concurrent commits through two engines on one store that change different keys of one session both keep their writes',
      async () => {
        const [first, second] = [harness.engine, await harness.openEngine()]
        const id = newId()
        await commitFor(harness, id, { 'string:before': 'kept' }, LONG_LIFETIME, first)
        expect((await second.load(id, harness.clock.now()))?.data).toEqual({ 'string:before': 'kept' })
        const now = harness.clock.now()
        const expiresAt = now + LONG_LIFETIME
        await Promise.all(
          Array.from({ length: CONCURRENT_COMMITS }, (_, index) =>
            (index % 2 === 0 ? first : second).commit(
              id,
              { set: { [`int:key${index}`]: index }, deleted: [], expiresAt },
              now,
            ),
          ),
        )
        const expected = { 'string:before': 'kept', ...everyConcurrentKey() }
        expect((await first.load(id, harness.clock.now()))?.data).toEqual(expected)
        expect((await second.load(id, harness.clock.now()))?.data).toEqual(expected)
      },
    )
  })

  describe('touch', () => {
    contractTest(
      'touch moves the expiry of a live session and resolves to true',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'int:count': 1 }, SHORT_LIFETIME)
        const expiresAt = harness.clock.now() + LONG_LIFETIME
        expect(await harness.engine.touch(id, expiresAt, harness.clock.now())).toBe(true)
        await harness.clock.advance(EXPIRY_WAIT)
        expect(await harness.engine.load(id, harness.clock.now())).toEqual({ data: { 'int:count': 1 }, expiresAt })
      },
      harness.slowTimeout,
    )

    contractTest('touch never changes the data of a session', async () => {
      const id = newId()
      const data = { 'int:count': 1, 'string:name': 'Ada', 'object:user': STORED_USER }
      await commitFor(harness, id, data)
      const now = harness.clock.now()
      expect(await harness.engine.touch(id, now + 2 * LONG_LIFETIME, now)).toBe(true)
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual(data)
    })

    contractTest('touch resolves to false for an unknown id and never creates it', async () => {
      const id = newId()
      const now = harness.clock.now()
      expect(await harness.engine.touch(id, now + LONG_LIFETIME, now)).toBe(false)
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
    })

    contractTest(
      'touch never re-creates an expired session',
      async () => {
        const id = newId()
        await commitFor(harness, id, { 'int:count': 1 }, SHORT_LIFETIME)
        await harness.clock.advance(EXPIRY_WAIT)
        const now = harness.clock.now()
        expect(await harness.engine.touch(id, now + LONG_LIFETIME, now)).toBe(false)
        expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
        expect(await harness.engine.count(harness.clock.now())).toBe(0)
      },
      harness.slowTimeout,
    )

    contractTest('touch never re-creates a deleted session', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1 })
      await harness.engine.delete(id)
      const now = harness.clock.now()
      expect(await harness.engine.touch(id, now + LONG_LIFETIME, now)).toBe(false)
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
    })
  })

  describe('delete', () => {
    contractTest('delete removes the session', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1 })
      await harness.engine.delete(id)
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
    })

    contractTest('deleting an unknown id is a no-op, never an error', async () => {
      const id = newId()
      await commitFor(harness, id, { 'int:count': 1 })
      await harness.engine.delete(newId())
      expect(await harness.engine.count(harness.clock.now())).toBe(1)
      await harness.engine.delete(id)
      await harness.engine.delete(id)
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
    })

    contractTest('delete removes only the session it names', async () => {
      const [deleted, kept] = [newId(), newId()]
      await commitFor(harness, deleted, { 'int:count': 1 })
      const keptExpiresAt = await commitFor(harness, kept, { 'int:count': 2 })
      await harness.engine.delete(deleted)
      expect(await harness.engine.load(kept, harness.clock.now())).toEqual({
        data: { 'int:count': 2 },
        expiresAt: keptExpiresAt,
      })
      expect(await harness.engine.count(harness.clock.now())).toBe(1)
    })
  })

  describe('deleteAll', () => {
    contractTest('deleteAll deletes every session, live or expired', async () => {
      const live = [newId(), newId(), newId()]
      for (const id of live) await commitFor(harness, id, { 'int:count': 1 })
      const expired = newId()
      await commitFor(harness, expired, { 'int:count': 1 }, SHORT_LIFETIME)
      expect(await harness.engine.count(harness.clock.now())).toBe(4)
      await harness.engine.deleteAll()
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
      for (const id of [...live, expired]) expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      // Nothing is left for a sweep, not even the session that was about to expire.
      expect(await harness.engine.deleteExpired(harness.clock.now() + 2 * LONG_LIFETIME)).toBe(0)
    })
  })

  describe('close', () => {
    contractTest('calling close twice is a no-op', async () => {
      const engine = await harness.openEngine()
      await commitFor(harness, newId(), { 'int:count': 1 }, LONG_LIFETIME, engine)
      await engine.close()
      await engine.close()
    })
  })
}

/** The data the concurrency tests expect: the key each concurrent commit set. */
function everyConcurrentKey(): SessionData {
  return Object.fromEntries(Array.from({ length: CONCURRENT_COMMITS }, (_, index) => [`int:key${index}`, index]))
}
