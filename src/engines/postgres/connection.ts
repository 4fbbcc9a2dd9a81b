import { SQL } from 'bun'
import { waitForConnection } from '../connection-waits.js'
import { withinDeadline } from '../deadlines.js'

/**
 * Opens a connection pool on `url` whose connection attempts give up after twice `operationTimeout`: calls waiting for
 * a connection fail with the engine's own timeout first, while a slow connect still gets to finish for later calls,
 * and a server that accepts connections but never answers cannot pile them up forever (Bun's default is 30 s).
 */
export function openSessionClient(url: string, operationTimeout: number): SQL {
  const database = decodeURIComponent(new URL(url).pathname.slice(1))
  return new SQL({
    url,
    adapter: 'postgres',
    connectionTimeout: (2 * operationTimeout) / 1_000,
    // Bun lets PGDATABASE override the database named in the URL; the URL the app passed must win.
    ...(database !== '' && { database }),
  })
}

/** Whether `client` is a Bun SQL client that talks to PostgreSQL. */
export function isPostgresClient(client: unknown): client is SQL {
  return client instanceof SQL && client.options.adapter === 'postgres'
}

/** The server and database `client` connects to, for error messages; never the password. */
export function describeServer(client: SQL): string {
  const { hostname, port, database } = client.options as { hostname?: string; port?: number; database?: string }
  return `PostgreSQL database '${database ?? '?'}' at ${hostname ?? '?'}:${port ?? '?'}`
}

/**
 * Lends `work` a connection of its own from `client`'s pool for one call: the connection goes back to the pool when
 * `work` succeeds, and is dropped (closed) when it fails, as it may be mid-transaction or broken, or at once when
 * `signal` aborts, so the server rolls back what `work` had begun and a connection that hangs leaves the pool.
 */
export async function lendConnection<T>(
  client: SQL,
  signal: AbortSignal,
  work: (connection: SQL) => Promise<T>,
): Promise<T> {
  const connection = await waitForConnection(
    client,
    () => poolSizeOf(client),
    signal,
    () => client.reserve(),
  )
  if (signal.aborted) {
    void connection.release().catch(() => undefined)
    throw signal.reason
  }
  const close = () => void connection.close().catch(() => undefined)
  signal.addEventListener('abort', close, { once: true })
  try {
    const result = await work(connection)
    signal.removeEventListener('abort', close)
    // Awaited: the connection is back in the pool before the caller's next call asks for one, which then takes it
    // instead of queueing for another.
    if (!signal.aborted) await connection.release().catch(() => undefined)
    return result
  } catch (error) {
    signal.removeEventListener('abort', close)
    close()
    throw error
  }
}

/** Bun SQL's pool size when the client's options do not set one. */
const DEFAULT_POOL_SIZE = 10

/** How many connections `client`'s pool opens at most. */
function poolSizeOf(client: SQL): number {
  return (client.options as { max?: number }).max ?? DEFAULT_POOL_SIZE
}

/**
 * Makes a function that asks every connection of `client`'s pool, all at once, for a trivial answer, and closes those
 * that give none within `operationTimeout`. Called when a call hung, it empties the pool of the connections stuck on
 * the same broken path together, rather than one failed call for each. While a check runs, calling it does nothing.
 */
export function hungConnectionCheck(client: SQL, operationTimeout: number): () => void {
  const poolSize = poolSizeOf(client)
  let checking = false
  const probe = () =>
    withinDeadline(
      (signal) => lendConnection(client, signal, (connection) => connection.unsafe('SELECT 1')),
      operationTimeout,
      'A check of a pooled connection',
    )
  return () => {
    if (checking) return
    checking = true
    void Promise.allSettled(Array.from({ length: poolSize }, probe)).finally(() => {
      checking = false
    })
  }
}
