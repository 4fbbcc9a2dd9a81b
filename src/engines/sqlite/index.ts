import { Database } from 'bun:sqlite'
import type { SessionEngine } from '../../engine.js'
import { SessionConfigError, SessionEngineError } from '../../errors.js'
import type { SessionLogger } from '../../options.js'
import { isInMemory, openSessionDatabase, setBusyTimeout } from './connection.js'
import { createSqliteEngine } from './engine.js'
import { applyMigrations } from './migrations.js'
import { sessionsTable } from './schema.js'

export { MIGRATIONS_TABLE } from './migrations.js'
export { type SessionsTable, sessions, sessionsTable } from './schema.js'

/** Options of `sqliteEngine`: give `path` or `database`, not both. */
export interface SqliteEngineOptions {
  /**
   * The database file, created if missing (`':memory:'` for a private in-memory database). The engine opens it with
   * busy_timeout, WAL and `synchronous = NORMAL`, and closes it on `close()`.
   */
  readonly path?: string
  /**
   * An open bun:sqlite `Database`, or a Drizzle instance on one, shared with the app. The engine sets its busy_timeout
   * only (the journal mode stays the owner's choice) and never closes it.
   */
  readonly database?: Database | { readonly $client: Database }
  /**
   * The table's name. A name other than `'sessions'` needs `migrate: false` and a table you create from
   * `sessionsTable(name)` in your own migrations.
   * @default 'sessions'
   */
  readonly table?: string
  /**
   * Apply the bundled migrations (recorded in their own `__session_migrations` table) at startup.
   * @default true with `path`, false with `database`
   */
  readonly migrate?: boolean
  /**
   * Milliseconds a statement waits for another connection's write lock before failing.
   * @default 5000
   */
  readonly busyTimeout?: number
  /**
   * Where the engine reports that its GC worker failed and sweeps run on the main thread instead.
   * @default console
   */
  readonly logger?: SessionLogger
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const DEFAULT_TABLE = 'sessions'

/**
 * Stores sessions in SQLite through Drizzle on bun:sqlite: survives restarts, and several processes (or the GC
 * worker) can share one file. Each commit is one IMMEDIATE transaction that merges the request's changed keys.
 * On a file, `deleteExpired` sweeps from a Bun Worker with its own connection, started on the first sweep.
 *
 * @example
 * app.use(session({ secret, engine: await sqliteEngine({ path: 'sessions.sqlite' }) }))
 */
export async function sqliteEngine(options: SqliteEngineOptions): Promise<SessionEngine> {
  const { source, table, migrate, busyTimeout } = checkOptions(options)
  const logger = checkLogger(options.logger)
  const ownsConnection = 'path' in source
  const connection = 'path' in source ? openSessionDatabase(source.path, busyTimeout) : source.database
  try {
    if (!ownsConnection) setBusyTimeout(connection, busyTimeout)
    if (migrate) {
      try {
        applyMigrations(connection)
      } catch (error) {
        throw new SessionEngineError(`apply the SQLite migrations to ${describeFile(connection)}`, error)
      }
    }
    requireTable(connection, table)
    return createSqliteEngine(connection, {
      table: sessionsTable(table),
      ownsConnection,
      // An app's own connection keeps its busy_timeout: the app may run statements on it that expect one.
      ...(ownsConnection && { waitForLocks: busyTimeout }),
      // Only a file can be opened again from the worker; an in-memory database is swept where it lives.
      ...(!isInMemory(connection.filename) && {
        gcWorker: { store: { path: connection.filename, table, busyTimeout }, logger },
      }),
    })
  } catch (error) {
    if (ownsConnection) connection.close()
    throw error
  }
}

interface CheckedOptions {
  readonly source: { readonly path: string } | { readonly database: Database }
  readonly table: string
  readonly migrate: boolean
  readonly busyTimeout: number
}

function checkOptions(options: SqliteEngineOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError("sqliteEngine(options) needs { path: 'sessions.sqlite' } or { database }")
  }
  const { path, database, table = DEFAULT_TABLE, busyTimeout = 5_000 } = options
  if ((path === undefined) === (database === undefined)) {
    throw new SessionConfigError(
      "sqliteEngine needs exactly one of { path: 'sessions.sqlite' } (a file the engine opens) or { database } (an open bun:sqlite Database or Drizzle instance)",
    )
  }
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw new SessionConfigError(`sqliteEngine({ path }) needs a file path or ':memory:', got ${JSON.stringify(path)}`)
  }
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new SessionConfigError(
      `sqliteEngine({ table }) needs a name of letters, digits and _ that does not start with a digit, got ${JSON.stringify(table)}`,
    )
  }
  if (!(Number.isSafeInteger(busyTimeout) && busyTimeout >= 0)) {
    throw new SessionConfigError(
      `sqliteEngine({ busyTimeout }) needs a whole number of milliseconds >= 0, got ${String(busyTimeout)}`,
    )
  }
  const migrate = options.migrate ?? path !== undefined
  if (typeof migrate !== 'boolean') {
    throw new SessionConfigError(`sqliteEngine({ migrate }) needs true or false, got ${String(migrate)}`)
  }
  if (migrate && table !== DEFAULT_TABLE) {
    throw new SessionConfigError(
      `sqliteEngine({ table: '${table}' }) cannot use the bundled migrations, which create a table named 'sessions'. Pass migrate: false and create the table from sessionsTable('${table}') in your own Drizzle schema and migrations.`,
    )
  }
  const source = path !== undefined ? { path } : { database: connectionOf(database) }
  return { source, table, migrate, busyTimeout }
}

function checkLogger(logger: SessionLogger | undefined = console): SessionLogger {
  if (typeof logger?.error !== 'function') {
    throw new SessionConfigError('sqliteEngine({ logger }) needs an error(message, cause) method, such as console')
  }
  return logger
}

function connectionOf(database: SqliteEngineOptions['database']): Database {
  if (database instanceof Database) return database
  if (typeof database === 'object' && database !== null && database.$client instanceof Database) return database.$client
  throw new SessionConfigError(
    'sqliteEngine({ database }) needs a bun:sqlite Database or a Drizzle instance made by drizzle-orm/bun-sqlite',
  )
}

/** Fails at startup, not on the first request, when the table the engine needs is not there. */
function requireTable(connection: Database, table: string): void {
  const found = connection.query('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', table)
  if (found) return
  throw new SessionConfigError(
    `SQLite table '${table}' does not exist in ${describeFile(connection)}. Create it from sessionsTable('${table}') in your migrations, or let the engine create the default 'sessions' table with migrate: true.`,
  )
}

function describeFile(connection: Database): string {
  return isInMemory(connection.filename) ? 'an in-memory database' : connection.filename
}
