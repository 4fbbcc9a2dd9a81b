import { Elysia } from 'elysia'
import { cookieActionFor } from './cookie-decision.js'
import { readCookie } from './cookie-header.js'
import type { StoredSession } from './engine.js'
import { SessionEngineError } from './errors.js'
import { Flash, settleFlash } from './flash.js'
import { resolveSessionOptions, type SessionOptions } from './options.js'
import { PluginCore } from './plugin-core.js'
import { Session } from './session.js'
import { type IncomingCookie, SessionState } from './session-state.js'
import { Sessions } from './sessions.js'
import { createCookieSigner } from './signing.js'

/** Signed ids are base64url with a dot: nothing to URL-encode, so the serializer is spared encodeURIComponent. */
const asIs = (value: string) => value

/** The part of Elysia's per-request `set` the plugin writes its cookie to; Elysia serializes it into Set-Cookie. */
interface ResponseCookies {
  cookie?: Record<string, Record<string, unknown>>
}

/**
 * Gives every handler a typed, signed, server-side `session`, its `flash` messages and the admin API `sessions`.
 * Configuration is checked here, so a bad option fails at startup with a `SessionConfigError`.
 * Routes (or groups) declared with `{ session: false }` never touch the engine.
 *
 * @example
 * new Elysia()
 *   .use(session({ secret: process.env.SESSION_SECRET! }))
 *   .get('/set', ({ session }) => { session.int('number', 42); return 'set' })
 *   .get('/get', ({ session }) => `number is ${session.int('number')}`)
 *   .get('/health', () => 'ok', { session: false })
 */
export function session(options: SessionOptions) {
  const config = resolveSessionOptions(options)
  const { cookieName, cookie: attributes } = config
  const signer = createCookieSigner(config.secrets)
  const core = new PluginCore(config)
  const { runtime } = core
  const sessions = new Sessions(core)
  const disabledState = new SessionState(runtime, null, null, 'disabled')
  const disabledSession = new Session(disabledState)
  const disabledFlash = new Flash(disabledState)
  // Per-request state rides on the request's `set` object under a symbol of this plugin instance, so two plugins in
  // one app (a sub-app's second cookie) never see each other's; a property costs less than a WeakMap entry. Hooks
  // take only the context properties they name: passing the whole context to a function makes Elysia assume a hook
  // reads everything, cookies included, and parse them all.
  const stateKey = Symbol('elysia-sessions state')
  const flashKey = Symbol('elysia-sessions flash')
  const skipKey = Symbol('elysia-sessions skip')
  type ResponseSet = ResponseCookies & {
    [stateKey]?: SessionState | undefined
    [flashKey]?: Flash | undefined
    [skipKey]?: true
  }

  /** Saves (or touches) the request's session and sets its cookie; returns nothing when there is nothing to write. */
  function finishSession(set: ResponseSet): Promise<void> | undefined {
    const state = set[stateKey]
    if (!state) return
    set[stateKey] = undefined
    // Settled before the save decision, so removing the messages this request consumed is part of its one write.
    const flash = set[flashKey]
    if (flash) settleFlash(flash)
    state.close()
    const writing = state.hasChanges ? state.save() : state.touchIfDue()
    if (!writing) return setCookie(state, set)
    return writing.then(() => setCookie(state, set))
  }

  // Written to `set.cookie` as plain data, bypassing the cookie jar and its cost; Elysia still serializes it together
  // with any cookie the app set.
  function setCookie(state: SessionState, set: ResponseCookies): undefined {
    const action = cookieActionFor(state)
    if (action === 'none') return
    set.cookie ??= {}
    set.cookie[cookieName] =
      action === 'send'
        ? { ...attributes, encode: asIs, value: signer.sign(state.id) }
        : { ...attributes, value: '', maxAge: 0 }
  }

  return (
    new Elysia({ name: 'elysia-sessions', seed: { cookieName, domain: attributes.domain, path: attributes.path } })
      .decorate('sessions', sessions)
      .macro({
        session: (enabled: boolean) =>
          enabled
            ? {}
            : {
                transform: function skipSessionLoading({ set }: { set: object }) {
                  ;(set as ResponseSet)[skipKey] = true
                },
              },
      })
      .onStart(function startSessionGc() {
        core.startGc()
      })
      .onStop(function closeSessions() {
        return core.close()
      })
      .resolve({ as: 'scoped' }, async function loadSession({ request, set }) {
        const slots = set as ResponseSet
        if (slots[skipKey]) return { session: disabledSession, flash: disabledFlash, sessions }
        core.startGc()
        const raw = readCookie(request.headers.get('cookie'), cookieName)
        const verified = raw ? signer.verify(raw) : null
        let stored: StoredSession | null = null
        if (verified) {
          try {
            stored = await runtime.engine.load(verified.id, runtime.now())
          } catch (error) {
            throw new SessionEngineError('load a session', error)
          }
        }
        const incoming: IncomingCookie = !raw
          ? 'none'
          : !stored
            ? 'names-no-session'
            : verified?.stale
              ? 'old-secret'
              : 'current'
        const state = new SessionState(runtime, stored && verified ? verified.id : null, stored, 'request', incoming)
        const flash = new Flash(state)
        slots[stateKey] = state
        slots[flashKey] = flash
        return { session: new Session(state), flash, sessions }
      })
      // mapResponse runs after every afterHandle hook, so writes made there (an app's own hooks) are saved too.
      // Declared async because Elysia awaits a mapResponse hook only when it is an async function.
      .mapResponse({ as: 'scoped' }, async function commitSession({ set }) {
        await finishSession(set as ResponseSet)
      })
      .onError({ as: 'scoped' }, async function commitSessionOnError({ set }) {
        try {
          await finishSession(set as ResponseSet)
        } catch (error) {
          config.logger.error('elysia-sessions: could not save the session of a failed request', error)
        }
      })
  )
}
