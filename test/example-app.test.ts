import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { createDemoApp } from '../examples/app.js'
import { freshDatabasePath } from './support/sqlite.js'

const SECRET = 'example-app-test-secret-of-at-least-32-chars'
const COOKIE_NAME = 'sessid'

type DemoApp = ReturnType<typeof createDemoApp>

const openApps: DemoApp[] = []

/** The demo on its own SQLite file, as the demo process runs it. */
async function demoApp(): Promise<DemoApp> {
  const app = createDemoApp({ secret: SECRET, engine: await sqliteEngine({ path: freshDatabasePath() }) })
  openApps.push(app)
  return app
}

// Each app's first request starts its GC worker; stop it and close the database after each test.
afterEach(async () => {
  await Promise.all(openApps.splice(0).map((app) => app.decorator.sessions.close()))
})

interface Sent {
  readonly res: Response
  /** The session cookie's value from Set-Cookie: a string, `''` when cleared, `undefined` when not sent. */
  readonly setCookie: string | undefined
}

/** One request through the whole app, carrying `cookie` (the signed value) when given. */
async function send(
  app: DemoApp,
  path: string,
  {
    cookie,
    method = 'GET',
    json,
    form,
    accept,
  }: { cookie?: string; method?: string; json?: unknown; form?: Record<string, string>; accept?: string } = {},
): Promise<Sent> {
  const headers = new Headers()
  if (cookie !== undefined) headers.set('cookie', `${COOKIE_NAME}=${cookie}`)
  if (accept !== undefined) headers.set('accept', accept)
  let body: string | undefined
  if (json !== undefined) {
    headers.set('content-type', 'application/json')
    body = JSON.stringify(json)
  } else if (form !== undefined) {
    headers.set('content-type', 'application/x-www-form-urlencoded')
    body = new URLSearchParams(form).toString()
  }
  const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
  return { res, setCookie: sessionCookie(res) }
}

function sessionCookie(res: Response): string | undefined {
  const line = res.headers.getSetCookie().find((each) => each.startsWith(`${COOKIE_NAME}=`))
  return line?.slice(COOKIE_NAME.length + 1).split(';')[0]
}

async function visit(app: DemoApp, cookie?: string): Promise<{ visits: number; cookie: string | undefined }> {
  const { res, setCookie } = await send(app, '/visits', cookie === undefined ? {} : { cookie })
  expect(res.status).toBe(200)
  const { visits } = (await res.json()) as { visits: number }
  return { visits, cookie: setCookie || cookie }
}

describe('demo app over app.handle', () => {
  test('the visit counter starts a session and counts across requests that carry its cookie', async () => {
    const app = await demoApp()
    const first = await visit(app)
    expect(first.visits).toBe(1)
    expect(first.cookie).toMatch(/^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/)
    const second = await visit(app, first.cookie)
    const third = await visit(app, second.cookie)
    expect([second.visits, third.visits]).toEqual([2, 3])
    expect(third.cookie).toBe(first.cookie as string)
    // Without the cookie the count starts over.
    expect((await visit(app)).visits).toBe(1)
  })

  test('a tampered cookie counts from 1 again and is cleared or replaced', async () => {
    const app = await demoApp()
    const { cookie } = await visit(app)
    const tampered = `${(cookie as string).slice(0, -1)}${(cookie as string).endsWith('A') ? 'B' : 'A'}`
    const again = await visit(app, tampered)
    expect(again.visits).toBe(1)
    expect(again.cookie).not.toBe(tampered)
  })

  test('JSON login regenerates the session id and keeps its data; the old cookie is no longer logged in', async () => {
    const app = await demoApp()
    const { cookie: before } = await visit(app)
    await visit(app, before)

    const login = await send(app, '/login', { method: 'POST', cookie: before as string, json: { username: 'ada' } })
    expect(login.res.status).toBe(200)
    expect(((await login.res.json()) as { user: { name: string } }).user.name).toBe('ada')
    const after = login.setCookie
    expect(after).toBeString()
    expect(after).not.toBe('')
    expect(after).not.toBe(before as string)

    const me = await send(app, '/me', { cookie: after as string })
    expect(me.res.status).toBe(200)
    expect(((await me.res.json()) as { user: { name: string } }).user.name).toBe('ada')
    // regenerate() kept the counter.
    expect((await visit(app, after)).visits).toBe(3)

    const stale = await send(app, '/me', { cookie: before as string })
    expect(stale.res.status).toBe(401)
    expect(stale.setCookie).toBe('')
  })

  test('a form login redirects home with a flash message shown exactly once', async () => {
    const app = await demoApp()
    const login = await send(app, '/login', {
      method: 'POST',
      form: { username: '<b>grace</b>' },
      accept: 'text/html',
    })
    expect(login.res.status).toBe(303)
    expect(login.res.headers.get('location')).toBe('/')
    const cookie = login.setCookie as string
    expect(cookie).toBeString()

    const home = await send(app, '/', { cookie })
    const html = await home.res.text()
    expect(home.res.headers.get('content-type')).toContain('text/html')
    expect(html).toContain('Welcome, &#60;b&#62;grace&#60;/b&#62;!')
    expect(html).not.toContain('<b>grace</b>')
    expect(await (await send(app, '/', { cookie })).res.text()).not.toContain('Welcome')

    const logout = await send(app, '/logout', { method: 'POST', cookie, form: {}, accept: 'text/html' })
    expect(logout.res.status).toBe(303)
    // The flash lives in a new session: a new cookie that is not logged in.
    const next = logout.setCookie as string
    expect(next).toBeString()
    expect(next).not.toBe('')
    expect(next).not.toBe(cookie)
    const after = await (await send(app, '/', { cookie: next })).res.text()
    expect(after).toContain('You are logged out.')
    expect(after).toContain('Not logged in')
    expect((await send(app, '/me', { cookie })).res.status).toBe(401)
  })

  test('an empty user name is refused and logs nobody in', async () => {
    const app = await demoApp()
    const login = await send(app, '/login', { method: 'POST', json: { username: '  ' } })
    expect(login.res.status).toBe(422)
    expect(login.setCookie).toBeUndefined()
  })

  test('/me answers 401 before login and after logout, even with the old cookie', async () => {
    const app = await demoApp()
    expect((await send(app, '/me')).res.status).toBe(401)

    const login = await send(app, '/login', { method: 'POST', json: { username: 'linus' } })
    const cookie = login.setCookie as string
    expect((await send(app, '/me', { cookie })).res.status).toBe(200)

    const logout = await send(app, '/logout', { method: 'POST', cookie })
    expect(logout.res.status).toBe(200)
    expect(logout.setCookie).toBe('')
    expect(logout.res.headers.getSetCookie().join('\n')).toContain('Max-Age=0')

    expect((await send(app, '/me', { cookie })).res.status).toBe(401)
  })

  test('/admin counts sessions and lists who is logged in', async () => {
    const app = await demoApp()
    await visit(app)
    await send(app, '/login', { method: 'POST', json: { username: 'barbara' } })
    const admin = await send(app, '/admin')
    expect(admin.res.status).toBe(200)
    expect(await admin.res.json()).toEqual({ sessions: 2, loggedIn: ['barbara'] })
    expect(admin.setCookie).toBeUndefined()
  })

  test('/health sets no cookie, with or without a session cookie', async () => {
    const app = await demoApp()
    const fresh = await send(app, '/health')
    expect(fresh.res.status).toBe(200)
    expect(await fresh.res.json()).toEqual({ status: 'ok' })
    expect(fresh.res.headers.getSetCookie()).toEqual([])

    const { cookie } = await visit(app)
    const known = await send(app, '/health', { cookie: cookie as string })
    expect(known.res.headers.getSetCookie()).toEqual([])
    const bogus = await send(app, '/health', { cookie: 'not-a-session' })
    expect(bogus.res.headers.getSetCookie()).toEqual([])
  })

  test('the home page sets no cookie for a visitor who has no session', async () => {
    const app = await demoApp()
    const home = await send(app, '/')
    expect(home.res.status).toBe(200)
    expect(await home.res.text()).toContain('Not logged in')
    expect(home.res.headers.getSetCookie()).toEqual([])
  })
})

describe('demo app as a real process', () => {
  test('`bun run demo` serves on 127.0.0.1, and its sessions survive a restart', async () => {
    // No SESSION_SECRET: the demo must start anyway, with a warning, and keep its secret for the next start.
    const { SESSION_SECRET: _unused, ...inherited } = process.env
    const env = { ...inherited, PORT: '0', HOST: '127.0.0.1', SESSIONS_DB: freshDatabasePath() }

    const firstRun = await startDemo(env)
    let cookie: string | undefined
    try {
      const first = await fetch(new URL('/visits', firstRun.url))
      expect(await first.json()).toEqual({ visits: 1 })
      cookie = sessionCookie(first)
      expect(cookie).toBeString()
      const second = await fetch(new URL('/visits', firstRun.url), { headers: { cookie: `${COOKIE_NAME}=${cookie}` } })
      expect(await second.json()).toEqual({ visits: 2 })
    } finally {
      await firstRun.stop()
    }
    expect(await firstRun.stderr()).toContain('SESSION_SECRET is not set')
    // SQLite removes the WAL file when the last connection closes: the demo closed its engine and GC worker.
    expect(existsSync(`${env.SESSIONS_DB}-wal`)).toBe(false)
    expect(existsSync(`${env.SESSIONS_DB}.secret`)).toBe(true)

    const secondRun = await startDemo(env)
    try {
      const third = await fetch(new URL('/visits', secondRun.url), { headers: { cookie: `${COOKIE_NAME}=${cookie}` } })
      expect(await third.json()).toEqual({ visits: 3 })
    } finally {
      await secondRun.stop()
    }
  }, 20_000)
})

/** Starts `examples/app.ts` as its own process and waits until it listens. */
async function startDemo(env: Record<string, string | undefined>) {
  const demo = Bun.spawn([process.execPath, 'examples/app.ts'], {
    cwd: `${import.meta.dir}/..`,
    env,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stop = async () => {
    demo.kill('SIGTERM')
    expect(await demo.exited).toBe(0)
  }
  try {
    return { url: await readListeningUrl(demo.stdout, 8_000), stop, stderr: () => new Response(demo.stderr).text() }
  } catch (error) {
    demo.kill()
    throw error
  }
}

/** Reads the demo's stdout until it prints the URL it listens on. */
async function readListeningUrl(stdout: ReadableStream<Uint8Array>, timeoutMs: number): Promise<URL> {
  const reader = stdout.getReader()
  const decoder = new TextDecoder()
  let output = ''
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the demo exited or timed out before printing its URL; output so far:\n${output}`)
      output += decoder.decode(value, { stream: true })
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1]) return new URL(match[1])
    }
  } finally {
    clearTimeout(deadline)
    reader.releaseLock()
  }
}
