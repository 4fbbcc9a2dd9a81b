/**
 * A small demo of elysia-sessions: a visit counter, a login/logout flow with a storable `User`, a flash message, an
 * admin page and a health check that never touches the session.
 *
 * Run it with `bun run demo` (or `npm run demo`) and open http://127.0.0.1:3000/. Sessions live in the SQLite file
 * examples/demo.sqlite (SESSIONS_DB changes it), so they survive restarts. PORT and HOST change where it listens;
 * SESSION_SECRET (32+ characters) signs cookies, or else a demo-only secret is kept next to the database.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Elysia, t } from 'elysia'
import { type Session, type SessionEngine, session, storable } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'

/** The logged-in user, stored in the session with `session.object('user', user)`. */
export class User {
  constructor(
    readonly name: string,
    readonly loggedInAt: string,
  ) {}

  toJSON() {
    return { name: this.name, loggedInAt: this.loggedInAt }
  }

  static fromJSON(json: { name: string; loggedInAt: string }): User {
    return new User(json.name, json.loggedInAt)
  }
}

storable(User)

/** Options of `createDemoApp`. */
export interface DemoAppOptions {
  /** Signs the session cookie; at least 32 characters. */
  readonly secret: string
  /** Where sessions are kept; the demo process uses `sqliteEngine`. */
  readonly engine: SessionEngine
}

/** Builds the demo app without starting a server, so tests can drive it with `app.handle(request)`. */
export function createDemoApp(options: DemoAppOptions) {
  return (
    new Elysia()
      .use(session({ secret: options.secret, engine: options.engine }))

      // A load balancer's probe: no cookie read, no engine call, no Set-Cookie.
      .get('/health', () => ({ status: 'ok' }), { session: false })

      .get('/', ({ session }) => {
        const flash = session.stringOrNull('flash')
        if (flash !== null) session.deleteString('flash')
        return new Response(homePage(currentUser(session), session.intOrNull('visits') ?? 0, flash), {
          headers: { 'content-type': 'text/html; charset=utf-8' },
        })
      })

      .get('/visits', ({ session }) => {
        const visits = (session.intOrNull('visits') ?? 0) + 1
        session.int('visits', visits)
        return { visits }
      })

      .post(
        '/login',
        async ({ body, request, session, redirect }) => {
          // A new id on login: an id planted or seen before login is worthless afterwards.
          await session.regenerate()
          const user = new User(body.username.trim(), new Date().toISOString())
          session.object('user', user)
          if (!wantsHtml(request)) return { user }
          session.string('flash', `Welcome, ${user.name}!`)
          return redirect('/', 303)
        },
        { body: t.Object({ username: t.String({ minLength: 1, maxLength: 64, pattern: '\\S' }) }) },
      )

      .get('/me', ({ session, status }) => {
        const user = currentUser(session)
        return user ? { user } : status(401, { error: 'not logged in' })
      })

      .post('/logout', async ({ request, session, redirect }) => {
        await session.destroy()
        if (!wantsHtml(request)) return { loggedOut: true }
        // Writing after destroy() starts a new, empty session that only holds the message.
        session.string('flash', 'You are logged out.')
        return redirect('/', 303)
      })

      // The admin API works without the current request's session. A real app would check permissions here.
      .get(
        '/admin',
        async ({ sessions }) => {
          const users: string[] = []
          await sessions.each((each) => {
            const user = currentUser(each)
            if (user) users.push(user.name)
          })
          return { sessions: await sessions.count(), loggedIn: users }
        },
        { session: false },
      )
  )
}

function currentUser(session: Session): User | null {
  const user = session.objectOrNull('user')
  return user instanceof User ? user : null
}

function wantsHtml(request: Request): boolean {
  return request.headers.get('accept')?.includes('text/html') ?? false
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function homePage(user: User | null, visits: number, flash: string | null): string {
  const account = user
    ? `<p>Logged in as <strong>${escapeHtml(user.name)}</strong> since ${escapeHtml(user.loggedInAt)}.</p>
  <form method="post" action="/logout"><button>Log out</button></form>`
    : `<p>Not logged in.</p>
  <form method="post" action="/login">
    <label>User name <input name="username" required maxlength="64"></label>
    <button>Log in</button>
  </form>`
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>elysia-sessions demo</title></head>
<body>
  <h1>elysia-sessions demo</h1>
  ${flash === null ? '' : `<p><mark>${escapeHtml(flash)}</mark></p>`}
  <p>Visits counted in this session: ${visits}. <a href="/visits">Count a visit</a> (then come back).</p>
  ${account}
  <ul>
    <li><a href="/me">/me</a>: the logged-in user as JSON, or 401</li>
    <li><a href="/admin">/admin</a>: how many sessions exist, and who is logged in</li>
    <li><a href="/health">/health</a>: a route with <code>{ session: false }</code></li>
  </ul>
</body>
</html>
`
}

/**
 * SESSION_SECRET, or else a random secret made once and kept in `secretFile` (with a warning), so the demo's sessions
 * survive restarts without any setup. Fine for a demo, wrong for anything real: a secret belongs in the environment.
 */
export function demoSecret(secretFile: string, env: Record<string, string | undefined> = process.env): string {
  const { SESSION_SECRET: secret } = env
  if (secret) return secret
  console.warn(
    `SESSION_SECRET is not set: using the demo-only secret kept in ${secretFile}. ` +
      'Set SESSION_SECRET to 32 or more random characters for anything but a demo.',
  )
  if (existsSync(secretFile)) return readFileSync(secretFile, 'utf8').trim()
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  writeFileSync(secretFile, generated, { mode: 0o600 })
  return generated
}

if (import.meta.main) {
  const {
    PORT = '3000',
    HOST = '127.0.0.1',
    SESSIONS_DB = fileURLToPath(new URL('./demo.sqlite', import.meta.url)),
  } = process.env
  const engine = await sqliteEngine({ path: SESSIONS_DB })
  const app = createDemoApp({ secret: demoSecret(`${SESSIONS_DB}.secret`), engine })
  app.listen({ port: Number(PORT), hostname: HOST })
  console.log(`elysia-sessions demo listening on ${app.server?.url} with sessions in ${SESSIONS_DB}`)
  // Elysia's stop() does not wait for its onStop hooks, so wait for the engine (and GC) to close before exiting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      await app.stop()
      await app.decorator.sessions.close()
      process.exit(0)
    })
  }
}
