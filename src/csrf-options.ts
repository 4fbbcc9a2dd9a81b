import type { Context } from 'elysia'
import { SessionConfigError } from './errors.js'
import type { Session } from './session.js'
import { describeValue } from './value-types.js'

/**
 * Why `csrf()` refused a request: `origin` (it came from another site), `missing` (no token in the header or the
 * body) or `invalid` (a token that is not one of this session's).
 */
export type CsrfRefusal = 'origin' | 'missing' | 'invalid'

/**
 * What an `error` function can rely on: the handler context of the refused request. Body, query, headers and cookie
 * are there only when the route itself reads them (Elysia parses them on demand), so read `request` instead.
 */
export type CsrfErrorContext = Pick<Context, 'request' | 'path' | 'set' | 'redirect' | 'status'> & {
  readonly session: Session
}

/**
 * Builds the response to a refused request, or a Promise of it: a string is sent as plain text with status 403, a
 * Response as it is, nothing (`undefined` or `null`) as the default refusal, and anything else (an object, the result
 * of Elysia's `status(...)`) goes to Elysia as the response, with status 403 unless it carries its own.
 */
export type CsrfErrorHandler = (context: CsrfErrorContext, reason: CsrfRefusal) => unknown

/** Options of `csrf(...)`. Every option has a default. */
export interface CsrfOptions {
  /**
   * The request header that carries the token, for `fetch` and other scripts.
   * @default 'x-csrf-token'
   */
  readonly header?: string
  /**
   * The form field (urlencoded or multipart) or JSON body field that carries the token when the header is absent.
   * @default 'authenticity_token'
   */
  readonly parameterName?: string
  /**
   * Methods that are never checked (case-insensitive); every other method needs a token. Replaces the default list.
   * @default ['GET', 'HEAD', 'OPTIONS', 'TRACE']
   */
  readonly allowedMethods?: readonly string[]
  /**
   * Origins besides the request's own whose `Origin` passes the origin check, each exactly as a browser sends it:
   * scheme, host and port, no path or trailing slash (`'https://example.com'`). Put the public origin here when a proxy
   * in front of the app changes the scheme, host or port the app sees. A request marked `Sec-Fetch-Site: cross-site`
   * is refused whatever its origin, and every request still needs a token.
   * @default []
   */
  readonly trustedOrigins?: readonly string[]
  /**
   * Paths that are never checked: an exact path (`'/login'`), or a prefix ending in `/*` that matches every path below
   * it (`'/webhooks/*'` matches `/webhooks/stripe`, not `/webhooks` or `/webhooksX`). Paths match as Elysia routes
   * them: a path with one trailing slash is the path without it (`/login/` matches `'/login'`, `/webhooks/` does not
   * match `'/webhooks/*'`), except that an exact path matches only itself when the app sets `strictPath`.
   * @default []
   */
  readonly allowedRoutes?: readonly string[]
  /**
   * The response to a refused request: a plain-text body sent with status 403, or a function of the handler context
   * and the reason that returns the response (see `CsrfErrorHandler`), such as `({ status }) => status(419, 'expired')`.
   * @default a short text per reason, such as 'Forbidden: invalid CSRF token'
   */
  readonly error?: string | CsrfErrorHandler
}

/** Options with every default filled in and every value checked. */
export interface ResolvedCsrfOptions {
  /** Lower case. */
  readonly header: string
  readonly parameterName: string
  /** Upper case. */
  readonly allowedMethods: ReadonlySet<string>
  readonly trustedOrigins: ReadonlySet<string>
  readonly exactRoutes: ReadonlySet<string>
  /** Each ends in '/'. */
  readonly routePrefixes: readonly string[]
  readonly error: string | CsrfErrorHandler | undefined
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// No '.' or '[': Elysia reads such multipart field names as nested objects, where the token would not be found.
const PARAMETER_NAME = /^[A-Za-z0-9_-]+$/
const DEFAULT_ALLOWED_METHODS = ['GET', 'HEAD', 'OPTIONS', 'TRACE']

/** Checks `options` and fills in defaults; throws a `SessionConfigError` that says how to fix what is wrong. */
export function resolveCsrfOptions(options: CsrfOptions = {}): ResolvedCsrfOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError('csrf(options) takes an options object, or nothing for the defaults: csrf()')
  }
  const header = options.header ?? 'x-csrf-token'
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    throw new SessionConfigError(
      `header must be an HTTP header name such as 'x-csrf-token' (letters, digits and !#$%&'*+-.^_\`|~ only), got ${describeValue(header)}`,
    )
  }
  const parameterName = options.parameterName ?? 'authenticity_token'
  if (typeof parameterName !== 'string' || !PARAMETER_NAME.test(parameterName)) {
    throw new SessionConfigError(
      `parameterName must be a form field name such as 'authenticity_token' (letters, digits, _ and - only), got ${describeValue(parameterName)}`,
    )
  }
  const methods = listOf('allowedMethods', options.allowedMethods ?? DEFAULT_ALLOWED_METHODS, "['GET', 'HEAD']")
  methods.forEach((method, index) => {
    if (!HEADER_NAME.test(method)) {
      throw new SessionConfigError(
        `allowedMethods[${index}] must be an HTTP method such as 'GET', got ${JSON.stringify(method)}`,
      )
    }
  })
  const origins = listOf('trustedOrigins', options.trustedOrigins ?? [], "['https://example.com']")
  origins.forEach(checkOrigin)
  const routes = listOf('allowedRoutes', options.allowedRoutes ?? [], "['/login', '/webhooks/*']")
  routes.forEach(checkRoute)
  const { error } = options
  if (error !== undefined && typeof error !== 'string' && typeof error !== 'function') {
    throw new SessionConfigError(
      `error must be a string or a function (context, reason) => response, got ${describeValue(error)}`,
    )
  }
  return {
    header: header.toLowerCase(),
    parameterName,
    allowedMethods: new Set(methods.map((method) => method.toUpperCase())),
    trustedOrigins: new Set(origins),
    exactRoutes: new Set(routes.filter((route) => !route.endsWith('/*'))),
    routePrefixes: routes.filter((route) => route.endsWith('/*')).map((route) => route.slice(0, -1)),
    error,
  }
}

/**
 * Whether a request path is exempt by `allowedRoutes`, matched the way Elysia routes it: one trailing slash leads to the
 * same route (`/login/` runs the handler of `/login`, so it is exempt by `'/login'`, and `/webhooks/` is not below
 * `'/webhooks/*'`), except that with `strictPath` an exact route matches only its own path.
 */
export function allowedRouteMatcher(options: ResolvedCsrfOptions, strictPath: boolean): (path: string) => boolean {
  const exactRoutes = strictPath ? options.exactRoutes : new Set([...options.exactRoutes].map(withoutTrailingSlash))
  return function isAllowedRoute(path) {
    const routed = withoutTrailingSlash(path)
    if (exactRoutes.has(strictPath ? path : routed)) return true
    for (const prefix of options.routePrefixes) if (routed.startsWith(prefix)) return true
    return false
  }
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

function listOf(name: string, value: unknown, example: string): string[] {
  if (!Array.isArray(value)) {
    throw new SessionConfigError(`${name} must be an array of strings such as ${example}, got ${describeValue(value)}`)
  }
  const wrong = value.findIndex((each) => typeof each !== 'string')
  if (wrong !== -1) {
    throw new SessionConfigError(`${name}[${wrong}] must be a string, got ${describeValue(value[wrong])}`)
  }
  return value
}

function checkOrigin(origin: string, index: number): void {
  let parsed: string | undefined
  try {
    parsed = new URL(origin).origin
  } catch {
    parsed = undefined
  }
  if (parsed === origin) return
  const hint = parsed && parsed !== 'null' ? `; did you mean '${parsed}'?` : ''
  throw new SessionConfigError(
    `trustedOrigins[${index}] must be an origin such as 'https://example.com' (scheme, host and port, no path or trailing slash), got ${JSON.stringify(origin)}${hint}`,
  )
}

function checkRoute(route: string, index: number): void {
  const wildcard = route.indexOf('*')
  if (!route.startsWith('/') || /[?#\s]/.test(route) || (wildcard !== -1 && wildcard !== route.length - 1)) {
    throw new SessionConfigError(
      `allowedRoutes[${index}] must be a path starting with '/' such as '/login', or a prefix ending in '/*' such as '/webhooks/*', got ${JSON.stringify(route)}`,
    )
  }
  if (wildcard !== -1 && !route.endsWith('/*')) {
    throw new SessionConfigError(
      `allowedRoutes[${index}]: a prefix ends in '/*' (such as '/webhooks/*'), got ${JSON.stringify(route)}`,
    )
  }
}
