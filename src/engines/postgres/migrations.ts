import { fileURLToPath } from 'node:url'
import type { SQL } from 'bun'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'

/** The bundled migrations, found next to the package's code, never relative to the working directory. */
const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../drizzle/postgres', import.meta.url))

/**
 * Our own bookkeeping table, in Drizzle's `drizzle` schema: in Drizzle's shared default table, a host app's newer
 * migrations would hide ours.
 */
export const MIGRATIONS_TABLE = '__session_migrations'

/** The schema Drizzle's migrator keeps `MIGRATIONS_TABLE` in. */
export const MIGRATIONS_SCHEMA = 'drizzle'

/** Names the advisory lock that serializes every instance's migrations on one database. */
const LOCK_NAME = 'elysia-sessions migrations'

/**
 * Applies the bundled migrations that are not applied yet, one instance at a time. Drizzle's migrator creates its
 * schema and table, and reads what was applied, outside its transaction, so instances starting together on an empty
 * database fail on each other's `CREATE`s (2 of 8 did, without the lock). The session-level advisory lock lives on one
 * reserved connection; a failure closes that connection, which releases the lock, rather than pooling it still held.
 */
export async function applyMigrations(client: SQL): Promise<void> {
  const connection = await client.reserve()
  try {
    await connection`SELECT pg_advisory_lock(hashtextextended(${LOCK_NAME}, 0))`
    await migrate(drizzle({ client: connection }), {
      migrationsFolder: MIGRATIONS_FOLDER,
      migrationsTable: MIGRATIONS_TABLE,
      migrationsSchema: MIGRATIONS_SCHEMA,
    })
    await connection`SELECT pg_advisory_unlock(hashtextextended(${LOCK_NAME}, 0))`
  } catch (error) {
    await connection.close()
    throw error
  }
  await connection.release()
}
