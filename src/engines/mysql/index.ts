import type { Pool as CallbackPool } from 'mysql2'
import type { Pool } from 'mysql2/promise'
import type { SessionEngine } from '../../engine.js'
import { SessionConfigError, SessionEngineError } from '../../errors.js'
import { withinTimeLimit } from '../time-limit.js'
import { checkConnections, openPool, poolOf, requireTable } from './connection.js'
import { createMysqlEngine } from './engine.js'
import { applyMigrations, MIGRATION_LOCK_WAIT } from './migrations.js'
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
   * connection is then closed. Startup checks are bounded by it too.
   * @default 5000
   */
  readonly operationTimeout?: number
}

/** MySQL caps identifiers at 64 characters, and the expiry index adds 15 to the table's name. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/
const DEFAULT_TABLE = 'sessions'
/** setTimeout's largest delay. */
const LONGEST_TIMEOUT = 2 ** 31 - 1

/**
 * Stores sessions in MySQL or MariaDB through Drizzle on mysql2: survives restarts, and any number of app instances
 * can share one database. Each commit is one transaction that locks the session's row and merges the request's
 * changed keys, so concurrent requests keep each other's writes; every call settles within `operationTimeout`.
 *
 * @example
 * app.use(session({ secret, engine: await mysqlEngine({ url: 'mysql://app@127.0.0.1:3306/app' }) }))
 */
export async function mysqlEngine(options: MysqlEngineOptions): Promise<SessionEngine> {
  const { source, table, migrate, operationTimeout } = checkOptions(options)
  const ownsPool = 'url' in source
  const pool = 'url' in source ? openPool(source.url, operationTimeout) : source.pool
  // Errors of connections that had failed already say nothing about closing; only a close that hangs does.
  const endPool = () =>
    withinTimeLimit(
      pool.end().catch(() => undefined),
      operationTimeout,
      'MySQL close',
    )
  try {
    const database = await withinTimeLimit(checkConnections(pool), operationTimeout, 'MySQL startup')
    if (migrate) {
      try {
        const longest = MIGRATION_LOCK_WAIT * 1_000 + operationTimeout
        await withinTimeLimit(applyMigrations(pool), longest, 'MySQL migrations')
      } catch (error) {
        throw new SessionEngineError(`apply the MySQL migrations to database '${database}'`, error)
      }
    }
    await withinTimeLimit(requireTable(pool, database, table), operationTimeout, 'MySQL startup')
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

interface CheckedOptions {
  readonly source: { readonly url: string } | { readonly pool: Pool }
  readonly table: string
  readonly migrate: boolean
  readonly operationTimeout: number
}

function checkOptions(options: MysqlEngineOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError(
      "mysqlEngine(options) needs { url: 'mysql://user@host:3306/database' } or { database }",
    )
  }
  const { url, database, table = DEFAULT_TABLE, operationTimeout = 5_000 } = options
  if ((url === undefined) === (database === undefined)) {
    throw new SessionConfigError(
      "mysqlEngine needs exactly one of { url: 'mysql://user@host:3306/database' } (a pool the engine opens) or { database } (an open mysql2 pool or Drizzle instance)",
    )
  }
  if (url !== undefined) checkUrl(url)
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new SessionConfigError(
      `mysqlEngine({ table }) needs a name of at most 48 letters, digits and _ that does not start with a digit, got ${JSON.stringify(table)}`,
    )
  }
  if (!(Number.isSafeInteger(operationTimeout) && operationTimeout > 0 && operationTimeout <= LONGEST_TIMEOUT)) {
    throw new SessionConfigError(
      `mysqlEngine({ operationTimeout }) needs a whole number of milliseconds from 1 to ${LONGEST_TIMEOUT}, got ${String(operationTimeout)}`,
    )
  }
  const migrate = options.migrate ?? url !== undefined
  if (typeof migrate !== 'boolean') {
    throw new SessionConfigError(`mysqlEngine({ migrate }) needs true or false, got ${String(migrate)}`)
  }
  if (migrate && table !== DEFAULT_TABLE) {
    throw new SessionConfigError(
      `mysqlEngine({ table: '${table}' }) cannot use the bundled migrations, which create a table named 'sessions'. Pass migrate: false and create the table from sessionsTable('${table}') in your own Drizzle schema and migrations.`,
    )
  }
  if (url !== undefined) return { source: { url }, table, migrate, operationTimeout }
  const pool = poolOf(database)
  if (!pool) {
    throw new SessionConfigError(
      'mysqlEngine({ database }) needs a mysql2 pool (createPool from mysql2 or mysql2/promise) or a Drizzle instance made by drizzle-orm/mysql2 on one; a single connection cannot run concurrent transactions',
    )
  }
  return { source: { pool }, table, migrate, operationTimeout }
}

function checkUrl(url: unknown): void {
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined
  if (!parsed || !['mysql:', 'mariadb:'].includes(parsed.protocol)) {
    // Only the scheme: the rest may hold a password.
    const got = parsed ? `a ${parsed.protocol}// URL` : typeof url === 'string' ? 'a string that is no URL' : typeof url
    throw new SessionConfigError(
      `mysqlEngine({ url }) needs a URL such as 'mysql://user:password@host:3306/database', got ${got}`,
    )
  }
  if (parsed.pathname.length <= 1) {
    throw new SessionConfigError(
      `mysqlEngine({ url }) needs the database in the URL's path, as in 'mysql://user@${parsed.host}/sessions'`,
    )
  }
}
