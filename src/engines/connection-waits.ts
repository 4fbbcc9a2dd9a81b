/** The waits for a connection of one pool: its limit, how many are with the pool, and the calls queued for a turn. */
interface PoolWaits {
  readonly limit: number
  withPool: number
  readonly queued: Set<() => void>
}

const waitsByPool = new WeakMap<object, PoolWaits>()

/**
 * Asks `pool` for a connection with `take` once fewer than its limit of the engines' calls are waiting on it, and
 * settles as `take` does; the other calls queue here, in order. The limit is `limitOf()`, read at the pool's first
 * call; a limit that is not a positive number (a pool of no fixed size) lets every call ask the pool at once. A call
 * whose `signal` aborts (it timed out) while queued here leaves at once, rejected with the signal's reason, and never
 * asks the pool. A driver's pool can neither cancel nor forget a wait: without this, every call made while a server
 * hangs would leave one behind, and once the server answered again the pool would hand its connections to all of
 * them, one after the other, before any new call.
 */
export function waitForConnection<T>(
  pool: object,
  limitOf: () => number,
  signal: AbortSignal,
  take: () => Promise<T>,
): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  let waits = waitsByPool.get(pool)
  if (!waits) {
    waits = { limit: limitOf(), withPool: 0, queued: new Set() }
    waitsByPool.set(pool, waits)
  }
  if (!(waits.limit > 0)) return take()
  const poolWaits = waits
  const ask = (): Promise<T> => {
    poolWaits.withPool++
    let taking: Promise<T>
    try {
      taking = take()
    } catch (error) {
      taking = Promise.reject(error)
    }
    const passTurn = () => {
      poolWaits.withPool--
      const first = poolWaits.queued.values().next()
      if (!first.done) first.value()
    }
    taking.then(passTurn, passTurn)
    return taking
  }
  if (poolWaits.withPool < poolWaits.limit) return ask()
  return new Promise<T>((resolve, reject) => {
    const turn = () => {
      poolWaits.queued.delete(turn)
      signal.removeEventListener('abort', leave)
      ask().then(resolve, reject)
    }
    const leave = () => {
      poolWaits.queued.delete(turn)
      reject(signal.reason)
    }
    poolWaits.queued.add(turn)
    signal.addEventListener('abort', leave, { once: true })
  })
}
