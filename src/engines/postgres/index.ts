import type { SQL } from 'bun'
import type { SessionEngine } from '../../engine.js'
import { SessionConfigError, SessionEngineError } from '../../errors.js'
import { withinDeadline } from '../deadlines.js'
import {
  checkSqlOptions,
  MIGRATION_LOCK_WAIT,
  missingTableError,
  OPERATION_TIMEOUT,
  type SqlEngineRules,
  urlSource,
} from '../sql-setup.js'
import { describeServer, isPostgresClient, lendConnection, openSessionClient } from './connection.js'
import { createPostgresEngine } from './engine.js'
import { applyMigrations } from './migrations.js'
import { sessionsTable } from './schema.js'

export { MIGRATIONS_TABLE } from './migrations.js'
export { type SessionsTable, sessions, sessionsTable } from './schema.js'

/** Options of `postgresEngine`: give `url` or `database`, not both. */
export interface PostgresEngineOptions {
  /**
   * A `postgres://` URL. The engine opens its own Bun SQL pool on it (10 connections, each attempt to connect given
   * up after twice `operationTimeout`) and closes it on `close()`.
   */
  readonly url?: string
  /**
   * A Bun `SQL` client for PostgreSQL, or a Drizzle instance on one (`drizzle-orm/bun-sql`), shared with the app. Its
   * pool and connection options stay the app's (calls are still bounded by `operationTimeout`); the engine never
   * closes it, only those of its connections that hang.
   */
  readonly database?: SQL | { readonly $client: SQL }
  /**
   * The table's name. A name other than `'sessions'` needs `migrate: false` and a table you create from
   * `sessionsTable(name)` in your own migrations.
   * @default 'sessions'
   */
  readonly table?: string
  /**
   * Apply the bundled migrations (recorded in their own `drizzle.__session_migrations` table) at startup, one instance
   * at a time.
   * @default true with `url`, false with `database`
   */
  readonly migrate?: boolean
  /**
   * Milliseconds after which any engine call, and each startup step, that has not settled rejects with an
   * `EngineTimeoutError`, so no request waits on a server that stopped answering; the call's connection is then
   * closed, and the call never runs again. The migrations may also wait 30 s for another instance's.
   * @default 5000
   */
  readonly operationTimeout?: number
}

/** How `checkSqlOptions` reads and words this engine's options. */
const RULES: SqlEngineRules<SQL, 'url'> = {
  engine: 'postgresEngine',
  ownSource: urlSource('postgresEngine', 'postgres://user@host:5432/database', ['postgres:', 'postgresql:']),
  timeout: OPERATION_TIMEOUT,
  databaseKinds: 'a Bun SQL client or a Drizzle instance on one',
  // PostgreSQL's identifiers have at most 63 bytes.
  longestTableName: 63,
  clientOf,
}

/**
 * Stores sessions in PostgreSQL through Drizzle on Bun's built-in SQL client: survives restarts, and any number of
 * app instances can share one database. Each commit is one transaction that locks the session's row and merges the
 * request's changed keys into it.
 *
 * @example
 * app.use(session({ secret, engine: await postgresEngine({ url: process.env.DATABASE_URL! }) }))
 */
export async function postgresEngine(options: PostgresEngineOptions): Promise<SessionEngine> {
  const { source, table, migrate, timeout: operationTimeout } = checkSqlOptions(options, RULES)
  const ownsClient = 'url' in source
  const client = 'url' in source ? openSessionClient(source.url, operationTimeout) : source.client
  try {
    // First within operationTimeout, so a server that does not answer fails the start as fast as any call.
    let found = await tableExists(client, table, operationTimeout)
    if (migrate) {
      // As long as another instance may take to migrate, plus the time of a call.
      const longest = MIGRATION_LOCK_WAIT * 1_000 + operationTimeout
      await withinDeadline((signal) => applyMigrations(client, signal), longest, 'Applying the migrations').catch(
        (error) => {
          throw new SessionEngineError(`apply the PostgreSQL migrations to ${describeServer(client)}`, error)
        },
      )
      found = await tableExists(client, table, operationTimeout)
    }
    // Fails at startup, not on the first request, when the table the engine needs is not there.
    if (!found) throw missingTableError(table, describeServer(client))
    return createPostgresEngine(client, { table: sessionsTable(table), ownsClient, operationTimeout })
  } catch (error) {
    if (ownsClient) await client.close({ timeout: 0 })
    throw error
  }
}

function clientOf(database: unknown): SQL {
  if (isPostgresClient(database)) return database
  const wrapped = typeof database === 'object' && database !== null ? (database as { $client?: unknown }).$client : null
  if (isPostgresClient(wrapped)) return wrapped
  throw new SessionConfigError(
    'postgresEngine({ database }) needs a Bun SQL client for PostgreSQL or a Drizzle instance made by ' +
      'drizzle-orm/bun-sql',
  )
}

/** Whether `table` exists, looked up within `operationTimeout`; fails with a SessionEngineError otherwise. */
async function tableExists(client: SQL, table: string, operationTimeout: number): Promise<boolean> {
  const lookUp = (signal: AbortSignal) =>
    lendConnection(client, signal, (connection) =>
      connection.unsafe('SELECT to_regclass(quote_ident($1)) IS NOT NULL', [table]).values(),
    )
  const [row] = await withinDeadline(lookUp, operationTimeout, 'Looking up the sessions table').catch((error) => {
    throw new SessionEngineError(`reach ${describeServer(client)}`, error)
  })
  return row?.[0] === true
}
