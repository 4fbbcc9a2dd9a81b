import { type Cookie, Elysia } from 'elysia'
import { callEngine } from './errors.js'
import { resolveSessionOptions, type SessionOptions } from './options.js'
import { Session } from './session.js'
import { SessionState } from './session-state.js'
import { Sessions } from './sessions.js'
import { createCookieSigner } from './signing.js'

/** Per-request bookkeeping hung on Elysia's context under symbols private to one plugin instance. */
type PrivateContext = Record<symbol, unknown>
type CookieJar = Record<string, Cookie<unknown>>

/**
 * Gives every handler a typed, signed, server-side `session` and the admin API `sessions`.
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
  const sessions = new Sessions(config)
  const { runtime } = sessions
  const disabledSession = new Session(new SessionState(runtime, null, null, 'disabled'))
  // Symbols per instance: two plugins in one app (a sub-app's second cookie) never see each other's state.
  const stateKey = Symbol(`elysia-sessions:${cookieName}`)
  const skipKey = Symbol(`elysia-sessions:${cookieName}:off`)

  async function finishSession(context: PrivateContext, cookie: CookieJar): Promise<void> {
    const state = context[stateKey] as SessionState | undefined
    if (!state) return
    context[stateKey] = undefined
    state.close()
    if (state.hasChanges) await state.save()
    else await state.touchIfDue()
    if (state.cookie === 'send') cookie[cookieName]?.set({ ...attributes, value: signer.sign(state.id) })
    else if (state.cookie === 'clear') cookie[cookieName]?.set({ ...attributes, value: '', maxAge: 0 })
  }

  return (
    new Elysia({ name: 'elysia-sessions', seed: { cookieName, domain: attributes.domain, path: attributes.path } })
      .decorate('sessions', sessions)
      .macro({
        session: (enabled: boolean) =>
          enabled
            ? {}
            : {
                transform: function skipSessionLoading(context: object) {
                  ;(context as PrivateContext)[skipKey] = true
                },
              },
      })
      .onStart(function startSessionGc() {
        sessions.startGc()
      })
      .onStop(function closeSessions() {
        return sessions.close()
      })
      .resolve({ as: 'scoped' }, async function loadSession(context) {
        const { cookie } = context
        if ((context as PrivateContext)[skipKey] === true) return { session: disabledSession, sessions }
        sessions.startGc()
        const raw = cookie[cookieName]?.value
        const verified = typeof raw === 'string' && raw !== '' ? signer.verify(raw) : null
        const stored = verified
          ? await callEngine('load a session', () => runtime.engine.load(verified.id, runtime.now()))
          : null
        const state = new SessionState(runtime, stored && verified ? verified.id : null, stored)
        // A cookie that names no live session is dropped from the browser unless a write replaces it.
        if (raw !== undefined && raw !== '' && !stored) state.cookie = 'clear'
        else if (verified?.stale) state.cookie = 'send'
        ;(context as PrivateContext)[stateKey] = state
        return { session: new Session(state), sessions }
      })
      // mapResponse runs after every afterHandle hook, so writes made there (an app's own hooks) are saved too.
      .mapResponse({ as: 'scoped' }, async function commitSession(context) {
        await finishSession(context as PrivateContext, context.cookie)
      })
      .onError({ as: 'scoped' }, async function commitSessionOnError(context) {
        try {
          await finishSession(context as PrivateContext, context.cookie)
        } catch (error) {
          config.logger.error('elysia-sessions: could not save the session of a failed request', error)
        }
      })
  )
}
