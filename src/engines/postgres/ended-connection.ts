/**
 * How many times one call runs at most while it keeps landing on pooled connections that have ended: Bun's pool hands
 * out each connection that died while idle (a server restart, a network cut, `pg_terminate_backend`) once more, and
 * only that call learns that it is gone.
 */
export const ENDED_CONNECTION_ATTEMPTS = 10

/** Bun SQL's code for a query on a connection that closed before the query completed. */
const CONNECTION_CLOSED = 'ERR_POSTGRES_CONNECTION_CLOSED'

/** SQLSTATEs of a server that ended the connection: admin_shutdown (`pg_terminate_backend`) and crash_shutdown. */
const CONNECTION_ENDED_BY_SERVER = new Set(['57P01', '57P02'])

/** Whether `error` says that the connection ended, not that the statement failed. */
export function isEndedConnection(error: unknown): boolean {
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  return code === CONNECTION_CLOSED || CONNECTION_ENDED_BY_SERVER.has(errno as string)
}

/**
 * Runs `work` again, on another connection, while it fails because its connection had ended, so the first calls
 * after an outage do not fail on connections that died while it lasted; never once `signal` has aborted, since the
 * caller was then told the call failed. Only for idempotent work: when a connection ends after the server applied
 * the call, running it once more leaves the same result.
 */
export async function retryOnEndedConnection<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (signal.aborted || !isEndedConnection(error) || attempt >= ENDED_CONNECTION_ATTEMPTS) throw error
    }
  }
}
