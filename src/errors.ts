import type { StandardIssue } from './standard-schema.js'

/** Thrown by `session(...)` and `storable(...)` when the configuration cannot work; the message says how to fix it. */
export class SessionConfigError extends Error {
  override readonly name = 'SessionConfigError'
}

/** Thrown by a typed getter such as `session.int(key)` when the session has no value of that type under `key`. */
export class SessionKeyError extends Error {
  override readonly name = 'SessionKeyError'

  constructor(
    readonly key: string,
    readonly type: string,
  ) {
    super(`Session has no ${type} under key ${JSON.stringify(key)}`)
  }
}

/**
 * Wraps a failure of a session engine. The message names only the operation, so a response built from it (Elysia
 * answers an unhandled error with its message and `status`: 503 here) never shows what the engine said, which may
 * name hosts or users; the engine's own error is kept as `cause` for the logs.
 */
export class SessionEngineError extends Error {
  override readonly name = 'SessionEngineError'
  /** The HTTP status an unhandled engine failure answers with: the service is unavailable, not broken. */
  readonly status = 503

  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`Session engine failed to ${operation}`, { cause })
  }
}

/**
 * An error's message followed by the messages of its causes (`Session engine failed to load a session: connect
 * ECONNREFUSED 127.0.0.1:6379`), for logs: never for a response, as a cause may name hosts or users.
 */
export function failureReason(error: unknown): string {
  const parts: string[] = []
  for (let each: unknown = error; each !== undefined && parts.length < 5; each = (each as { cause?: unknown }).cause) {
    parts.push(each instanceof Error ? each.message : String(each))
    if (!(each instanceof Error)) break
  }
  return parts.join(': ')
}

/**
 * Runs one engine call, turning its failure (a rejection, or a throw from an engine that is not async) into a
 * `SessionEngineError` that keeps the cause. Not an async function: it runs on every request that loads a session.
 */
export function callEngine<T>(operation: string, call: () => Promise<T>): Promise<T> {
  const wrap = (error: unknown): never => {
    throw new SessionEngineError(operation, error)
  }
  try {
    return call().then(undefined, wrap)
  } catch (error) {
    return Promise.reject(new SessionEngineError(operation, error))
  }
}

/** `callEngine` for an engine's synchronous calls: a throw becomes a `SessionEngineError` that keeps the cause. */
export function callEngineNow<T>(operation: string, call: () => T): T {
  try {
    return call()
  } catch (error) {
    throw new SessionEngineError(operation, error)
  }
}

/**
 * Thrown by `session.set(key, value)` when the value does not match the key's schema. The message names the key and
 * where the check failed, never the value; `issues` holds the validator's own findings (which may quote the value).
 */
export class SessionValueError extends TypeError {
  override readonly name = 'SessionValueError'

  constructor(
    message: string,
    readonly key: string,
    readonly issues: readonly StandardIssue[],
  ) {
    super(message)
  }
}

/**
 * Thrown by a write (`session.set`, a typed accessor, `flash.set`, `session.owner`, …) after which the session's
 * stored data would be over the `maxSize` limit and larger than before; the write changes nothing. The message names
 * the limit and the size, never the value.
 */
export class SessionSizeError extends Error {
  override readonly name = 'SessionSizeError'

  constructor(
    /** The `maxSize` limit, in bytes. */
    readonly limit: number,
    /** The size the session's data would have had after the write, in bytes. */
    readonly size: number,
  ) {
    super(
      `Session data would be ${size} bytes, over the maxSize limit of ${limit} bytes: store less in the session, or raise the limit with session({ maxSize })`,
    )
  }
}
