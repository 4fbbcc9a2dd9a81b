/** Thrown when an engine's server has not answered within the engine's `operationTimeout`. */
export class EngineTimeoutError extends Error {
  override readonly name = 'EngineTimeoutError'
}

/**
 * Runs `work` and settles as it does, or rejects with an `EngineTimeoutError` once `timeout` ms have passed, so a
 * request never waits on a server that stopped answering. At that moment, before the caller hears of it, `signal`
 * aborts with that error as its reason: the work is abandoned, and must send, retry or commit nothing more. Abort
 * listeners drop the connection the work was waiting on, so nothing it already sent can take effect later.
 */
export function withinTimeLimit<T>(
  work: (signal: AbortSignal) => Promise<T>,
  timeout: number,
  what: string,
): Promise<T> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new EngineTimeoutError(`${what} got no answer within ${timeout} ms`)
      controller.abort(error)
      reject(error)
    }, timeout)
  })
  // A work function that throws at once still settles through the race, never past it.
  const running = new Promise<T>((resolve) => resolve(work(controller.signal)))
  // Work abandoned at the time limit may still fail later; nobody waits for it any more.
  running.catch(() => undefined)
  return Promise.race([running, expired]).finally(() => clearTimeout(timer))
}
