import { Elysia } from 'elysia'
import { type CacheHeaders, cacheHeadersFor, setCacheHeaders } from './cache-headers.js'
import { type CookieAction, cookieActionFor } from './cookie-decision.js'
import { readCookie } from './cookie-header.js'
import type { StoredSession, SynchronousCalls } from './engine.js'
import { SessionEngineError } from './errors.js'
import { Flash, settleFlash } from './flash.js'
import { cookieMaxAge, hasOutlived } from './lifetime.js'
import { insecureCookieWarning, resolveSessionOptions, type SessionOptions, warnThrough } from './options.js'
import { PluginCore } from './plugin-core.js'
import { optOutMacro } from './route-opt-out.js'
import { SchemaRules } from './schema-rules.js'
import { Session } from './session.js'
import type { FieldsOf, SessionSchema } from './session-schema.js'
import { type IncomingCookie, SessionState } from './session-state.js'
import { Sessions } from './sessions.js'
import { createCookieSigner, type VerifiedId } from './signing.js'

/**
 * Set on the request's `set` object by the `{ session: false }` macro. One mark for every session() plugin: of two
 * macros named `session`, Elysia keeps the last, even from a plugin it deduplicates.
 */
const SKIP_SESSION = Symbol('elysia-sessions skip')

/** Signed ids are base64url with a dot: nothing to URL-encode, so the serializer is spared encodeURIComponent. */
const asIs = (value: string) => value

/**
 * The part of Elysia's per-request `set` the plugin writes to: its cookie, which Elysia serializes into Set-Cookie,
 * and the cache headers.
 */
interface ResponseSettings {
  cookie?: Record<string, Record<string, unknown>>
  headers: Record<string, string | number>
}

/**
 * Gives every handler a typed, signed, server-side `session`, its `flash` messages and the admin API `sessions`.
 * Configuration is checked here, so a bad option fails at startup with a `SessionConfigError`.
 * A response to a request that carried the session cookie, or that sets or clears it, gets `Vary: Cookie`; one that
 * sets or clears it also gets a private `Cache-Control` unless the app set its own.
 * Routes (or groups) declared with `{ session: false }` never touch the engine nor the cookie, and get neither header.
 *
 * @example
 * new Elysia()
 *   .use(session({ secret: process.env.SESSION_SECRET! }))
 *   .get('/set', ({ session }) => { session.int('number', 42); return 'set' })
 *   .get('/get', ({ session }) => `number is ${session.int('number')}`)
 *   .get('/health', () => 'ok', { session: false })
 */
export function session<Schema extends SessionSchema | undefined = undefined>(options: SessionOptions<Schema>) {
  type Fields = FieldsOf<Schema>
  const config = resolveSessionOptions(options)
  const { cookieName, cookie: attributes } = config
  const warning = insecureCookieWarning(attributes.secure, process.env.NODE_ENV)
  if (warning) warnThrough(config.logger, warning)
  const signer = createCookieSigner(config.secrets)
  const rules = new SchemaRules(options.schema, config.logger)
  const core = new PluginCore(config, rules)
  const { runtime } = core
  const sessions = new Sessions<Fields>(core)
  const disabledState = new SessionState(runtime, null, null, 'disabled')
  const disabledSession = new Session<Fields>(disabledState, rules)
  const disabledFlash = new Flash(disabledState)
  const disabledContext = { session: disabledSession, flash: disabledFlash, sessions }
  // Per-request state rides on the request's `set` object under a symbol of this plugin instance, so two plugins in
  // one app (a sub-app's second cookie) never see each other's; a property costs less than a WeakMap entry. Hooks
  // take only the context properties they name: passing the whole context to a function makes Elysia assume a hook
  // reads everything, cookies included, and parse them all.
  const stateKey = Symbol('elysia-sessions state')
  const flashKey = Symbol('elysia-sessions flash')
  const cacheKey = Symbol('elysia-sessions cache headers')
  type ResponseSet = ResponseSettings & {
    [stateKey]?: SessionState | undefined
    [flashKey]?: Flash | undefined
    [SKIP_SESSION]?: true
    [cacheKey]?: Exclude<CacheHeaders, 'none'>
  }

  /**
   * Saves (or touches) the request's session and sets its cookie and cache headers; returns nothing when there is
   * nothing to write. `response` is what the handler returned, whose own headers win over `set.headers`.
   */
  function finishSession(set: ResponseSet, response?: unknown): Promise<void> | undefined {
    const state = takeState(set, response)
    if (!state) return
    const writing = state.hasChanges ? state.save() : touchIfDue(state)
    if (!writing) return setHeaders(state, set, response)
    return writing.then(() => setHeaders(state, set, response))
  }

  /** `finishSession` through the engine's synchronous calls. */
  function finishSessionNow(calls: SynchronousCalls, set: ResponseSet, response: unknown): void {
    const state = takeState(set, response)
    if (!state) return
    if (state.hasChanges) state.saveNow(calls)
    else touchIfDueNow(calls, state)
    setHeaders(state, set, response)
  }

  /**
   * Takes the request's session state for its save, settling its flash messages and closing it to changes;
   * `undefined` when it was finished already.
   */
  function takeState(set: ResponseSet, response: unknown): SessionState | undefined {
    const state = set[stateKey]
    if (!state) {
      // Finished in onError already, where the app's own onError may answer next with a Response of its own.
      const cacheHeaders = set[cacheKey]
      if (cacheHeaders !== undefined && response instanceof Response) setCacheHeaders(cacheHeaders, set, response)
      return
    }
    set[stateKey] = undefined
    // Settled before the save decision, so removing the messages this request consumed is part of its one write.
    const flash = set[flashKey]
    if (flash) settleFlash(flash)
    state.close()
    return state
  }

  /** A touch only slides the expiry: when it fails, the failure is logged and the response goes out as it is. */
  function touchIfDue(state: SessionState): Promise<void> | undefined {
    return state.touchIfDue()?.catch(reportTouchFailure)
  }

  function touchIfDueNow(calls: SynchronousCalls, state: SessionState): void {
    try {
      state.touchIfDueNow(calls)
    } catch (error) {
      reportTouchFailure(error)
    }
  }

  function reportTouchFailure(error: unknown): void {
    if (!(error instanceof SessionEngineError)) throw error
    core.failures.report(error)
  }

  /** The request's session state, from its cookie and what the engine holds under the id the cookie names. */
  async function loadState(request: Request): Promise<SessionState> {
    const raw = readCookie(request.headers.get('cookie'), cookieName)
    const verified = raw ? signer.verify(raw) : null
    let stored: StoredSession | null = null
    if (verified) {
      const now = runtime.now()
      try {
        stored = await runtime.engine.load(verified.id, now)
      } catch (error) {
        return unavailableState(verified.id, error)
      }
      if (stored && hasOutlived(runtime, stored.data, now)) {
        stored = null
        await core.deleteOutlived(verified.id)
      }
    }
    return requestState(raw, verified, stored)
  }

  /** `loadState` through the engine's synchronous calls. */
  function loadStateNow(calls: SynchronousCalls, request: Request): SessionState {
    const raw = readCookie(request.headers.get('cookie'), cookieName)
    const verified = raw ? signer.verify(raw) : null
    let stored: StoredSession | null = null
    if (verified) {
      const now = runtime.now()
      try {
        stored = calls.load(verified.id, now)
      } catch (error) {
        return unavailableState(verified.id, error)
      }
      if (stored && hasOutlived(runtime, stored.data, now)) {
        stored = null
        core.deleteOutlivedNow(calls, verified.id)
      }
    }
    return requestState(raw, verified, stored)
  }

  function requestState(raw: string | undefined, verified: VerifiedId | null, stored: StoredSession | null) {
    const incoming: IncomingCookie = !raw
      ? 'none'
      : !stored
        ? 'names-no-session'
        : verified?.stale
          ? 'old-secret'
          : 'current'
    return new SessionState(runtime, stored && verified ? verified.id : null, stored, 'request', incoming)
  }

  /** Stands in, empty, for a session the engine failed to load, unless `onEngineError` says the request fails. */
  function unavailableState(id: string, error: unknown): SessionState {
    const failure = new SessionEngineError('load a session', error)
    if (config.onEngineError === 'fail') throw failure
    core.failures.report(failure)
    // The cookie counts as current, so it is neither cleared nor re-sent: an outage logs no one out.
    return new SessionState(runtime, id, null, 'unavailable', 'current', failure)
  }

  function setHeaders(state: SessionState, set: ResponseSet, response: unknown): undefined {
    const action = cookieActionFor(state)
    if (action !== 'none') setCookie(state, action, set)
    const cacheHeaders = cacheHeadersFor(state.incomingCookie, action)
    if (cacheHeaders === 'none') return
    set[cacheKey] = cacheHeaders
    setCacheHeaders(cacheHeaders, set, response)
  }

  // Written to `set.cookie` as plain data, bypassing the cookie jar and its cost; Elysia still serializes it together
  // with any cookie the app set. One literal with every attribute, rather than a spread of them, for every cookie.
  const { path, domain, secure, httpOnly, sameSite } = attributes
  const cookieOf = (value: string, maxAge: number) => ({
    path,
    domain,
    secure,
    httpOnly,
    sameSite,
    maxAge,
    value,
    encode: asIs,
  })

  function setCookie(state: SessionState, action: Exclude<CookieAction, 'none'>, set: ResponseSettings): void {
    set.cookie ??= {}
    if (action === 'clear') {
      set.cookie[cookieName] = cookieOf('', 0)
      return
    }
    const now = runtime.now()
    const maxAge = cookieMaxAge(state.expiresAt ?? now + runtime.timeout, now)
    set.cookie[cookieName] = cookieOf(signer.sign(state.id), maxAge)
  }

  // Elysia awaits a hook only when it is an async function, and compiles a request without a promise only when every
  // hook looks synchronous to it (docs/how-it-works.md): with an engine's synchronous calls the hooks take them.
  // The synchronous hooks return their object literally, since a hook whose source returns a call looks async.
  const calls = runtime.engine.sync?.engine === runtime.engine ? runtime.engine.sync : undefined
  const loadSession = calls
    ? function loadSessionNow({ request, set }: { request: Request; set: unknown }) {
        const slots = set as ResponseSet
        if (slots[SKIP_SESSION]) return disabledContext
        core.startGc()
        const state = loadStateNow(calls, request)
        const flash = new Flash(state)
        slots[stateKey] = state
        slots[flashKey] = flash
        return { session: new Session<Fields>(state, rules), flash, sessions }
      }
    : async function loadSessionLater({ request, set }: { request: Request; set: unknown }) {
        const slots = set as ResponseSet
        if (slots[SKIP_SESSION]) return disabledContext
        core.startGc()
        const state = await loadState(request)
        const flash = new Flash(state)
        slots[stateKey] = state
        slots[flashKey] = flash
        return { session: new Session<Fields>(state, rules), flash, sessions }
      }
  const commitSession = calls
    ? function commitSessionNow({ set, responseValue }: { set: unknown; responseValue: unknown }) {
        finishSessionNow(calls, set as ResponseSet, responseValue)
      }
    : async function commitSessionLater({ set, responseValue }: { set: unknown; responseValue: unknown }) {
        await finishSession(set as ResponseSet, responseValue)
      }

  return (
    new Elysia({ name: 'elysia-sessions', seed: { cookieName, domain: attributes.domain, path: attributes.path } })
      .decorate('sessions', sessions)
      .macro({ session: optOutMacro(SKIP_SESSION) })
      .onStart(function startSessionGc() {
        core.startGc()
      })
      .onStop(function closeSessions() {
        return core.close()
      })
      .resolve({ as: 'scoped' }, loadSession)
      // mapResponse runs after every afterHandle hook, so writes made there (an app's own hooks) are saved too.
      .mapResponse({ as: 'scoped' }, commitSession)
      .onError({ as: 'scoped' }, async function commitSessionOnError({ set, request, error }) {
        const slots = set as ResponseSet
        // Logged here, rate-limited. The answer is the app's own onError's, else the error's 503 and short message.
        if (error instanceof SessionEngineError) core.failures.report(error)
        // No session was loaded (an unknown route, a body that failed validation, an engine that failed the load),
        // but the error response still answers a request that carried the cookie.
        if (!slots[stateKey] && !slots[cacheKey] && !slots[SKIP_SESSION]) {
          const carriedCookie = readCookie(request.headers.get('cookie'), cookieName) !== undefined
          if (carriedCookie) setCacheHeaders('vary', slots, undefined)
          return
        }
        try {
          await finishSession(slots)
        } catch (error) {
          if (error instanceof SessionEngineError) core.failures.report(error)
          else config.logger.error('elysia-sessions: could not save the session of a failed request', error)
        }
      })
  )
}
