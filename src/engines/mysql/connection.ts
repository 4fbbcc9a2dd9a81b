import { type Pool as CallbackPool, createPool } from 'mysql2'
import type { Pool, PoolConnection } from 'mysql2/promise'
import { SessionConfigError } from '../../errors.js'
import { waitForConnection } from '../connection-waits.js'

/** How many connections the pool an engine opens from a URL keeps at most (mysql2's default). */
const POOL_SIZE = 10

/** How much longer than `operationTimeout` a connection attempt may take. */
const CONNECT_GRACE = 1_000

/** Milliseconds an idle connection waits before TCP keep-alive probes tell a dead server from a quiet one. */
const KEEP_ALIVE_DELAY = 10_000

/**
 * Opens the pool of an engine given a URL. A connection attempt to a server that accepts TCP but never answers gives
 * up a second after the call waiting on it has failed with its time limit, freeing its pool slot; calls wait for a
 * free connection rather than fail, their own time limit bounding the wait.
 */
export function openPool(url: string, operationTimeout: number): Pool {
  return createPool({
    uri: url,
    // utf8mb4 end to end: the data column is utf8mb4, and any other connection character set loses characters.
    charset: 'UTF8MB4_UNICODE_CI',
    // Later than the call's own time limit, so a call fails with the time limit's error, never with a race of two.
    connectTimeout: operationTimeout + CONNECT_GRACE,
    connectionLimit: POOL_SIZE,
    maxIdle: POOL_SIZE,
    idleTimeout: 60_000,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    keepAliveInitialDelay: KEEP_ALIVE_DELAY,
  }).promise()
}

/** The properties that tell a mysql2 pool, its promise wrapper and a Drizzle instance apart. */
interface PoolShape {
  readonly $client?: unknown
  readonly pool?: unknown
  readonly getConnection?: unknown
  readonly releaseConnection?: unknown
  readonly promise?: unknown
}

/** The promise API of the mysql2 pool `database` is or wraps (a Drizzle instance), or undefined for anything else. */
export function poolOf(database: unknown): Pool | undefined {
  const client = isObject(database) && '$client' in database ? database.$client : database
  if (isCallbackPool(client)) return client.promise()
  if (isObject(client) && isCallbackPool(client.pool)) return client as Pool
  return undefined
}

function isCallbackPool(value: unknown): value is CallbackPool {
  return (
    isObject(value) &&
    typeof value.getConnection === 'function' &&
    typeof value.releaseConnection === 'function' &&
    typeof value.promise === 'function'
  )
}

function isObject(value: unknown): value is PoolShape {
  return typeof value === 'object' && value !== null
}

/** The `FOUND_ROWS` client flag (mysql2's default): without it, a touch that changes nothing would count no row. */
const FOUND_ROWS = 2

/**
 * Lends `work` a connection of its own from `pool` for one call, and gives it back to the pool afterwards; a connection
 * that failed with a fatal error is dropped (destroyed) first, and so is the connection when `signal` aborts, at once:
 * the server rolls back what `work` had begun, and a connection that hangs leaves the pool.
 */
export async function lendConnection<T>(
  pool: Pool,
  signal: AbortSignal,
  work: (connection: PoolConnection) => Promise<T>,
): Promise<T> {
  // Keyed by the callback pool: each `promise()` of it makes another wrapper, and the limit is the pool's, not theirs.
  const connection = await waitForConnection(
    pool.pool,
    () => poolSizeOf(pool),
    signal,
    () => pool.getConnection(),
  )
  if (signal.aborted) {
    connection.release()
    throw signal.reason
  }
  const destroy = () => connection.destroy()
  signal.addEventListener('abort', destroy, { once: true })
  try {
    return await work(connection)
  } catch (error) {
    if (isFatal(error)) connection.destroy()
    throw error
  } finally {
    signal.removeEventListener('abort', destroy)
    connection.release()
  }
}

/** How many connections `pool` opens at most; mysql2's 0 means no limit. */
function poolSizeOf(pool: Pool): number {
  const limit = (pool.pool as { config?: { connectionLimit?: number } }).config?.connectionLimit ?? POOL_SIZE
  return limit === 0 ? Number.POSITIVE_INFINITY : limit
}

/** Whether `error` is mysql2's word that the connection it came from can serve no more statements. */
export function isFatal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true
}

/**
 * Fails at startup, with the fix, when `pool`'s connections cannot serve the engine: no database selected, a
 * character set other than utf8mb4, or the FOUND_ROWS flag turned off. Resolves to the database's name.
 */
export async function checkConnection(pool: Pool, connection: PoolConnection): Promise<string> {
  const flags = (pool.pool as { config?: { connectionConfig?: { clientFlags?: unknown } } }).config?.connectionConfig
    ?.clientFlags
  if (typeof flags === 'number' && (flags & FOUND_ROWS) === 0) {
    throw new SessionConfigError(
      "mysqlEngine({ database }) needs mysql2's default FOUND_ROWS flag; remove '-FOUND_ROWS' from the pool's flags",
    )
  }
  const [rows] = await connection.query({
    sql: 'SELECT DATABASE(), @@character_set_client, @@character_set_connection, @@character_set_results',
    rowsAsArray: true,
  })
  const [database, ...charsets] = (rows as unknown[][])[0] ?? []
  if (typeof database !== 'string') {
    throw new SessionConfigError(
      'mysqlEngine needs connections with a database selected: name it in the URL ' +
        '(mysql://user@host:3306/<database>) or in the pool options ({ database })',
    )
  }
  const wrong = charsets.find((charset) => charset !== 'utf8mb4')
  if (wrong !== undefined) {
    throw new SessionConfigError(
      `mysqlEngine needs connections whose character set is utf8mb4, got ${String(wrong)}: create the pool with ` +
        "charset: 'UTF8MB4_UNICODE_CI' (mysql2's default)",
    )
  }
  return database
}

/** Whether `table` exists in the database of `connection`. */
export async function hasTable(connection: PoolConnection, table: string): Promise<boolean> {
  const [rows] = await connection.query({
    sql: 'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    values: [table],
    rowsAsArray: true,
  })
  return (rows as unknown[][]).length > 0
}
