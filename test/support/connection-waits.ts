/** The waits for a connection a pool has been asked for and that have not yet settled. */
export interface ConnectionWaits {
  /** Waits not yet settled. */
  readonly pending: number
  /** The most waits at once since the count began or was last restarted. */
  readonly most: number
  /** Starts `most` over from the waits pending now. */
  restart(): void
}

/**
 * Counts the waits for a connection that `pool`'s `method` (a Bun SQL client's `reserve`, a mysql2 promise pool's
 * `getConnection`) is asked for, by wrapping the method on `pool` itself: the waits the driver's pool holds.
 */
export function countWaits<Pool extends object, Method extends keyof Pool>(
  pool: Pool,
  method: Method,
): ConnectionWaits {
  let pending = 0
  let most = 0
  const ask = (pool[method] as () => Promise<unknown>).bind(pool)
  Object.assign(pool, {
    [method]: () => {
      pending++
      most = Math.max(most, pending)
      const asked = ask()
      const settled = () => {
        pending--
      }
      asked.then(settled, settled)
      return asked
    },
  })
  return {
    get pending() {
      return pending
    },
    get most() {
      return most
    },
    restart() {
      most = pending
    },
  }
}
