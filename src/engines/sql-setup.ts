import { SessionConfigError } from '../errors.js'

/** The option through which an engine opens connections of its own, such as `url`. */
export interface OwnSourceRule<Option extends string> {
  /** The option's name, such as `'url'` or `'path'`. */
  readonly option: Option
  /** A value to show in messages, such as `'postgres://user@host:5432/database'`. */
  readonly example: string
  /** What the engine does with it, for messages, such as `'a pool the engine opens'`. */
  readonly opens: string
  /** Checks the option's value; throws a SessionConfigError that says what to pass. */
  readonly check: (value: unknown) => void
}

/** The option that bounds how long the engine waits, in milliseconds. */
export interface TimeoutRule {
  /** The option's name, such as `'operationTimeout'`. */
  readonly option: string
  /** The least value accepted. */
  readonly least: number
  /** The greatest value accepted, when there is one. */
  readonly most?: number
}

/** What differs between the SQL engines' options, and how their errors word it. */
export interface SqlEngineRules<Client, Option extends string> {
  /** The factory's name, as messages quote it, such as `'postgresEngine'`. */
  readonly engine: string
  /** The option that has the engine open its own connections. */
  readonly ownSource: OwnSourceRule<Option>
  /** The option that bounds how long the engine waits. */
  readonly timeout: TimeoutRule
  /** What `database` may be, for messages, such as `'a Bun SQL client or a Drizzle instance on one'`. */
  readonly databaseKinds: string
  /** The longest table name the engine accepts. */
  readonly longestTableName: number
  /** The client `database` is or wraps; throws a SessionConfigError for anything else. */
  readonly clientOf: (database: unknown) => Client
}

/** Options once checked: where the connections come from, and every default filled in. */
export interface CheckedSqlOptions<Client, Option extends string> {
  readonly source: { readonly [K in Option]: string } | { readonly client: Client }
  readonly table: string
  readonly migrate: boolean
  /** The value of the rules' timeout option. */
  readonly timeout: number
}

/** The table the bundled migrations create. */
const DEFAULT_TABLE = 'sessions'
const DEFAULT_TIMEOUT = 5_000
/** setTimeout's longest delay. */
const LONGEST_TIMEOUT = 2 ** 31 - 1

/** Seconds a start waits for another process to finish applying the migrations. */
export const MIGRATION_LOCK_WAIT = 30

/** The `operationTimeout` of the engines on a server: any whole number of milliseconds setTimeout takes. */
export const OPERATION_TIMEOUT: TimeoutRule = { option: 'operationTimeout', least: 1, most: LONGEST_TIMEOUT }

/**
 * The `url` of an engine on a server: a URL with one of `protocols` (with their colon, such as `'postgres:'`),
 * passing `checkFurther` too, such as a check that it names a database.
 */
export function urlSource(
  engine: string,
  example: string,
  protocols: readonly string[],
  checkFurther?: (url: URL) => void,
): OwnSourceRule<'url'> {
  return {
    option: 'url',
    example,
    opens: 'a pool the engine opens',
    check(url) {
      const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined
      if (!parsed || !protocols.includes(parsed.protocol)) {
        // Only the scheme: the rest may hold a password.
        const got = parsed
          ? `a ${parsed.protocol}// URL`
          : typeof url === 'string'
            ? 'a string that is no URL'
            : typeof url
        throw new SessionConfigError(`${engine}({ url }) needs a URL such as '${example}', got ${got}`)
      }
      checkFurther?.(parsed)
    },
  }
}

/** Checks a SQL engine's `options` and fills in the defaults; throws a SessionConfigError that says what to pass. */
export function checkSqlOptions<Client, Option extends string>(
  options: unknown,
  rules: SqlEngineRules<Client, Option>,
): CheckedSqlOptions<Client, Option> {
  const { engine, ownSource, timeout: timeoutRule } = rules
  const { option, example } = ownSource
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError(`${engine}(options) needs { ${option}: '${example}' } or { database }`)
  }
  const given = options as Record<string, unknown>
  const { database, table = DEFAULT_TABLE } = given
  const own = given[option]
  const timeout = given[timeoutRule.option] ?? DEFAULT_TIMEOUT
  if ((own === undefined) === (database === undefined)) {
    throw new SessionConfigError(
      `${engine} needs exactly one of { ${option}: '${example}' } (${ownSource.opens}) or { database } ` +
        `(${rules.databaseKinds})`,
    )
  }
  if (own !== undefined) ownSource.check(own)
  const namePattern = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${rules.longestTableName - 1}}$`)
  if (typeof table !== 'string' || !namePattern.test(table)) {
    throw new SessionConfigError(
      `${engine}({ table }) needs a name of at most ${rules.longestTableName} letters, digits and _ that does not ` +
        `start with a digit, got ${JSON.stringify(table)}`,
    )
  }
  checkTimeout(engine, timeoutRule, timeout)
  const migrate = given['migrate'] ?? own !== undefined
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
  const source =
    own !== undefined ? ({ [option]: own } as { [K in Option]: string }) : { client: rules.clientOf(database) }
  return { source, table, migrate, timeout }
}

function checkTimeout(
  engine: string,
  { option, least, most }: TimeoutRule,
  timeout: unknown,
): asserts timeout is number {
  const inRange = typeof timeout === 'number' && timeout >= least && (most === undefined || timeout <= most)
  if (!(Number.isSafeInteger(timeout) && inRange)) {
    const range = most === undefined ? `>= ${least}` : `from ${least} to ${most}`
    throw new SessionConfigError(
      `${engine}({ ${option} }) needs a whole number of milliseconds ${range}, got ${String(timeout)}`,
    )
  }
}

/** The error for a sessions table that is not there at startup; `where` names the database and its server. */
export function missingTableError(table: string, where: string): SessionConfigError {
  return new SessionConfigError(
    `Table '${table}' does not exist in ${where}. Create it from sessionsTable('${table}') in your migrations, or ` +
      `let the engine create the default '${DEFAULT_TABLE}' table with migrate: true.`,
  )
}
