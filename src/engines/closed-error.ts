/** What a call to an engine that was closed fails with, so that callers can tell it from a failure of the store. */
export class EngineClosedError extends Error {
  override readonly name = 'EngineClosedError'
}

/**
 * The error a call to an engine that was closed fails with; `engine` is the engine's name (`'sqlite'`), and
 * `operation`, when given, the call that was refused.
 */
export function closedError(engine: string, operation?: string): EngineClosedError {
  const refused = operation === undefined ? '' : ` (${operation})`
  return new EngineClosedError(`The ${engine} session engine is closed${refused}`)
}

/** Whether `error`, or the error it wraps as its `cause`, says that the engine was closed. */
export function isEngineClosed(error: unknown): boolean {
  return error instanceof EngineClosedError || (error instanceof Error && error.cause instanceof EngineClosedError)
}
