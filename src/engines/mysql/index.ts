import type { Pool as CallbackPool } from 'mysql2'
import type { Pool } from 'mysql2/promise'
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
import { checkConnection, hasTable, lendConnection, openPool, poolOf } from './connection.js'
import { createMysqlEngine } from './engine.js'
import { applyMigrations } from './migrations.js'
import { sessionsTable } from './schema.js'

export { MIGRATIONS_TABLE } from './migrations.js'
export { type SessionsTable, sessions, sessionsTable } from './schema.js'

/** A mysql2 pool, with the callback or the promise API. */
export type MysqlPool = CallbackPool | Pool

/** Options of `mysqlEngine`: give `url` or `database`, not both. */
export interface MysqlEngineOptions {
  /**
   * A `mysql://user:password@host:3306/database` URL. The engine opens a pool of its own on it (10 connections,
   * connect timeout a second above `operationTimeout`, TCP keep-alive, utf8mb4) and ends it on `close()`.
   */
  readonly url?: string
  /**
   * An open mysql2 pool (callback or promise API), or a Drizzle instance made by drizzle-orm/mysql2 on one, shared
   * with the app. The engine never ends it. Its connections need a database selected, the utf8mb4 character set and
   * the FOUND_ROWS flag, all mysql2's defaults but the database.
   */
  readonly database?: MysqlPool | { readonly $client: MysqlPool }
  /**
   * The table's name. A name other than `'sessions'` needs `migrate: false` and a table you create from
   * `sessionsTable(name)` in your own migrations.
   * @default 'sessions'
   */
  readonly table?: string
  /**
   * Apply the bundled migrations (recorded in their own `__session_migrations` table) at startup. Processes starting
   * at once take turns through a MySQL named lock, so each migration is applied once.
   * @default true with `url`, false with `database`
   */
  readonly migrate?: boolean
  /**
   * Milliseconds after which any engine call that has not settled rejects with an `EngineTimeoutError`; its
   * connection is then closed, and the call never runs again. Startup checks are bounded by it too; the migrations
   * may also wait 30 s for another instance's.
   * @default 5000
   */
  readonly operationTimeout?: number
}

/** How `checkSqlOptions` reads and words this engine's options. */
const RULES: SqlEngineRules<Pool, 'url'> = {
  engine: 'mysqlEngine',
  ownSource: urlSource('mysqlEngine', 'mysql://user@host:3306/database', ['mysql:', 'mariadb:'], requireDatabaseInPath),
  timeout: OPERATION_TIMEOUT,
  databaseKinds: 'an open mysql2 pool or Drizzle instance',
  // MySQL caps identifiers at 64 characters, and the expiry index adds 15 to the table's name.
  longestTableName: 48,
  clientOf: poolIn,
}

/**
 * Stores sessions in MySQL or MariaDB through Drizzle on mysql2: survives restarts, and any number of app instances
 * can share one database. Each commit is one transaction that locks the session's row and merges the request's
 * changed keys, so concurrent requests keep each other's writes; every call settles within `operationTimeout`.
 *
 * @example
 * app.use(session({ secret, engine: await mysqlEngine({ url: 'mysql://app@127.0.0.1:3306/app' }) }))
 */
export async function mysqlEngine(options: MysqlEngineOptions): Promise<SessionEngine> {
  const { source, table, migrate, timeout: operationTimeout } = checkSqlOptions(options, RULES)
  const ownsPool = 'url' in source
  const pool = 'url' in source ? openPool(source.url, operationTimeout) : source.client
  // Errors of connections that had failed already say nothing about closing; only a close that hangs does.
  const endPool = async () => {
    await withinDeadline(() => pool.end().catch(() => undefined), operationTimeout, 'MySQL close')
  }
  try {
    const database = await withinDeadline(
      (signal) => lendConnection(pool, signal, (connection) => checkConnection(pool, connection)),
      operationTimeout,
      'MySQL startup',
    )
    if (migrate) {
      try {
        // As long as another process may take to migrate, plus the time of a call.
        const longest = MIGRATION_LOCK_WAIT * 1_000 + operationTimeout
        await withinDeadline((signal) => lendConnection(pool, signal, applyMigrations), longest, 'MySQL migrations')
      } catch (error) {
        throw new SessionEngineError(`apply the MySQL migrations to database '${database}'`, error)
      }
    }
    const lookUp = (signal: AbortSignal) => lendConnection(pool, signal, (connection) => hasTable(connection, table))
    if (!(await withinDeadline(lookUp, operationTimeout, 'MySQL startup'))) {
      throw missingTableError(table, `MySQL database '${database}'`)
    }
    return createMysqlEngine(pool, {
      table: sessionsTable(table),
      operationTimeout,
      ...(ownsPool && { endPool }),
    })
  } catch (error) {
    // Not awaited: a connection attempt to a silent server ends at its own timeout, after this failure is reported.
    if (ownsPool) void endPool().catch(() => undefined)
    throw error
  }
}

function poolIn(database: unknown): Pool {
  const pool = poolOf(database)
  if (pool) return pool
  throw new SessionConfigError(
    'mysqlEngine({ database }) needs a mysql2 pool (createPool from mysql2 or mysql2/promise) or a Drizzle instance ' +
      'made by drizzle-orm/mysql2 on one; a single connection cannot run concurrent transactions',
  )
}

function requireDatabaseInPath(url: URL): void {
  if (url.pathname.length <= 1) {
    throw new SessionConfigError(
      `mysqlEngine({ url }) needs the database in the URL's path, as in 'mysql://user@${url.host}/sessions'`,
    )
  }
}
