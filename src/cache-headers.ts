import type { CookieAction } from './cookie-decision.js'
import type { IncomingCookie } from './session-state.js'

/**
 * What a response must tell caches about the session: nothing; `vary` (`Vary: Cookie`, as the response depends on
 * the session cookie); or `private` (`Vary: Cookie` and, unless the app set its own, `Cache-Control:
 * PRIVATE_CACHE_CONTROL`, as the response sets the cookie and no shared cache may hand that on).
 */
export type CacheHeaders = 'none' | 'vary' | 'private'

/** The Cache-Control of a response that sends the session cookie: no shared cache stores it, nor reuses its Set-Cookie. */
export const PRIVATE_CACHE_CONTROL = 'private, no-cache="set-cookie"'

/**
 * The cache headers of a response to a request whose cookie was `incoming` and whose cookie action is `action`: any
 * response that sends or clears the cookie is `private`; any other to a request that carried it varies on it.
 */
export function cacheHeadersFor(incoming: IncomingCookie, action: CookieAction): CacheHeaders {
  if (action !== 'none') return 'private'
  return incoming === 'none' ? 'none' : 'vary'
}

/**
 * The Vary value that adds Cookie to `vary` (a response's Vary, or `undefined` when it has none), or `undefined` when
 * `vary` already covers it: it lists Cookie (in any case) or is `*`.
 */
export function varyWithCookie(vary: string | undefined): string | undefined {
  if (vary === undefined || vary.trim() === '') return 'Cookie'
  for (const field of vary.split(',')) {
    const name = field.trim().toLowerCase()
    if (name === 'cookie' || name === '*') return undefined
  }
  return `${vary}, Cookie`
}

/**
 * Adds Cookie to the response's Vary and, for `private`, sets Cache-Control unless the app set its own. A `Response`
 * the handler returned keeps its own headers over `set.headers`, so a Vary it carries is extended in place.
 */
export function setCacheHeaders(
  which: Exclude<CacheHeaders, 'none'>,
  set: { headers: Record<string, unknown> },
  response: unknown,
): void {
  const own = response instanceof Response ? response.headers : undefined
  const ownVary = own?.get('vary') ?? undefined
  if (own !== undefined && ownVary !== undefined) {
    const vary = varyWithCookie(ownVary)
    if (vary !== undefined) own.set('vary', vary)
  } else {
    const key = headerKey(set.headers, 'vary')
    const vary = varyWithCookie(key === undefined ? undefined : String(set.headers[key]))
    if (vary !== undefined) set.headers[key ?? 'vary'] = vary
  }
  if (which === 'private' && !own?.has('cache-control') && headerKey(set.headers, 'cache-control') === undefined) {
    set.headers['cache-control'] = PRIVATE_CACHE_CONTROL
  }
}

/** The key `headers` holds the header `name` (lower case) under, in whatever case the app wrote it, or `undefined`. */
function headerKey(headers: Record<string, unknown>, name: string): string | undefined {
  if (name in headers) return name
  for (const key in headers) if (key.toLowerCase() === name) return key
  return undefined
}
