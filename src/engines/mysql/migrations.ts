import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/mysql2'
import { migrate } from 'drizzle-orm/mysql2/migrator'
import type { PoolConnection } from 'mysql2/promise'
import { MIGRATION_LOCK_WAIT } from '../sql-setup.js'

/** The bundled migrations, found next to the package's code, never relative to the working directory. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/mysql', import.meta.url))

/** Our own bookkeeping table: in Drizzle's shared default, a host app's newer migrations would hide ours. */
export const MIGRATIONS_TABLE = '__session_migrations'

/** One lock per database, named within MySQL's 64-character limit whatever the database's name. */
const LOCK_NAME = "CONCAT('elysia-sessions:', SHA1(DATABASE()))"

/**
 * Applies the bundled migrations that are not applied yet on `connection`, holding a MySQL named lock throughout:
 * Drizzle's migrator creates its bookkeeping table and reads it before any transaction (and MySQL's DDL commits
 * by itself anyway), so without the lock several processes starting on an empty database would all apply them.
 */
export async function applyMigrations(connection: PoolConnection): Promise<void> {
  const [rows] = await connection.query({
    sql: `SELECT GET_LOCK(${LOCK_NAME}, ?)`,
    values: [MIGRATION_LOCK_WAIT],
    rowsAsArray: true,
  })
  if ((rows as unknown[][])[0]?.[0] !== 1) {
    throw new Error(`another process held the migration lock for more than ${MIGRATION_LOCK_WAIT} s`)
  }
  try {
    await migrate(drizzle({ client: connection }), {
      migrationsFolder: MIGRATIONS_FOLDER,
      migrationsTable: MIGRATIONS_TABLE,
    })
  } finally {
    // Ending the connection would release the lock too, so a failure here changes nothing.
    await connection.query(`SELECT RELEASE_LOCK(${LOCK_NAME})`).catch(() => undefined)
  }
}
