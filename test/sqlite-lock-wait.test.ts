import { expect, test } from 'bun:test'
import type { SessionData } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { freshDatabasePath, openRaw } from './support/sqlite.js'

const HOUR = 3_600_000

function changes(set: Record<string, unknown>, now: number) {
  return { set: set as SessionData, deleted: [], expiresAt: now + HOUR }
}

/** How late a 10 ms timer fires: the event loop's stall, in ms. */
async function timerLateness(): Promise<number> {
  const started = performance.now()
  await Bun.sleep(10)
  return performance.now() - started - 10
}

test('a commit that finds the write lock held waits without stalling the event loop, then writes', async () => {
  const path = freshDatabasePath()
  const engine = await sqliteEngine({ path })
  const now = Date.now()
  await engine.commit('first', changes({ 'int:n': 1 }, now), now)
  // Another connection (another process, or the GC worker) holds the write lock.
  const other = openRaw(path)
  other.run('BEGIN IMMEDIATE')
  const commit = engine.commit('locked', changes({ 'int:n': 2 }, now), now)
  // Blocked in SQLite's busy handler, the loop would stall for all of busyTimeout (5 s) and the commit then fail.
  expect(await timerLateness()).toBeLessThan(1_000)
  other.run('COMMIT')
  expect(await commit).toBe(true)
  expect((await engine.load('locked', now))?.data).toEqual({ 'int:n': 2 })
  other.close()
  await engine.close()
})

test('a commit locked out for longer than busyTimeout fails with SQLITE_BUSY, and the engine works on', async () => {
  const path = freshDatabasePath()
  const engine = await sqliteEngine({ path, busyTimeout: 100 })
  const now = Date.now()
  const other = openRaw(path)
  other.run('BEGIN IMMEDIATE')
  const started = performance.now()
  const failure = await engine.commit('locked', changes({ 'int:n': 1 }, now), now).catch((error: unknown) => error)
  expect((failure as { code?: string }).code).toBe('SQLITE_BUSY')
  expect(performance.now() - started).toBeGreaterThanOrEqual(100)
  other.run('ROLLBACK')
  expect(await engine.commit('after', changes({ 'int:n': 2 }, now), now)).toBe(true)
  expect((await engine.load('after', now))?.data).toEqual({ 'int:n': 2 })
  other.close()
  await engine.close()
})
