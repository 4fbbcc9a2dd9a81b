/**
 * The elysia-sessions demo, a small web app to click through: a login form that greets with a flash message, a visit
 * counter with a button, an account page behind the auth guard (examples/auth-guard.ts) with the user's devices and
 * "log out everywhere else", logout, an admin API and a health check that never touches the session. Every form
 * carries a CSRF token.
 *
 * Run it with `bun run demo` (or `npm run demo`) and open http://127.0.0.1:3000/. Sessions live in the SQLite file
 * examples/demo.sqlite (SESSIONS_DB changes it), so they survive restarts. PORT and HOST change where it listens;
 * SESSION_SECRET (32+ characters) signs cookies, or else a demo-only secret is kept next to the database.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Elysia, t } from 'elysia'
import { csrf, type Flash, type SessionEngine, session } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { authGuard } from './auth-guard.js'
import { accountPage, devicesPage, homePage, htmlResponse, loginPage, type PageContext } from './pages.js'
import { demoSchema } from './session-data.js'

/** Options of `createDemoApp`. */
export interface DemoAppOptions {
  /** Signs the session cookie; at least 32 characters. */
  readonly secret: string
  /** Where sessions are kept; the demo process uses `sqliteEngine`. */
  readonly engine: SessionEngine
}

/** Builds the demo app without starting a server, so tests can drive it with `app.handle(request)`. */
export function createDemoApp(options: DemoAppOptions) {
  // The schema types session.get/set in every handler and checks each value, including data an older version wrote.
  const sessions = session({ secret: options.secret, engine: options.engine, schema: demoSchema })
  return (
    new Elysia()
      .use(sessions)
      .use(csrf())
      .use(authGuard(sessions))

      // A load balancer's probe: no cookie read, no engine call, no Set-Cookie.
      .get('/health', () => ({ status: 'ok' }), { session: false })

      .get('/', ({ session, flash, csrfToken }) =>
        htmlResponse(homePage(pageContext(flash, csrfToken), session.get('user'), session.get('visits'))),
      )

      .post('/visits', ({ session, redirect }) => {
        session.set('visits', session.get('visits') + 1)
        return redirect('/', 303)
      })

      .get('/login', ({ flash, csrfToken }) => htmlResponse(loginPage(pageContext(flash, csrfToken))))

      .post(
        '/login',
        async ({ body, session, flash, redirect }) => {
          // A new id on login: an id planted or seen before login is worthless afterwards.
          await session.regenerate()
          const user = { name: body.username.trim(), loggedInAt: new Date().toISOString() }
          session.set('user', user)
          // The owner binds this session to the user, so "Your devices" can find all of theirs.
          session.owner(user.name)
          flash.set('notice', `Welcome, ${user.name}!`)
          return redirect('/', 303)
        },
        {
          body: t.Object({ username: t.String({ minLength: 1, maxLength: 64, pattern: '\\S' }) }),
        },
      )

      .post('/logout', async ({ session, flash, redirect }) => {
        await session.destroy()
        // Written after destroy(): a new, empty session that only holds the message.
        flash.set('notice', 'You are logged out.')
        return redirect('/', 303)
      })

      // One route behind the auth guard: `user` is typed, and nobody gets here without a login.
      .get('/me', ({ user }) => ({ user }), { auth: true })

      // A group behind the guard: every route in it needs a login.
      .group('/account', { auth: true }, (account) =>
        account
          .get('', ({ user, session, flash, csrfToken }) =>
            htmlResponse(accountPage(pageContext(flash, csrfToken), user, session.expiresAt)),
          )
          .get('/devices', async ({ user, session, sessions, flash, csrfToken }) => {
            const devices = await sessions.listByOwner(user.name)
            return htmlResponse(devicesPage(pageContext(flash, csrfToken), session, devices))
          })
          .post('/devices/log-out-others', async ({ user, session, sessions, flash, redirect }) => {
            const count = await sessions.destroyByOwner(user.name, { except: session.id })
            flash.set('notice', `Logged out ${count} other session(s).`)
            return redirect('/account/devices', 303)
          }),
      )

      // The admin API works without the current request's session. A real app would check permissions here.
      .get(
        '/admin',
        async ({ sessions }) => {
          const users: string[] = []
          await sessions.each((each) => {
            const user = each.get('user')
            if (user) users.push(user.name)
          })
          return { sessions: await sessions.count(), loggedIn: users }
        },
        { session: false },
      )
  )
}

/** What every page shows: this request's flash message (read once), and the CSRF token for its forms. */
function pageContext(flash: Flash, csrfToken: () => string): PageContext {
  return { notice: flash.get<string>('notice') ?? null, csrfToken: csrfToken() }
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
