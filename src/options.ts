import type { SessionEngine } from './engine.js'
import { memoryEngine } from './engines/memory.js'
import { SessionConfigError } from './errors.js'
import type { SessionSchema } from './session-schema.js'

/** The `SameSite` attribute of the session cookie. */
export type SameSite = 'lax' | 'strict' | 'none'

/** Where GC failures, other background problems and startup warnings are reported. */
export interface SessionLogger {
  error(message: string, cause?: unknown): void
  /**
   * Receives warnings, each once: about the configuration when `session(...)` is called, and the first time owners
   * are looked up on an engine without an owner index. Without it they go to `error`.
   */
  warn?(message: string): void
}

/**
 * What a request does when its session cannot be loaded: `'fail'` answers it with the error (a 503 unless the app's
 * `onError` answers), `'continue'` runs it with an unavailable session (`session.available` is false, writes throw).
 */
export type EngineErrorMode = 'fail' | 'continue'

/** Options of `session(...)`. Every option but `secret` has a safe default. */
export interface SessionOptions<Schema extends SessionSchema | undefined = SessionSchema | undefined> {
  /**
   * Secret(s) that sign the session cookie, each at least 32 characters. With several, the first signs and all verify,
   * so a secret can be rotated without logging anyone out.
   */
  readonly secret: string | readonly string[]
  /**
   * Idle lifetime in milliseconds: a session not used for this long expires. The cookie's Max-Age follows the
   * session's expiry (rounded up to whole seconds).
   * @default 3_600_000 (one hour)
   */
  readonly timeout?: number
  /**
   * Absolute lifetime in milliseconds: a session ends this long after it was created (`session.createdAt`), however
   * active it is. Its expiry is then the earlier of the idle and the absolute end. Any positive value works; one
   * shorter than `timeout` caps every session before it could go idle. Absent means sessions live as long as they
   * are used.
   * @default undefined (off)
   */
  readonly absoluteTimeout?: number
  /**
   * Name of the session cookie.
   * @default 'sessid'
   */
  readonly cookieName?: string
  /**
   * Where sessions are stored.
   * @default memoryEngine()
   */
  readonly engine?: SessionEngine
  /**
   * Milliseconds between sweeps of expired sessions; `0` turns GC off.
   * @default 240_000 (four minutes)
   */
  readonly gcInterval?: number
  /**
   * A request that only reads a session moves its expiry (and re-sends the cookie) at most once per this many
   * milliseconds, so steady traffic costs no extra writes.
   * @default timeout / 10
   */
  readonly touchInterval?: number
  /**
   * Send the cookie over HTTPS only. Required by `sameSite: 'none'` and the `__Secure-`/`__Host-` name prefixes.
   * Left false while `NODE_ENV` is `production`, `session(...)` logs a warning once.
   * @default false
   */
  readonly secure?: boolean
  /**
   * The cookie's `Domain`; absent means the exact host that set it.
   * @default undefined
   */
  readonly domain?: string
  /**
   * The cookie's `Path`.
   * @default '/'
   */
  readonly path?: string
  /**
   * The cookie's `SameSite`.
   * @default 'lax'
   */
  readonly sameSite?: SameSite
  /**
   * Hide the cookie from client-side scripts.
   * @default true
   */
  readonly httpOnly?: boolean
  /**
   * One schema per key of the data read with `session.get` and written with `session.set`: a TypeBox schema (Elysia's
   * `t`) or a synchronous Standard Schema v1 validator (Zod, Valibot, ArkType, …). Types flow into every handler; values
   * are checked when set, and stored values when first read in a request. Absent means any key and any JSON-safe value.
   *
   * @example
   * schema: { userId: t.Number(), theme: t.Union([t.Literal('light'), t.Literal('dark')]) }
   * @default undefined (no schema)
   */
  readonly schema?: Schema
  /**
   * When the engine fails to load a request's session: `'fail'` throws a `SessionEngineError`, which answers 503 with a
   * short generic body unless the app's own `onError` answers it; `'continue'` runs the request with an empty session
   * whose `available` is false and whose writes throw a `SessionEngineError`, so nothing is silently dropped. Either
   * way the browser's cookie is left as it is, so an outage logs no one out, and the failure is logged (rate-limited).
   * @default 'fail'
   */
  readonly onEngineError?: EngineErrorMode
  /**
   * The most a session may hold, in bytes: the UTF-8 length of the JSON of all of its stored data, the plugin's own
   * keys (flash messages, owner, CSRF secret, creation time) included. A write after which a session would be over it,
   * and larger than before, throws a `SessionSizeError` and changes nothing; a session stored over it still loads, and
   * writes that shrink it succeed. `0` turns the limit off.
   * @default 65_536 (64 KiB)
   */
  readonly maxSize?: number
  /**
   * Receives GC and engine failures (`error`; an outage a burst at a time, with a count) and warnings (`warn`, else
   * `error`).
   * @default console
   */
  readonly logger?: SessionLogger
}

/** The cookie attributes the plugin sends, in the shape Elysia's cookie jar takes. */
export interface SessionCookieAttributes {
  readonly path: string
  readonly domain?: string
  readonly secure: boolean
  readonly httpOnly: boolean
  readonly sameSite: SameSite
}

/** Options with every default filled in and every value checked. */
export interface ResolvedSessionOptions {
  readonly secrets: readonly string[]
  readonly timeout: number
  /** Absent when off. */
  readonly absoluteTimeout: number | undefined
  readonly cookieName: string
  readonly engine: SessionEngine
  readonly gcInterval: number
  readonly touchInterval: number
  /** `0` when off. */
  readonly maxSize: number
  readonly cookie: SessionCookieAttributes
  readonly logger: SessionLogger
  readonly onEngineError: EngineErrorMode
}

const MIN_SECRET_LENGTH = 32
const MAX_TIMER_DELAY = 2 ** 31 - 1
const GENERATE_SECRET = `bun -e "console.log(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'))"`
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const ENGINE_METHODS = [
  'load',
  'commit',
  'touch',
  'delete',
  'deleteAll',
  'count',
  'entries',
  'deleteExpired',
  'close',
] as const
const OWNER_METHODS = ['listByOwner', 'deleteByOwner'] as const

/** Checks `options` and fills in defaults; throws a `SessionConfigError` that says how to fix what is wrong. */
export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError(
      `session(options) needs an options object with at least a secret: session({ secret }). Generate one with: ${GENERATE_SECRET}`,
    )
  }
  const secrets = checkSecrets(options.secret)
  const givenTimeout = options.timeout ?? 3_600_000
  checkDuration('timeout', givenTimeout, { min: 1, max: Number.MAX_SAFE_INTEGER })
  // Whole milliseconds, so every expiresAt an engine receives is an integer.
  const timeout = Math.ceil(givenTimeout)
  const gcInterval = options.gcInterval ?? 240_000
  checkDuration('gcInterval', gcInterval, { min: 0, max: MAX_TIMER_DELAY })
  const touchInterval = options.touchInterval ?? timeout / 10
  checkDuration('touchInterval', touchInterval, { min: 0, max: timeout })
  const givenAbsoluteTimeout = options.absoluteTimeout
  if (givenAbsoluteTimeout !== undefined) {
    checkDuration('absoluteTimeout', givenAbsoluteTimeout, { min: 1, max: Number.MAX_SAFE_INTEGER })
  }
  const absoluteTimeout = givenAbsoluteTimeout === undefined ? undefined : Math.ceil(givenAbsoluteTimeout)
  const maxSize = options.maxSize ?? 65_536
  if (typeof maxSize !== 'number' || !Number.isSafeInteger(maxSize) || maxSize < 0) {
    throw new SessionConfigError(`maxSize must be a whole number of bytes from 0 (no limit) up, got ${String(maxSize)}`)
  }

  const cookieName = options.cookieName ?? 'sessid'
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    throw new SessionConfigError(
      `cookieName ${JSON.stringify(cookieName)} is not a valid cookie name: use letters, digits and - _ . only`,
    )
  }
  const cookie = checkCookieAttributes(options, cookieName)
  const engine = options.engine ?? memoryEngine()
  checkEngine(engine)
  const logger = options.logger ?? console
  if (typeof logger?.error !== 'function') throw new SessionConfigError('logger needs an error(message, cause) method')
  if (logger.warn !== undefined && typeof logger.warn !== 'function') {
    throw new SessionConfigError('logger.warn must be a warn(message) method, or absent to send warnings to error()')
  }

  const onEngineError = options.onEngineError ?? 'fail'
  if (onEngineError !== 'fail' && onEngineError !== 'continue') {
    throw new SessionConfigError(`onEngineError must be 'fail' or 'continue', got ${JSON.stringify(onEngineError)}`)
  }

  return {
    secrets,
    timeout,
    absoluteTimeout,
    cookieName,
    engine,
    gcInterval,
    touchInterval,
    maxSize,
    cookie,
    logger,
    onEngineError,
  }
}

/**
 * The warning for a session cookie that production would send over plain HTTP, or `undefined` when there is nothing
 * to warn about.
 */
export function insecureCookieWarning(secure: boolean, nodeEnv: string | undefined): string | undefined {
  if (secure || nodeEnv !== 'production') return undefined
  return 'elysia-sessions: secure is false while NODE_ENV is production: the session cookie is sent over plain HTTP; set secure: true (behind HTTPS)'
}

/** Sends `message` to the logger's `warn`, or to its `error` when it has none. */
export function warnThrough(logger: SessionLogger, message: string): void {
  if (logger.warn) logger.warn(message)
  else logger.error(message)
}

function checkSecrets(secret: unknown): readonly string[] {
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionConfigError(
      `session({ secret }) is required: a string of at least ${MIN_SECRET_LENGTH} random characters, or an array of them for rotation. Generate one with: ${GENERATE_SECRET}`,
    )
  }
  secrets.forEach((each: unknown, index) => {
    if (typeof each !== 'string' || each.length < MIN_SECRET_LENGTH) {
      const which = secrets.length > 1 ? `secret[${index}]` : 'secret'
      throw new SessionConfigError(
        `${which} must be a string of at least ${MIN_SECRET_LENGTH} characters (got ${typeof each === 'string' ? `${each.length}` : typeof each}). Generate one with: ${GENERATE_SECRET}`,
      )
    }
  })
  return Object.freeze([...secrets] as string[])
}

function checkDuration(name: string, value: unknown, { min, max }: { min: number; max: number }): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new SessionConfigError(`${name} must be a number of milliseconds from ${min} to ${max}, got ${String(value)}`)
  }
}

function checkCookieAttributes(options: SessionOptions, cookieName: string): SessionCookieAttributes {
  const { secure = false, httpOnly = true, sameSite = 'lax', path = '/', domain } = options
  if (typeof secure !== 'boolean') throw new SessionConfigError('secure must be true or false')
  if (typeof httpOnly !== 'boolean') throw new SessionConfigError('httpOnly must be true or false')
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new SessionConfigError(`sameSite must be 'lax', 'strict' or 'none', got ${JSON.stringify(sameSite)}`)
  }
  if (sameSite === 'none' && !secure) {
    throw new SessionConfigError("sameSite: 'none' needs secure: true, or browsers drop the cookie")
  }
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) {
    throw new SessionConfigError(`path must start with '/' and hold no ';' or spaces, got ${JSON.stringify(path)}`)
  }
  if (domain !== undefined && (typeof domain !== 'string' || domain === '' || /[;\s]/.test(domain))) {
    throw new SessionConfigError(`domain must be a host name such as 'example.com', got ${JSON.stringify(domain)}`)
  }
  if ((cookieName.startsWith('__Secure-') || cookieName.startsWith('__Host-')) && !secure) {
    throw new SessionConfigError(`A cookie named ${cookieName} needs secure: true`)
  }
  if (cookieName.startsWith('__Host-') && (path !== '/' || domain !== undefined)) {
    throw new SessionConfigError(`A cookie named ${cookieName} needs path '/' and no domain`)
  }
  return domain === undefined ? { path, secure, httpOnly, sameSite } : { path, domain, secure, httpOnly, sameSite }
}

function checkEngine(engine: unknown): asserts engine is SessionEngine {
  if (typeof engine !== 'object' || engine === null) {
    throw new SessionConfigError(
      'engine must be a session engine such as memoryEngine(); did you forget to await an engine factory?',
    )
  }
  if (typeof (engine as { then?: unknown }).then === 'function') {
    throw new SessionConfigError(
      'engine is a Promise: await the engine factory first, e.g. engine: await sqliteEngine({ path })',
    )
  }
  const missing = ENGINE_METHODS.filter((method) => typeof (engine as Record<string, unknown>)[method] !== 'function')
  if (missing.length > 0) {
    throw new SessionConfigError(
      `engine is missing ${missing.join(', ')}: it must implement SessionEngine from 'elysia-sessions'`,
    )
  }
  if ((engine as SessionEngine).capabilities?.owners === true) {
    const ownerMethods = OWNER_METHODS.filter(
      (method) => typeof (engine as Record<string, unknown>)[method] !== 'function',
    )
    if (ownerMethods.length > 0) {
      throw new SessionConfigError(
        `engine declares capabilities.owners but is missing ${ownerMethods.join(', ')}: implement them or drop the capability`,
      )
    }
  }
}
