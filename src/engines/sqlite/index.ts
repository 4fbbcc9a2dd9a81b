import { Database } from 'bun:sqlite'
import type { SessionEngine } from '../../engine.js'
import { SessionConfigError, SessionEngineError } from '../../errors.js'
import type { SessionLogger } from '../../options.js'
import { checkSqlOptions, type SqlEngineRules } from '../sql-setup.js'
import { BACKSTOP_AUTOCHECKPOINT_PAGES } from './checkpoint-worker.js'
import { isInMemory, journalMode, openSessionDatabase, setBusyTimeout } from './connection.js'
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
   * Where the engine reports that its GC or checkpoint worker failed and that work runs on the main thread instead.
   * @default console
   */
  readonly logger?: SessionLogger
}

/**
 * Stores sessions in SQLite through Drizzle on bun:sqlite: survives restarts, and several processes (or the GC
 * worker) can share one file. Each commit is one IMMEDIATE transaction that merges the request's changed keys.
 * On a file, `deleteExpired` sweeps from a Bun Worker with its own connection, started on the first sweep, and once
 * the engine has written a while, another worker copies the WAL into the file in the background.
 *
 * @example
 * app.use(session({ secret, engine: await sqliteEngine({ path: 'sessions.sqlite' }) }))
 */
export async function sqliteEngine(options: SqliteEngineOptions): Promise<SessionEngine> {
  const { source, table, migrate, timeout: busyTimeout } = checkSqlOptions(options, RULES)
  const logger = checkLogger(options.logger)
  const ownsConnection = 'path' in source
  const connection = 'path' in source ? openSessionDatabase(source.path, busyTimeout) : source.client
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
    requireOwnerColumn(connection, table)
    const checkpointsInWorker = ownsConnection && journalMode(connection) === 'wal'
    // The GC worker's commits leave the WAL to the checkpoint worker too, when there is one.
    const autocheckpoint = checkpointsInWorker ? { autocheckpointPages: BACKSTOP_AUTOCHECKPOINT_PAGES } : {}
    return createSqliteEngine(connection, {
      table: sessionsTable(table),
      ownsConnection,
      // An app's own connection keeps its busy_timeout: the app may run statements on it that expect one.
      ...(ownsConnection && { waitForLocks: busyTimeout }),
      // Only a file can be opened again from the worker; an in-memory database is swept where it lives.
      ...(!isInMemory(connection.filename) && {
        gcWorker: { store: { path: connection.filename, table, busyTimeout, ...autocheckpoint }, logger },
      }),
      ...(checkpointsInWorker && { checkpointWorker: { path: connection.filename, logger } }),
    })
  } catch (error) {
    if (ownsConnection) connection.close()
    throw error
  }
}

/** How `checkSqlOptions` reads and words this engine's options. */
const RULES: SqlEngineRules<Database, 'path'> = {
  engine: 'sqliteEngine',
  ownSource: {
    option: 'path',
    example: 'sessions.sqlite',
    opens: 'a file the engine opens',
    check(path) {
      if (typeof path !== 'string' || path === '') {
        throw new SessionConfigError(
          `sqliteEngine({ path }) needs a file path or ':memory:', got ${JSON.stringify(path)}`,
        )
      }
    },
  },
  timeout: { option: 'busyTimeout', least: 0 },
  databaseKinds: 'an open bun:sqlite Database or Drizzle instance',
  // SQLite sets no limit of its own.
  longestTableName: 63,
  clientOf: connectionOf,
}

function checkLogger(logger: SessionLogger | undefined = console): SessionLogger {
  if (typeof logger?.error !== 'function') {
    throw new SessionConfigError('sqliteEngine({ logger }) needs an error(message, cause) method, such as console')
  }
  return logger
}

function connectionOf(database: unknown): Database {
  if (database instanceof Database) return database
  const wrapped = typeof database === 'object' && database !== null ? (database as { $client?: unknown }).$client : null
  if (wrapped instanceof Database) return wrapped
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

/** Fails at startup when a table the app created from an older `sessionsTable` lacks the owner column. */
function requireOwnerColumn(connection: Database, table: string): void {
  const found = connection.query('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(table, 'owner')
  if (found) return
  throw new SessionConfigError(
    `SQLite table '${table}' in ${describeFile(connection)} has no 'owner' column, which sessionsTable('${table}') now defines. Generate a migration for it with drizzle-kit (drizzle-kit generate), or let the engine migrate the default 'sessions' table with migrate: true.`,
  )
}

function describeFile(connection: Database): string {
  return isInMemory(connection.filename) ? 'an in-memory database' : connection.filename
}
