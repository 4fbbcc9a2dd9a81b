import { Database } from 'bun:sqlite'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { MIGRATIONS_TABLE } from 'elysia-sessions/engines/sqlite'
import { randomSessionId } from './cookie-format.js'
import { withOlderReleaseMigrations } from './migrations.js'

/** A path for a fresh database file in a new temporary folder. */
export function freshDatabasePath(prefix = 'elysia-sessions-sqlite-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'sessions.sqlite')
}

/** The bundled SQLite migrations' folder. */
export const SQLITE_MIGRATIONS = resolve(import.meta.dir, '../../drizzle/sqlite')

/** The bundled SQLite migrations, as drizzle-kit's journal lists them. */
export function bundledMigrations(): { idx: number; tag: string }[] {
  const journal = JSON.parse(readFileSync(join(SQLITE_MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[]
  }
  return journal.entries
}

/**
 * Creates the database at `path` as an older release of the engine left it: in WAL mode, with only the first `count`
 * bundled migrations applied, recorded where the engine records them.
 */
export async function migrateAsOlderRelease(path: string, count: number): Promise<void> {
  await withOlderReleaseMigrations('sqlite', count, (folder) => {
    const database = new Database(path, { create: true, strict: true })
    try {
      database.run('PRAGMA journal_mode = WAL')
      migrate(drizzle({ client: database }), { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE })
    } finally {
      database.close()
    }
  })
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
