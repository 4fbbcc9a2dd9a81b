import { Database } from 'bun:sqlite'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomSessionId } from './cookie-format.js'

/** A path for a fresh database file in a new temporary folder. */
export function freshDatabasePath(prefix = 'elysia-sessions-sqlite-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'sessions.sqlite')
}

/** Opens a second connection to a sessions file, as another process would. */
export function openRaw(path: string): Database {
  const database = new Database(path, { strict: true })
  database.run('PRAGMA busy_timeout = 5000')
  return database
}

/**
 * Writes `count` sessions with random ids, as real sessions have, straight into the table in one transaction, expiring
 * at `expiresAt`. Random ids scatter the rows over the table, which is what makes a sweep slow.
 */
export function insertRows(database: Database, count: number, expiresAt: number): void {
  const insert = database.prepare('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)')
  database.transaction(() => {
    for (let index = 0; index < count; index++) insert.run(randomSessionId(), '{"string:n":"x"}', expiresAt)
  })()
}

/** How many rows the sessions table holds, expired or not. */
export function rowCount(database: Database): number {
  return (database.query('SELECT count(*) AS n FROM sessions').get() as { n: number }).n
}

/** Polls `condition` every 20 ms until it holds or `timeout` ms pass; resolves to whether it held. */
export async function eventually(condition: () => boolean, timeout = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (condition()) return true
    await Bun.sleep(20)
  }
  return condition()
}
