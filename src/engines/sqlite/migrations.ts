import type { Database } from 'bun:sqlite'
import { fileURLToPath } from 'node:url'
import { type BunSQLiteDatabase, drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { preparedStatements } from './prepared-statements.js'

/** The bundled migrations, found next to the package's code, never relative to the working directory. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/sqlite', import.meta.url))

/** Our own bookkeeping table: in Drizzle's shared default, a host app's newer migrations would hide ours. */
export const MIGRATIONS_TABLE = '__session_migrations'

/** How many times a start retries migrations that another process was applying at the same moment. */
const MIGRATION_ATTEMPTS = 5

/**
 * Applies the bundled migrations that are not applied yet. Drizzle's migrator reads what was applied before it takes
 * the write lock, so two processes starting on a fresh file (or on one an older release made) can both try the same
 * migration; the loser fails on its first statement (`CREATE TABLE`, `ALTER TABLE ... ADD`) and, on the next attempt,
 * sees the winner's record and skips it.
 */
export function applyMigrations(connection: Database): void {
  const statements = preparedStatements(connection)
  const db = drizzle({ client: statements.drizzleClient })
  try {
    migrateWithRetries(db)
  } finally {
    statements.finalizeAll()
  }
}

function migrateWithRetries(db: BunSQLiteDatabase): void {
  for (let attempt = 1; ; attempt++) {
    try {
      migrate(db, { migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE })
      return
    } catch (error) {
      if (attempt >= MIGRATION_ATTEMPTS || !lostTheRace(error)) throw error
      // A moment for the other process to commit what it was applying.
      Bun.sleepSync(attempt * 10)
    }
  }
}

/**
 * The failures of a migration another process applied first: its table or index exists, its column exists, or its lock
 * is held.
 */
function lostTheRace(error: unknown): boolean {
  // Drizzle wraps SQLite's error in its own, with SQLite's as the cause.
  for (let current = error; current instanceof Error; current = current.cause) {
    const { code } = current as { code?: unknown }
    const { message } = current
    if (code === 'SQLITE_BUSY' || message.includes('already exists') || message.includes('duplicate column name')) {
      return true
    }
  }
  return false
}
