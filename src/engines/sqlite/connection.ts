import { Database } from 'bun:sqlite'
import { resolve } from 'node:path'

/** Whether `filename` names an in-memory database, which no other connection can reach. */
export function isInMemory(filename: string): boolean {
  return filename === '' || filename === ':memory:' || /^file:.*[?&]mode=memory\b/.test(filename)
}

/**
 * Opens (creating if missing) the database file at `path` for sessions: busy_timeout first, so even switching to WAL
 * waits for other processes opening the same fresh file instead of failing with "database is locked".
 */
export function openSessionDatabase(path: string, busyTimeout: number): Database {
  const database = new Database(isInMemory(path) ? path : resolve(path), { create: true, strict: true })
  try {
    setBusyTimeout(database, busyTimeout)
    database.run('PRAGMA journal_mode = WAL')
    database.run('PRAGMA synchronous = NORMAL')
  } catch (error) {
    database.close()
    throw error
  }
  return database
}

/** How long this connection waits for another connection's lock before failing. */
export function setBusyTimeout(database: Database, busyTimeout: number): void {
  database.run(`PRAGMA busy_timeout = ${busyTimeout}`)
}
