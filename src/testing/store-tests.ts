import { describe, expect, test } from 'bun:test'
import type { SessionEntry } from '../engine.js'
import {
  type CommittedSession,
  type ConformanceHarness,
  collectBatches,
  commitFor,
  commitMany,
  EXPIRY_WAIT,
  LONG_LIFETIME,
  newId,
  SHORT_LIFETIME,
  tryToChange,
} from './harness.js'

const contractTest = test.serial

/** The batch size of the bulk iteration tests: small enough for many batches, odd so the last one is partial. */
const BULK_BATCH_SIZE = 97

/** Registers the tests of the methods that act on the whole store: count, entries and deleteExpired. */
export function registerStoreTests(harness: ConformanceHarness): void {
  describe('count', () => {
    contractTest('count resolves to 0 when no session is stored', async () => {
      expect(await harness.engine.count(harness.clock.now())).toBe(0)
    })

    contractTest('count counts the sessions alive at now', async () => {
      const ids = [newId(), newId(), newId()]
      for (const id of ids) await commitFor(harness, id, { 'int:count': 1 })
      expect(await harness.engine.count(harness.clock.now())).toBe(3)
      await harness.engine.delete(ids[0] as string)
      expect(await harness.engine.count(harness.clock.now())).toBe(2)
    })

    contractTest(
      'count never counts an expired session',
      async () => {
        for (const lifetime of [LONG_LIFETIME, LONG_LIFETIME, SHORT_LIFETIME]) {
          await commitFor(harness, newId(), { 'int:count': 1 }, lifetime)
        }
        expect(await harness.engine.count(harness.clock.now())).toBe(3)
        await harness.clock.advance(EXPIRY_WAIT)
        expect(await harness.engine.count(harness.clock.now())).toBe(2)
      },
      harness.slowTimeout,
    )
  })

  describe('entries', () => {
    contractTest('entries yields nothing when no session is stored', async () => {
      expect(await collectBatches(harness.engine, harness.clock.now(), 10)).toEqual([])
    })

    contractTest(
      'entries yields every live session exactly once, with its data and expiry',
      async () => {
        const committed = await commitMany(harness, harness.bulkSize, LONG_LIFETIME)
        const batches = await collectBatches(harness.engine, harness.clock.now(), BULK_BATCH_SIZE)
        expectExactly(batches.flat(), committed)
      },
      harness.slowTimeout,
    )

    contractTest('entries yields batches of at most batchSize', async () => {
      const committed = await commitMany(harness, 25, LONG_LIFETIME)
      for (const batchSize of [1, 4, 25, 1_000]) {
        const batches = await collectBatches(harness.engine, harness.clock.now(), batchSize)
        expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(batchSize)
        expectExactly(batches.flat(), committed)
      }
    })

    contractTest(
      'entries never yields an expired session',
      async () => {
        const half = Math.ceil(harness.bulkSize / 2)
        const live = await commitMany(harness, half, LONG_LIFETIME)
        await commitMany(harness, harness.bulkSize - half, SHORT_LIFETIME)
        await harness.clock.advance(EXPIRY_WAIT)
        const batches = await collectBatches(harness.engine, harness.clock.now(), BULK_BATCH_SIZE)
        expectExactly(batches.flat(), live)
      },
      harness.slowTimeout,
    )

    contractTest('changing the data entries yielded never changes what is stored', async () => {
      const id = newId()
      const data = { 'int:count': 1, 'object:user': { type: 'User', object: { roles: ['admin'] } } }
      await commitFor(harness, id, data)
      for (const { data: yielded } of (await collectBatches(harness.engine, harness.clock.now(), 10)).flat()) {
        const mutable = yielded as Record<string, unknown>
        tryToChange(() => {
          mutable['int:count'] = 2
        })
        tryToChange(() => (mutable['object:user'] as (typeof data)['object:user']).object.roles.push('root'))
      }
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual(data)
    })

    contractTest('stopping entries after its first batch leaves the engine usable', async () => {
      await commitMany(harness, 30, LONG_LIFETIME)
      let batchesSeen = 0
      for await (const _batch of harness.engine.entries(harness.clock.now(), { batchSize: 10 })) {
        batchesSeen++
        break
      }
      expect(batchesSeen).toBe(1)
      const id = newId()
      await commitFor(harness, id, { 'int:after': 1 })
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'int:after': 1 })
      expect(await harness.engine.count(harness.clock.now())).toBe(31)
    })
  })

  describe('deleteExpired', () => {
    contractTest(
      'deleteExpired deletes exactly the sessions expired at now and resolves to how many it deleted',
      async () => {
        const startedAt = harness.clock.now()
        const live = [newId(), newId()]
        for (const id of live) await commitFor(harness, id, { 'int:count': 1 })
        for (let index = 0; index < 3; index++) await commitFor(harness, newId(), { 'int:count': 1 }, SHORT_LIFETIME)
        await harness.clock.advance(EXPIRY_WAIT)
        const deleted = await harness.engine.deleteExpired(harness.clock.now())
        if (harness.serverExpiry) {
          // The server may have removed some or all of them already.
          expect(Number.isInteger(deleted) && deleted >= 0 && deleted <= 3).toBe(true)
        } else {
          expect(deleted).toBe(3)
          // Gone from the store, not just hidden: even a clock from before they expired no longer sees them.
          expect(await harness.engine.count(startedAt)).toBe(2)
        }
        expect(await harness.engine.count(harness.clock.now())).toBe(2)
        for (const id of live) expect(await harness.engine.load(id, harness.clock.now())).not.toBeNull()
      },
      harness.slowTimeout,
    )

    contractTest('deleteExpired resolves to 0 and keeps every session while none has expired', async () => {
      const committed = await commitMany(harness, 5, LONG_LIFETIME)
      expect(await harness.engine.deleteExpired(harness.clock.now())).toBe(0)
      expectExactly((await collectBatches(harness.engine, harness.clock.now(), 10)).flat(), committed)
    })

    contractTest(
      'deleteExpired sweeps thousands of expired sessions and keeps every live one',
      async () => {
        const startedAt = harness.clock.now()
        const half = Math.ceil(harness.bulkSize / 2)
        const live = await commitMany(harness, half, LONG_LIFETIME)
        await commitMany(harness, harness.bulkSize - half, SHORT_LIFETIME)
        await harness.clock.advance(EXPIRY_WAIT)
        const deleted = await harness.engine.deleteExpired(harness.clock.now())
        if (harness.serverExpiry) {
          expect(Number.isInteger(deleted) && deleted >= 0 && deleted <= harness.bulkSize - half).toBe(true)
        } else {
          expect(deleted).toBe(harness.bulkSize - half)
          expect(await harness.engine.count(startedAt)).toBe(half)
        }
        expectExactly((await collectBatches(harness.engine, harness.clock.now(), BULK_BATCH_SIZE)).flat(), live)
      },
      harness.slowTimeout,
    )
  })
}

/** Checks that `entries` are exactly the committed sessions, each once, with its data and expiry. */
function expectExactly(entries: readonly SessionEntry[], committed: ReadonlyMap<string, CommittedSession>): void {
  const ids = entries.map((entry) => entry.id)
  expect(new Set(ids).size).toBe(ids.length)
  expect(ids.toSorted()).toEqual([...committed.keys()].toSorted())
  for (const { id, data, expiresAt } of entries)
    expect({ data, expiresAt }).toEqual(committed.get(id) as CommittedSession)
}
