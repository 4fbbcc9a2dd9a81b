import { type AnyElysia, Elysia } from 'elysia'
import {
  allowedRouteMatcher,
  type CsrfErrorContext,
  type CsrfErrorHandler,
  type CsrfOptions,
  type CsrfRefusal,
  type ResolvedCsrfOptions,
  resolveCsrfOptions,
} from './csrf-options.js'
import { bodyField, isCrossOrigin, tokenInBody } from './csrf-request.js'
import { csrfTokenMatches, generateCsrfSecret, isCsrfSecret, maskCsrfToken } from './csrf-token.js'
import { SessionConfigError, SessionEngineError } from './errors.js'
import type { Flash } from './flash.js'
import { CSRF_SECRET_KEY } from './internal-keys.js'
import { optOutMacro } from './route-opt-out.js'
import { type Session, stateOf } from './session.js'
import type { SessionState } from './session-state.js'
import { Sessions } from './sessions.js'

const DEFAULT_MESSAGES: Readonly<Record<CsrfRefusal, string>> = {
  origin: 'Forbidden: cross-origin request',
  missing: 'Forbidden: missing CSRF token',
  invalid: 'Forbidden: invalid CSRF token',
}

const USAGE = 'new Elysia().use(session({ secret })).use(csrf())'
const MISSING_SESSION = `csrf() found no session on this route: use it right after session() on the same app, ${USAGE}`

/**
 * Set on the request's `set` object by the { csrf: false } macro. One mark for every csrf() plugin: of two macros
 * named `csrf`, Elysia keeps the last, even from a plugin it deduplicates.
 */
const SKIP_CSRF = Symbol('elysia-sessions csrf skip')

/** Elysia's key for the parsed body, read by name so that Elysia does not parse every body for this hook. */
const PARSED_BODY = 'body'

/** The context properties the body capture reads; at runtime it is the whole context. */
interface CapturedContext {
  readonly request: Request
  readonly set: object
}

/** The context properties the check reads; at runtime it is the whole handler context. */
interface CheckedContext extends CapturedContext {
  readonly path: string
  readonly session?: Session
}

/**
 * Protects every route of the app against cross-site request forgery: a request whose method is not allowed (POST,
 * PUT, PATCH, DELETE...) must come from the app's own origin (or a trusted one) and carry a token from
 * `csrfToken()` in the `x-csrf-token` header, an `authenticity_token` form field or a JSON body field of that name;
 * otherwise it gets a 403 and the handler never runs. Use it after `session()`, which keeps each session's secret;
 * exempt routes with `{ csrf: false }` or `allowedRoutes`.
 *
 * @example
 * new Elysia()
 *   .use(session({ secret: process.env.SESSION_SECRET! }))
 *   .use(csrf())
 *   .get('/form', ({ csrfToken }) => `<form method="post"><input type="hidden" name="authenticity_token" value="${csrfToken()}">…`)
 *   .post('/form', () => 'saved')
 *   .post('/webhooks/stripe', () => 'ok', { csrf: false })
 */
export function csrf(options: CsrfOptions = {}) {
  const config = resolveCsrfOptions(options)
  return function installCsrf(app: AnyElysia): InstalledCsrf {
    if (!(app.decorator['sessions'] instanceof Sessions)) {
      throw new SessionConfigError(`csrf() needs session() before it on the same app: ${USAGE}`)
    }
    return app.use(csrfPlugin(config, app.config.strictPath === true)) as unknown as InstalledCsrf
  }
}

type CsrfPlugin = ReturnType<typeof csrfPlugin>

/**
 * What `app.use(csrf())` adds to `app`: the plugin's scoped `csrfToken` becomes local to `app`, as it would if the
 * plugin instance were used directly (its handlers see it, the apps that use `app` do not), and its macro is typed.
 */
type InstalledCsrf = Elysia<
  '',
  CsrfPlugin['~Singleton'],
  CsrfPlugin['~Definitions'],
  CsrfPlugin['~Metadata'],
  CsrfPlugin['~Routes'],
  CsrfPlugin['~Volatile'],
  CsrfPlugin['~Ephemeral']
>

function csrfPlugin(config: ResolvedCsrfOptions, strictPath: boolean) {
  const { allowedMethods, trustedOrigins, header, parameterName, error } = config
  const isAllowedRoute = allowedRouteMatcher(config, strictPath)
  const bodyTokenKey = Symbol('elysia-sessions csrf body token')
  type Flags = { [SKIP_CSRF]?: true; [bodyTokenKey]?: unknown }

  function refuse(context: CsrfErrorContext, reason: CsrfRefusal): unknown {
    // A forged request must not consume the visitor's flash messages: they wait for the next request.
    ;(context as { flash?: Flash }).flash?.keep()
    if (typeof error !== 'function') return forbidden(error ?? DEFAULT_MESSAGES[reason])
    const answer = error(context, reason)
    return answer instanceof Promise
      ? answer.then((settled) => refusalOf(context, settled, reason))
      : refusalOf(context, answer, reason)
  }

  function checkToken(context: CsrfErrorContext, submitted: unknown): unknown {
    if (submitted === undefined || submitted === null || submitted === '') return refuse(context, 'missing')
    const secret = secretOf(context.session)
    return secret !== undefined && csrfTokenMatches(secret, submitted) ? undefined : refuse(context, 'invalid')
  }

  // Elysia's body validation drops the fields a route's schema does not name before beforeHandle runs: the token
  // field is read here, in the transform phase, which runs after the parse and before the validation.
  function captureBodyToken(context: CapturedContext): void {
    const { request, set } = context
    if (allowedMethods.has(request.method) || !request.bodyUsed) return
    const parsed = (context as unknown as Record<string, unknown>)[PARSED_BODY]
    ;(set as Flags)[bodyTokenKey] = bodyField(parsed, parameterName)
  }

  // Elysia 1.4 awaits this hook because its source returns a call (compose's isAsync reads the source); it returns a
  // Promise only when it reads the body or an async error function answers.
  function verifyCsrf(context: CheckedContext): unknown {
    // Seen whole only through this alias: were the parameter itself passed to a function, Elysia would parse the
    // body, cookies, query and headers of every request in scope.
    const handlerContext = context as unknown as CsrfErrorContext
    const { request, set, path } = context
    if (allowedMethods.has(request.method)) return
    if ((set as Flags)[SKIP_CSRF] || isAllowedRoute(path)) return
    if (context.session === undefined) throw new SessionConfigError(MISSING_SESSION)
    if (isCrossOrigin(request, trustedOrigins)) return refuse(handlerContext, 'origin')
    const inHeader = request.headers.get(header)
    if (inHeader) return checkToken(handlerContext, inHeader)
    const inBody = tokenInBody(request, (set as Flags)[bodyTokenKey], parameterName)
    if (inBody instanceof Promise) return inBody.then((found) => checkToken(handlerContext, found))
    return checkToken(handlerContext, inBody)
  }

  return (
    new Elysia({ name: 'elysia-sessions/csrf', seed: seedOf(config, strictPath) })
      .macro({ csrf: optOutMacro(SKIP_CSRF) })
      .onTransform({ as: 'scoped' }, captureBodyToken)
      // Runs after session()'s resolve (registered before it) and after Elysia parsed the body, if the route reads it.
      // Typed as returning nothing, so that a refusal's Response does not join the response type of every route.
      .onBeforeHandle({ as: 'scoped' }, verifyCsrf as (context: CheckedContext) => void)
      // `request` is named in the type only so that TypeScript sees it overlaps Elysia's context.
      .resolve(
        { as: 'scoped' },
        function provideCsrfToken({ session }: { readonly request: Request; session?: Session }) {
          return { csrfToken: (): string => csrfTokenFor(session) }
        },
      )
  )
}

/**
 * A masked token for the session's CSRF secret, creating the secret (a write, so the session is saved and its cookie
 * sent) when the session has none.
 */
function csrfTokenFor(session: Session | undefined): string {
  if (session === undefined) throw new SessionConfigError(MISSING_SESSION)
  const state = stateOf(session)
  let secret = state.read(CSRF_SECRET_KEY)
  if (!isCsrfSecret(secret)) {
    secret = generateCsrfSecret()
    state.write(CSRF_SECRET_KEY, secret)
  }
  return maskCsrfToken(secret)
}

/** The session's CSRF secret, or `undefined` when it has none or is turned off by `{ session: false }`. */
function secretOf(session: Session): string | undefined {
  let state: SessionState
  try {
    state = stateOf(session)
  } catch {
    // stateOf throws on a disabled session: with no session there is no secret to match.
    return undefined
  }
  if (state.mode === 'unavailable') {
    // A session the engine could not load has a secret nobody can read: the request is unanswerable, not forged.
    throw new SessionEngineError('load this session, so its CSRF token cannot be checked', state.loadFailure)
  }
  const secret = state.read(CSRF_SECRET_KEY)
  return isCsrfSecret(secret) ? secret : undefined
}

/** What the check returns for the `answer` of an error function (see `CsrfErrorHandler`); never `undefined`. */
function refusalOf({ set }: CsrfErrorContext, answer: unknown, reason: CsrfRefusal): unknown {
  if (typeof answer === 'string') return forbidden(answer)
  if (answer === undefined || answer === null) return forbidden(DEFAULT_MESSAGES[reason])
  if (answer instanceof Response) return answer
  // Elysia maps it as it maps a handler's value; the result of status(...) sets its own status over this one.
  set.status = 403
  return answer
}

function forbidden(message: string): Response {
  return new Response(message, { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}

/**
 * A number per error function, for the seed: Elysia serializes seeds, which drops a function, and two closures with
 * the same source are still two functions, so two plugins.
 */
const errorFunctionIds = new WeakMap<CsrfErrorHandler, number>()
let lastErrorFunctionId = 0

function errorFunctionId(handler: CsrfErrorHandler): number {
  let id = errorFunctionIds.get(handler)
  if (id === undefined) {
    id = ++lastErrorFunctionId
    errorFunctionIds.set(handler, id)
  }
  return id
}

/** Two csrf() plugins with the same options are one to Elysia; an error function counts by its identity. */
function seedOf(config: ResolvedCsrfOptions, strictPath: boolean): unknown {
  return {
    strictPath,
    header: config.header,
    parameterName: config.parameterName,
    allowedMethods: [...config.allowedMethods],
    trustedOrigins: [...config.trustedOrigins],
    allowedRoutes: [...config.exactRoutes, ...config.routePrefixes],
    error: typeof config.error === 'function' ? { function: errorFunctionId(config.error) } : config.error,
  }
}
