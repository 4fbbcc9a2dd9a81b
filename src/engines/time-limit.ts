/** Thrown when an engine's server has not answered within the engine's `operationTimeout`. */
export class EngineTimeoutError extends Error {
  override readonly name = 'EngineTimeoutError'
}

/**
 * Settles as `work` does, or rejects with an `EngineTimeoutError` once `timeout` ms have passed, so a request never
 * waits on a server that stopped answering. The work itself may still finish later.
 */
export function withinTimeLimit<T>(work: Promise<T>, timeout: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EngineTimeoutError(`${what} got no answer within ${timeout} ms`)), timeout)
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}
