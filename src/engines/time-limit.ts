/** Thrown when an engine's server has not answered within the engine's `operationTimeout`. */
export class EngineTimeoutError extends Error {
  override readonly name = 'EngineTimeoutError'
}

/**
 * Runs `work` and settles as it does, or rejects with an `EngineTimeoutError` once `timeout` ms have passed, so a
 * request never waits on a server that stopped answering. At that moment, before the caller hears of it, `signal`
 * aborts with that error as its reason: the work is abandoned, and must send, retry or commit nothing more. Abort
 * listeners drop the connection the work was waiting on, so nothing it already sent can take effect later. The error
 * names `statedLimit`: the time limit the caller set, of which a call that waited first has only `timeout` left.
 */
export function withinTimeLimit<T>(
  work: (signal: AbortSignal) => Promise<T>,
  timeout: number,
  what: string,
  statedLimit = timeout,
): Promise<T> {
  const controller = new AbortController()
  // One promise and one timer per call, no race: this wraps every round trip of the server-backed engines.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new EngineTimeoutError(`${what} got no answer within ${statedLimit} ms`)
      controller.abort(error)
      reject(error)
    }, timeout)
    const settle = (finish: () => void) => {
      clearTimeout(timer)
      // Work abandoned at the time limit may still settle later; nobody waits for it any more.
      if (!controller.signal.aborted) finish()
    }
    let running: Promise<T>
    try {
      running = Promise.resolve(work(controller.signal))
    } catch (error) {
      // A work function that throws at once settles the call like one that rejects.
      running = Promise.reject(error)
    }
    running.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    )
  })
}
