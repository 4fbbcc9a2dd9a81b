import { afterEach, expect, test } from 'bun:test'
import type { SessionData } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { openSessionDatabase } from '../../src/engines/sqlite/connection.js'
import { createSqliteEngine } from '../../src/engines/sqlite/engine.js'
import { sessionsTable } from '../../src/engines/sqlite/schema.js'
import { type SweepBatchFlag, sweepBatchFlag } from '../../src/engines/sqlite/sweep-batch-flag.js'
import type { HoldCommand } from '../fixtures/sqlite-sweep-batch-holder.js'
import { freshDatabasePath, insertRows } from '../support/sqlite.js'

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

/** A fresh file with the engine's table, and a serving engine on it as `sqliteEngine` makes one, sharing `flag`. */
async function servingEngine(flag: SweepBatchFlag, gcWorker = false) {
  const path = freshDatabasePath()
  await (await sqliteEngine({ path })).close()
  const engine = createSqliteEngine(openSessionDatabase(path, 5_000), {
    table: sessionsTable('sessions'),
    ownsConnection: true,
    waitForLocks: 5_000,
    sweepBatchFlag: flag,
    ...(gcWorker && {
      gcWorker: { store: { path, table: 'sessions', busyTimeout: 5_000 }, logger: { error: () => undefined } },
    }),
  })
  return { path, engine }
}

/**
 * A serving engine beside a stand-in for its GC worker's sweep batch, which holds the write lock until the serving
 * thread first waits on the flag, then `holdMs` more. Each wait is recorded: whether the flag was down at its end, and
 * how long it took.
 */
async function engineBesideSweepBatch(holdMs: number) {
  const flag = sweepBatchFlag()
  const go = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT))
  const waits: { lowered: boolean; ms: number }[] = []
  const watched: SweepBatchFlag = {
    ...flag,
    waitUntilLowered(timeout) {
      Atomics.store(go, 0, 1)
      Atomics.notify(go, 0)
      const started = performance.now()
      const lowered = flag.waitUntilLowered(timeout)
      waits.push({ lowered, ms: performance.now() - started })
      return lowered
    },
  }
  const { path, engine } = await servingEngine(watched)
  const worker = new Worker(HOLDER_ENTRY)
  holder = worker
  const said = (word: string) =>
    new Promise<void>((resolve) => {
      worker.addEventListener('message', (event) => event.data === word && resolve())
    })
  const holding = said('holding')
  const done = said('done')
  worker.postMessage({ path, flag: flag.buffer, go: go.buffer, holdMs } satisfies HoldCommand)
  await holding
  return { engine, done, waits }
}

test('a write locked out by a sweep batch waits for the batch on the serving thread, then writes at once', async () => {
  const { engine, done, waits } = await engineBesideSweepBatch(1)
  const now = Date.now()
  const commit = engine.commit('during', changes({ 'int:n': 1 }, now), now)
  // A write given back to come again later would let this 1 ms timer fire first.
  const first = await Promise.race([commit.then(() => 'commit'), Bun.sleep(1).then(() => 'timer')])
  expect(first).toBe('commit')
  expect(await commit).toBe(true)
  expect(waits.map((wait) => wait.lowered)).toEqual([true])
  await done
  expect((await engine.load('during', now))?.data).toEqual({ 'int:n': 1 })
  await engine.close()
})

test('a sweep batch that holds the lock too long is waited for once: the write then comes back later', async () => {
  const { engine, done, waits } = await engineBesideSweepBatch(300)
  const now = Date.now()
  const commit = engine.commit('during', changes({ 'int:n': 1 }, now), now)
  await done
  expect(await commit).toBe(true)
  expect(waits[0]?.lowered).toBe(false)
  // Retried about every millisecond: waiting 10 ms each time would have blocked the thread for most of the 300 ms.
  expect(waits.length).toBeGreaterThan(5)
  expect(waits.reduce((total, wait) => total + wait.ms, 0)).toBeLessThan(60)
  expect((await engine.load('during', now))?.data).toEqual({ 'int:n': 1 })
  await engine.close()
})

test("an engine on an app's own connection never waits on the flag: SQLite's busy handler has waited already", async () => {
  const flag = sweepBatchFlag()
  const waited: number[] = []
  const path = freshDatabasePath()
  await (await sqliteEngine({ path })).close()
  const connection = openSessionDatabase(path, 50)
  const engine = createSqliteEngine(connection, {
    table: sessionsTable('sessions'),
    ownsConnection: false,
    sweepBatchFlag: { ...flag, waitUntilLowered: (timeout) => waited.push(timeout) > 0 },
  })
  const other = openSessionDatabase(path, 50)
  other.run('BEGIN IMMEDIATE')
  flag.raise()
  const now = Date.now()
  const failure = await engine.commit('locked', changes({ 'int:n': 1 }, now), now).catch((error: unknown) => error)
  expect((failure as { code?: string }).code).toBe('SQLITE_BUSY')
  expect(waited).toEqual([])
  other.run('ROLLBACK')
  other.close()
  await engine.close()
  connection.close()
})

test('the GC worker raises the flag it shares with the serving engine during each sweep batch', async () => {
  const flag = sweepBatchFlag()
  const { path, engine } = await servingEngine(flag, true)
  const raw = openSessionDatabase(path, 5_000)
  insertRows(raw, 1_000, Date.now() - 1)
  raw.close()
  expect(await engine.deleteExpired(Date.now())).toBe(1_000)
  // Up and down once per batch of 100, and once more for the batch that found nothing left.
  expect(new Int32Array(flag.buffer)[0]).toBe(22)
  await engine.close()
})

test('the flag, seen through two views of its memory as the two threads see it', () => {
  const serving = sweepBatchFlag()
  const worker = sweepBatchFlag(serving.buffer)
  expect(serving.waitUntilLowered(1_000)).toBe(true)
  worker.raise()
  worker.raise()
  expect(serving.waitUntilLowered(1)).toBe(false)
  // Waited for in vain once, the same batch is not waited for again.
  const started = performance.now()
  expect(serving.waitUntilLowered(1_000)).toBe(false)
  expect(performance.now() - started).toBeLessThan(100)
  worker.lower()
  expect(serving.waitUntilLowered(1_000)).toBe(true)
  // The next batch is waited for again; a flag lowered from the serving side is down for both.
  worker.raise()
  expect(serving.waitUntilLowered(1)).toBe(false)
  serving.lower()
  expect(worker.waitUntilLowered(1_000)).toBe(true)
  expect(new Int32Array(serving.buffer)[0]).toBe(4)
})
