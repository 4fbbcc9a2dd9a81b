import type { SQL } from 'bun'
import type { SessionEngine } from '../../engine.js'
import { SessionConfigError, SessionEngineError } from '../../errors.js'
import { withinTimeLimit } from '../time-limit.js'
import { describeServer, isPostgresClient, openSessionClient } from './connection.js'
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
   * closes it.
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
   * Milliseconds after which any engine call, and each startup step, that has not settled rejects, so no request
   * waits on a server that stopped answering.
   * @default 5000
   */
  readonly operationTimeout?: number
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const DEFAULT_TABLE = 'sessions'

/**
 * Stores sessions in PostgreSQL through Drizzle on Bun's built-in SQL client: survives restarts, and any number of
 * app instances can share one database. Each commit is one transaction that locks the session's row and merges the
 * request's changed keys into it.
 *
 * @example
 * app.use(session({ secret, engine: await postgresEngine({ url: process.env.DATABASE_URL! }) }))
 */
export async function postgresEngine(options: PostgresEngineOptions): Promise<SessionEngine> {
  const { source, table, migrate, operationTimeout } = checkOptions(options)
  const ownsClient = 'url' in source
  const client = 'url' in source ? openSessionClient(source.url, operationTimeout) : source.client
  try {
    if (migrate) {
      await withinTimeLimit(applyMigrations(client), operationTimeout, 'Applying the migrations').catch((error) => {
        throw new SessionEngineError(`apply the PostgreSQL migrations to ${describeServer(client)}`, error)
      })
    }
    await requireTable(client, table, operationTimeout)
    return createPostgresEngine(client, { table: sessionsTable(table), ownsClient, operationTimeout })
  } catch (error) {
    if (ownsClient) await client.close({ timeout: 0 })
    throw error
  }
}

interface CheckedOptions {
  readonly source: { readonly url: string } | { readonly client: SQL }
  readonly table: string
  readonly migrate: boolean
  readonly operationTimeout: number
}

function checkOptions(options: PostgresEngineOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError("postgresEngine(options) needs { url: 'postgres://…' } or { database }")
  }
  const { url, database, table = DEFAULT_TABLE, operationTimeout = 5_000 } = options
  if ((url === undefined) === (database === undefined)) {
    throw new SessionConfigError(
      "postgresEngine needs exactly one of { url: 'postgres://user@host:5432/db' } (a pool the engine opens) or " +
        '{ database } (a Bun SQL client or a Drizzle instance on one)',
    )
  }
  if (url !== undefined && !isPostgresUrl(url)) {
    throw new SessionConfigError(
      `postgresEngine({ url }) needs a URL such as 'postgres://user@host:5432/db', got ${JSON.stringify(url)}`,
    )
  }
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new SessionConfigError(
      'postgresEngine({ table }) needs a name of letters, digits and _ that does not start with a digit, ' +
        `got ${JSON.stringify(table)}`,
    )
  }
  if (!(Number.isSafeInteger(operationTimeout) && operationTimeout > 0)) {
    throw new SessionConfigError(
      `postgresEngine({ operationTimeout }) needs a whole number of milliseconds > 0, got ${String(operationTimeout)}`,
    )
  }
  const migrate = options.migrate ?? url !== undefined
  if (typeof migrate !== 'boolean') {
    throw new SessionConfigError(`postgresEngine({ migrate }) needs true or false, got ${String(migrate)}`)
  }
  if (migrate && table !== DEFAULT_TABLE) {
    throw new SessionConfigError(
      `postgresEngine({ table: '${table}' }) cannot use the bundled migrations, which create a table named ` +
        `'sessions'. Pass migrate: false and create the table from sessionsTable('${table}') in your own Drizzle ` +
        'schema and migrations.',
    )
  }
  const source = url !== undefined ? { url } : { client: clientOf(database) }
  return { source, table, migrate, operationTimeout }
}

function isPostgresUrl(url: unknown): url is string {
  if (typeof url !== 'string' || !URL.canParse(url)) return false
  const { protocol } = new URL(url)
  return protocol === 'postgres:' || protocol === 'postgresql:'
}

function clientOf(database: PostgresEngineOptions['database']): SQL {
  if (isPostgresClient(database)) return database
  if (typeof database === 'object' && database !== null && isPostgresClient(database.$client)) return database.$client
  throw new SessionConfigError(
    'postgresEngine({ database }) needs a Bun SQL client for PostgreSQL or a Drizzle instance made by ' +
      'drizzle-orm/bun-sql',
  )
}

/** Fails at startup, not on the first request, when the table the engine needs is not there. */
async function requireTable(client: SQL, table: string, operationTimeout: number): Promise<void> {
  const lookup = client`SELECT to_regclass(quote_ident(${table})) IS NOT NULL AS found`
  const [row] = await withinTimeLimit(lookup, operationTimeout, 'Looking up the sessions table').catch((error) => {
    throw new SessionEngineError(`reach ${describeServer(client)}`, error)
  })
  if ((row as { found: boolean } | undefined)?.found) return
  throw new SessionConfigError(
    `Table '${table}' does not exist in ${describeServer(client)}. Create it from sessionsTable('${table}') in ` +
      "your migrations, or let the engine create the default 'sessions' table with migrate: true.",
  )
}
