/**
 * The error a call to an engine that was closed fails with; `engine` is the engine's name (`'sqlite'`), and
 * `operation`, when given, the call that was refused.
 */
export function closedError(engine: string, operation?: string): Error {
  const refused = operation === undefined ? '' : ` (${operation})`
  return new Error(`The ${engine} session engine is closed${refused}`)
}
