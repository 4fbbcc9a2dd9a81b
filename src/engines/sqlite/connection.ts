import { Database } from 'bun:sqlite'
import { resolve } from 'node:path'

/** Whether `filename` names an in-memory database, which no other connection can reach. */
export function isInMemory(filename: string): boolean {
  return filename === '' || filename === ':memory:' || /^file:.*[?&]mode=memory\b/.test(filename)
}

/**
 * How much of the file (KiB) each of the engine's connections may keep in memory: with many sessions stored, the B-tree
 * pages that the sessions in use sit on are spread over the whole file, and SQLite's default (2 MiB) rereads them on
 * every commit. The cache grows only as pages are read, so a small table costs no more than before.
 */
const PAGE_CACHE_KIB = 32 * 1024

/**
 * Opens (creating if missing) the database file at `path` for sessions, with busy_timeout first, then WAL,
 * `synchronous = NORMAL` and a page cache for a large sessions table.
 */
export function openSessionDatabase(path: string, busyTimeout: number): Database {
  const database = new Database(isInMemory(path) ? path : resolve(path), { create: true, strict: true })
  try {
    setBusyTimeout(database, busyTimeout)
    // Switching a fresh file to WAL while another process opens it can fail with SQLITE_BUSY at once, without the
    // busy handler ever waiting, so retry it within the same time budget.
    retryWhileBusy(() => database.run('PRAGMA journal_mode = WAL'), busyTimeout)
    database.run('PRAGMA synchronous = NORMAL')
    setPageCache(database)
  } catch (error) {
    database.close()
    throw error
  }
  return database
}

/** Gives an engine's own connection the page cache a large sessions table needs (SQLite's default is 2 MiB). */
export function setPageCache(database: Database): void {
  database.run(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`)
}

/** After how many WAL pages this connection's commits checkpoint (`wal_autocheckpoint`). */
export function autocheckpointPages(database: Database): number {
  return (database.query('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint
}

/** Makes this connection's commits checkpoint after `pages` WAL pages. */
export function setAutocheckpoint(database: Database, pages: number): void {
  database.run(`PRAGMA wal_autocheckpoint = ${pages}`)
}

/** How long this connection waits for another connection's lock before failing. */
export function setBusyTimeout(database: Database, busyTimeout: number): void {
  database.run(`PRAGMA busy_timeout = ${busyTimeout}`)
}

/** The database's journal mode, such as `'wal'` or `'delete'`. */
export function journalMode(database: Database): string {
  return (database.query('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode
}

/** Runs `operation`, retrying with a short backoff while SQLite answers SQLITE_BUSY, for at most `budget` ms. */
export function retryWhileBusy<T>(operation: () => T, budget: number): T {
  const deadline = performance.now() + budget
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      return operation()
    } catch (error) {
      if (!isBusy(error) || performance.now() + pause > deadline) throw error
      Bun.sleepSync(pause)
    }
  }
}

/** Whether `error` is SQLite's SQLITE_BUSY: another connection held a lock this one needed. */
export function isBusy(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_BUSY'
}
