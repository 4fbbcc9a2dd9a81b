import { afterEach } from 'bun:test'
import { memoryEngine, type SessionEngine, type SessionLogger, type SynchronousCalls } from 'elysia-sessions'

/** A secret long enough for `session()`. */
export const SECRET = 'test-secret-that-is-at-least-32-characters-long'

/** A logger that drops every line: for tests whose engine fails on purpose. */
export const SILENT_LOGGER: SessionLogger = { error() {}, warn() {} }

/** The minimal surface of an Elysia app these helpers drive. */
export interface Handler {
  handle(request: Request): Promise<Response>
}

/** What a request carries: a session cookie pair, headers, and at most one body. */
export interface Outgoing {
  /** @default 'GET' */
  readonly method?: string
  /** A `name=value` pair. */
  readonly cookie?: string | undefined
  readonly headers?: Record<string, string>
  /** An `application/x-www-form-urlencoded` body. */
  readonly form?: Record<string, string>
  /** A `multipart/form-data` body; a Blob value is sent as a file. */
  readonly multipart?: Record<string, string | Blob>
  /** A JSON body. */
  readonly json?: unknown
  /**
   * The content type of the JSON body.
   * @default 'application/json'
   */
  readonly contentType?: string
  /** A `text/plain` body. */
  readonly text?: string
}

/** Sends one request to `app`, as a browser or a script would. */
export function send(app: Handler, path: string, outgoing: Outgoing = {}): Promise<Response> {
  const headers = new Headers(outgoing.headers)
  if (outgoing.cookie) headers.set('cookie', outgoing.cookie)
  let body: string | FormData | null = null
  if (outgoing.form) {
    headers.set('content-type', 'application/x-www-form-urlencoded')
    body = new URLSearchParams(outgoing.form).toString()
  } else if (outgoing.multipart) {
    body = new FormData()
    for (const [name, value] of Object.entries(outgoing.multipart)) body.set(name, value)
  } else if (outgoing.json !== undefined) {
    headers.set('content-type', outgoing.contentType ?? 'application/json')
    body = JSON.stringify(outgoing.json)
  } else if (outgoing.text !== undefined) {
    headers.set('content-type', 'text/plain')
    body = outgoing.text
  }
  return app.handle(new Request(`http://localhost${path}`, { method: outgoing.method ?? 'GET', headers, body }))
}

/** Anything with the admin API, so that its engine can be closed. */
interface Closable {
  readonly decorator: { readonly sessions: { close(): Promise<void> } }
}

/**
 * Returns `opened(app)`, which hands `app` back and closes its engine after the test; call it once at the top of a
 * test file.
 */
export function closingAfterEach(): <App extends Closable>(app: App) => App {
  const apps: Closable[] = []
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.decorator.sessions.close()))
  })
  return (app) => {
    apps.push(app)
    return app
  }
}

/** The Set-Cookie header for `name` in `response`, or undefined. */
export function setCookieOf(response: Response, name = 'sessid'): string | undefined {
  return response.headers.getSetCookie().find((header) => header.startsWith(`${name}=`))
}

/** The `name=value` pair a browser would send back after `response`, or undefined when none was set. */
export function cookiePairOf(response: Response, name = 'sessid'): string | undefined {
  return setCookieOf(response, name)?.split(';')[0]
}

/** The session id inside a `name=<id>.<signature>` pair. */
export function idOf(pair: string | undefined): string {
  if (!pair) throw new Error('no session cookie was set')
  return pair.slice(pair.indexOf('=') + 1).split('.')[0] as string
}

/** Every call an engine received, in order, with its method name and arguments. */
export interface EngineCall {
  readonly method: string
  readonly args: readonly unknown[]
}

/**
 * Wraps `engine` (a fresh memory engine by default) and records every call to it. Synchronous calls, when the engine
 * offers them, are recorded under the same method names, so a test reads the calls whichever path the plugin takes.
 */
export function recordingEngine(engine: SessionEngine = memoryEngine()): SessionEngine & { calls: EngineCall[] } {
  const calls: EngineCall[] = []
  const record =
    <Target extends object>(target: Target, method: string) =>
    (...args: unknown[]) => {
      calls.push({ method, args })
      return (target[method as keyof Target] as (...a: unknown[]) => unknown).apply(target, args)
    }
  const recording: Writable<SessionEngine> & { calls: EngineCall[] } = {
    name: `recording ${engine.name}`,
    calls,
    load: record(engine, 'load') as SessionEngine['load'],
    commit: record(engine, 'commit') as SessionEngine['commit'],
    touch: record(engine, 'touch') as SessionEngine['touch'],
    delete: record(engine, 'delete') as SessionEngine['delete'],
    deleteAll: record(engine, 'deleteAll') as SessionEngine['deleteAll'],
    count: record(engine, 'count') as SessionEngine['count'],
    entries: record(engine, 'entries') as SessionEngine['entries'],
    deleteExpired: record(engine, 'deleteExpired') as SessionEngine['deleteExpired'],
    close: record(engine, 'close') as SessionEngine['close'],
  }
  const inner = engine.sync?.engine === engine ? engine.sync : undefined
  if (inner) {
    recording.sync = {
      engine: recording,
      load: record(inner, 'load') as SynchronousCalls['load'],
      commit: record(inner, 'commit') as SynchronousCalls['commit'],
      touch: record(inner, 'touch') as SynchronousCalls['touch'],
      delete: record(inner, 'delete') as SynchronousCalls['delete'],
    }
  }
  return recording
}

/** `Type` with its readonly properties writable, for an engine wrapper that fills in its `sync` after it exists. */
export type Writable<Type> = { -readonly [Key in keyof Type]: Type[Key] }

/** How many calls of `method` an engine recorded. */
export function callsOf(engine: { calls: EngineCall[] }, method: string): EngineCall[] {
  return engine.calls.filter((call) => call.method === method)
}

/**
 * The storage key of a session's creation time. Public tests see only the package, so it is repeated here;
 * test/internal/lifetime.test.ts checks that it matches the plugin's.
 */
export const CREATED_AT_KEY = 'meta:createdAt'

/** A session's stored data without its creation time: only what the app wrote. */
export function appDataOf(data: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined
  const { [CREATED_AT_KEY]: _createdAt, ...written } = data
  return written
}

/** The Max-Age of the `name` cookie set by `response`, in seconds, or undefined when none was set. */
export function maxAgeOf(response: Response, name = 'sessid'): number | undefined {
  const match = /;\s*Max-Age=(\d+)/i.exec(setCookieOf(response, name) ?? '')
  return match ? Number(match[1]) : undefined
}
