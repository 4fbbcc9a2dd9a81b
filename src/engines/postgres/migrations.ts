import { fileURLToPath } from 'node:url'
import type { SQL } from 'bun'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import { MIGRATION_LOCK_WAIT } from '../sql-setup.js'
import { lendConnection } from './connection.js'

/** The bundled migrations, found next to the package's code, never relative to the working directory. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/postgres', import.meta.url))

/**
 * Our own bookkeeping table, in Drizzle's `drizzle` schema: in Drizzle's shared default table, a host app's newer
 * migrations would hide ours.
 */
export const MIGRATIONS_TABLE = '__session_migrations'

/** The schema Drizzle's migrator keeps `MIGRATIONS_TABLE` in. */
export const MIGRATIONS_SCHEMA = 'drizzle'

/** The advisory lock that serializes every instance's migrations on one database, as a SQL expression. */
const LOCK_KEY = "hashtextextended('elysia-sessions migrations', 0)"

/** SQLSTATE lock_not_available: the lock wait ran out. */
const LOCK_NOT_AVAILABLE = '55P03'

/**
 * Applies the bundled migrations that are not applied yet, one instance at a time, waiting up to
 * `MIGRATION_LOCK_WAIT` seconds for another instance to finish. Drizzle's migrator creates its schema and table, and
 * reads what was applied, outside its transaction, so instances starting together on an empty database fail on each
 * other's `CREATE`s without the lock. The session-level advisory lock lives on
 * one reserved connection; a failure, or `signal` aborting, closes that connection, which releases the lock.
 */
export function applyMigrations(client: SQL, signal: AbortSignal): Promise<void> {
  return lendConnection(client, signal, async (connection) => {
    // SET LOCAL: the connection goes back to the pool with its own settings.
    const takeLock = [
      'BEGIN',
      `SET LOCAL lock_timeout = '${MIGRATION_LOCK_WAIT}s'`,
      'SET LOCAL statement_timeout = 0',
      `SELECT pg_advisory_lock(${LOCK_KEY})`,
      'COMMIT',
    ].join('; ')
    await connection.unsafe(takeLock).catch((error: unknown) => {
      if ((error as { errno?: unknown }).errno !== LOCK_NOT_AVAILABLE) throw error
      throw new Error(`another instance held the migration lock for more than ${MIGRATION_LOCK_WAIT} s`)
    })
    await migrate(drizzle({ client: connection }), {
      migrationsFolder: MIGRATIONS_FOLDER,
      migrationsTable: MIGRATIONS_TABLE,
      migrationsSchema: MIGRATIONS_SCHEMA,
    })
    await connection.unsafe(`SELECT pg_advisory_unlock(${LOCK_KEY})`)
  })
}
