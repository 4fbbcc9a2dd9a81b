import { SessionConfigError } from '../errors.js'

/** The options the SQL engines share; `Database` is the kind of client each accepts as `database`. */
export interface SqlEngineOptions<Database> {
  readonly url?: string
  readonly database?: Database
  readonly table?: string
  readonly migrate?: boolean
  readonly operationTimeout?: number
}

/** What differs between the SQL engines' options, and how their errors word it. */
export interface SqlEngineRules<Client> {
  /** The factory's name, as messages quote it, such as `'postgresEngine'`. */
  readonly engine: string
  /** A URL to show in messages, such as `'postgres://user@host:5432/database'`. */
  readonly exampleUrl: string
  /** The URL schemes the engine accepts, with their colon, such as `'postgres:'`. */
  readonly protocols: readonly string[]
  /** What `database` may be, for messages, such as `'a Bun SQL client or a Drizzle instance on one'`. */
  readonly databaseKinds: string
  /** The longest table name the engine accepts. */
  readonly longestTableName: number
  /** Further checks of a URL of the right scheme, such as that it names a database. */
  readonly checkUrl?: (url: URL) => void
  /** The client `database` is or wraps; throws a SessionConfigError for anything else. */
  readonly clientOf: (database: unknown) => Client
}

/** Options once checked: where the connections come from, and every default filled in. */
export interface CheckedSqlOptions<Client> {
  readonly source: { readonly url: string } | { readonly client: Client }
  readonly table: string
  readonly migrate: boolean
  readonly operationTimeout: number
}

/** The table the bundled migrations create. */
const DEFAULT_TABLE = 'sessions'
const DEFAULT_OPERATION_TIMEOUT = 5_000
/** setTimeout's longest delay. */
const LONGEST_TIMEOUT = 2 ** 31 - 1

/** Seconds a start waits for another process to finish applying the migrations. */
export const MIGRATION_LOCK_WAIT = 30

/** Checks a SQL engine's `options` and fills in the defaults; throws a SessionConfigError that says what to pass. */
export function checkSqlOptions<Client>(options: unknown, rules: SqlEngineRules<Client>): CheckedSqlOptions<Client> {
  const { engine, exampleUrl } = rules
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError(`${engine}(options) needs { url: '${exampleUrl}' } or { database }`)
  }
  const given = options as SqlEngineOptions<unknown>
  const { url, database, table = DEFAULT_TABLE, operationTimeout = DEFAULT_OPERATION_TIMEOUT } = given
  if ((url === undefined) === (database === undefined)) {
    throw new SessionConfigError(
      `${engine} needs exactly one of { url: '${exampleUrl}' } (a pool the engine opens) or { database } ` +
        `(${rules.databaseKinds})`,
    )
  }
  if (url !== undefined) checkUrl(url, rules)
  const namePattern = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${rules.longestTableName - 1}}$`)
  if (typeof table !== 'string' || !namePattern.test(table)) {
    throw new SessionConfigError(
      `${engine}({ table }) needs a name of at most ${rules.longestTableName} letters, digits and _ that does not ` +
        `start with a digit, got ${JSON.stringify(table)}`,
    )
  }
  if (!(Number.isSafeInteger(operationTimeout) && operationTimeout > 0 && operationTimeout <= LONGEST_TIMEOUT)) {
    throw new SessionConfigError(
      `${engine}({ operationTimeout }) needs a whole number of milliseconds from 1 to ${LONGEST_TIMEOUT}, ` +
        `got ${String(operationTimeout)}`,
    )
  }
  const migrate = given.migrate ?? url !== undefined
  if (typeof migrate !== 'boolean') {
    throw new SessionConfigError(`${engine}({ migrate }) needs true or false, got ${String(migrate)}`)
  }
  if (migrate && table !== DEFAULT_TABLE) {
    throw new SessionConfigError(
      `${engine}({ table: '${table}' }) cannot use the bundled migrations, which create a table named ` +
        `'${DEFAULT_TABLE}'. Pass migrate: false and create the table from sessionsTable('${table}') in your own ` +
        'Drizzle schema and migrations.',
    )
  }
  const source = url !== undefined ? { url } : { client: rules.clientOf(database) }
  return { source, table, migrate, operationTimeout }
}

function checkUrl(url: unknown, { engine, exampleUrl, protocols, checkUrl: checkFurther }: SqlEngineRules<unknown>) {
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined
  if (!parsed || !protocols.includes(parsed.protocol)) {
    // Only the scheme: the rest may hold a password.
    const got = parsed ? `a ${parsed.protocol}// URL` : typeof url === 'string' ? 'a string that is no URL' : typeof url
    throw new SessionConfigError(`${engine}({ url }) needs a URL such as '${exampleUrl}', got ${got}`)
  }
  checkFurther?.(parsed)
}

/** The error for a sessions table that is not there at startup; `where` names the database and its server. */
export function missingTableError(table: string, where: string): SessionConfigError {
  return new SessionConfigError(
    `Table '${table}' does not exist in ${where}. Create it from sessionsTable('${table}') in your migrations, or ` +
      `let the engine create the default '${DEFAULT_TABLE}' table with migrate: true.`,
  )
}
