import { afterEach, expect, test } from 'bun:test'
import type { SessionData } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { openSessionDatabase } from '../../src/engines/sqlite/connection.js'
import { createSqliteEngine } from '../../src/engines/sqlite/engine.js'
import { sessionsTable } from '../../src/engines/sqlite/schema.js'
import { sweepBatchFlag } from '../../src/engines/sqlite/sweep-batch-flag.js'
import type { HoldCommand } from '../fixtures/sqlite-sweep-batch-holder.js'
import { freshDatabasePath } from '../support/sqlite.js'

const HOLDER_ENTRY = new URL('../fixtures/sqlite-sweep-batch-holder.ts', import.meta.url).href
const HOUR = 3_600_000

let holder: Worker | undefined
afterEach(() => {
  holder?.terminate()
  holder = undefined
})

function changes(set: Record<string, unknown>, now: number) {
  return { set: set as SessionData, deleted: [], expiresAt: now + HOUR }
}

/**
 * A serving engine on a fresh file, as `sqliteEngine` makes one (its own connection, writes retried when locked out)
 * but sharing `flag` with a stand-in for its GC worker, which holds the write lock for `holdMs` in one sweep batch.
 */
async function engineBesideSweepBatch(holdMs: number) {
  const path = freshDatabasePath()
  await (await sqliteEngine({ path })).close()
  const flag = sweepBatchFlag()
  const engine = createSqliteEngine(openSessionDatabase(path, 5_000), {
    table: sessionsTable('sessions'),
    ownsConnection: true,
    waitForLocks: 5_000,
    sweepBatchFlag: flag,
  })
  const worker = new Worker(HOLDER_ENTRY)
  holder = worker
  const said = (word: string) =>
    new Promise<void>((resolve) => {
      worker.addEventListener('message', (event) => event.data === word && resolve())
    })
  const holding = said('holding')
  const done = said('done')
  worker.postMessage({ path, flag: flag.buffer, holdMs } satisfies HoldCommand)
  await holding
  return { engine, done }
}

test('a write locked out by a sweep batch waits for the batch on the serving thread, then writes at once', async () => {
  const { engine, done } = await engineBesideSweepBatch(5)
  const now = Date.now()
  const commit = engine.commit('during', changes({ 'int:n': 1 }, now), now)
  // A write given back to come again later would let this 1 ms timer fire first.
  const first = await Promise.race([commit.then(() => 'commit'), Bun.sleep(1).then(() => 'timer')])
  expect(first).toBe('commit')
  expect(await commit).toBe(true)
  await done
  expect((await engine.load('during', now))?.data).toEqual({ 'int:n': 1 })
  await engine.close()
})

test('a sweep batch that holds the lock too long is waited for once: the write then comes back later', async () => {
  const { engine, done } = await engineBesideSweepBatch(400)
  const now = Date.now()
  const commit = engine.commit('during', changes({ 'int:n': 1 }, now), now)
  // How late 5 ms timers fire over 200 ms, in all: waiting 10 ms on every retry would make it over 100 ms.
  const started = performance.now()
  let lateness = 0
  while (performance.now() - started < 200) {
    const slept = performance.now()
    await Bun.sleep(5)
    lateness += performance.now() - slept - 5
  }
  expect(lateness).toBeLessThan(60)
  await done
  expect(await commit).toBe(true)
  expect((await engine.load('during', now))?.data).toEqual({ 'int:n': 1 })
  await engine.close()
})

test('the flag is lowered however a batch ends, and a wait on a lowered flag returns at once', () => {
  const flag = sweepBatchFlag()
  expect(() =>
    flag.raisedDuring(() => {
      throw new Error('disk full')
    }),
  ).toThrow('disk full')
  const started = performance.now()
  expect(flag.waitUntilLowered(1_000)).toBe(true)
  expect(performance.now() - started).toBeLessThan(100)
})

test('a flag raised in one thread is seen in the other through the memory they share', () => {
  const flag = sweepBatchFlag()
  const other = sweepBatchFlag(flag.buffer)
  other.raisedDuring(() => {
    expect(flag.waitUntilLowered(1)).toBe(false)
    // Given up on once, the same batch is not waited for again.
    const started = performance.now()
    expect(flag.waitUntilLowered(1_000)).toBe(false)
    expect(performance.now() - started).toBeLessThan(100)
  })
  expect(flag.waitUntilLowered(1_000)).toBe(true)
  other.raisedDuring(() => expect(flag.waitUntilLowered(1)).toBe(false))
  flag.lower()
  expect(other.waitUntilLowered(1_000)).toBe(true)
})
