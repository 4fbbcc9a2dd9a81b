import { afterEach, describe, expect, spyOn, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { Elysia } from 'elysia'
import { memoryEngine, type SessionEngine, session } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { createDemoApp } from '../examples/app.js'
import { freshDatabasePath } from './support/sqlite.js'

const SECRET = 'example-app-test-secret-of-at-least-32-chars'
const COOKIE_NAME = 'sessid'

type DemoApp = ReturnType<typeof createDemoApp>

const openApps: DemoApp[] = []

// Each app's first request may start its GC worker; stop it and close the engine after each test.
afterEach(async () => {
  await Promise.all(openApps.splice(0).map((app) => app.decorator.sessions.close()))
})

/** Request headers a browser sends with a page load or a form submission. */
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }

/**
 * A visitor driving the demo through `app.handle`, keeping the session cookie between requests as a browser does;
 * `token` is the CSRF token of the last page it loaded.
 */
class Visitor {
  cookie: string | undefined
  token: string | undefined

  constructor(readonly app: DemoApp) {}

  /** Sends one request with the visitor's cookie, then keeps (or drops) the cookie the response sets. */
  async request(
    path: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    const headers = new Headers(init.headers)
    if (this.cookie !== undefined) headers.set('cookie', `${COOKIE_NAME}=${this.cookie}`)
    let body: string | undefined
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      body = new URLSearchParams(init.form).toString()
    }
    const res = await this.app.handle(new Request(`http://localhost${path}`, { method: init.method, headers, body }))
    const set = sessionCookie(res)
    if (set !== undefined) this.cookie = set === '' ? undefined : set
    return res
  }

  /** Loads a page as a browser does, remembering its CSRF token; answers its status and markup. */
  async page(path: string): Promise<{ status: number; html: string }> {
    const res = await this.request(path, { headers: BROWSER })
    const html = await res.text()
    this.token = /name="authenticity_token" value="([^"]+)"/.exec(html)?.[1] ?? this.token
    return { status: res.status, html }
  }

  /** Submits a form of the last page loaded, with its CSRF token unless `token` says otherwise. */
  submit(path: string, fields: Record<string, string> = {}, token: string | null | undefined = this.token) {
    const form = token === null || token === undefined ? fields : { ...fields, authenticity_token: token }
    return this.request(path, { method: 'POST', form, headers: BROWSER })
  }

  /** Logs in through the login page's form, as a person would. */
  async logIn(username: string): Promise<Response> {
    await this.page('/login')
    return this.submit('/login', { username })
  }

  /** The visit count the home page shows. */
  async visits(): Promise<number> {
    const { html } = await this.page('/')
    return Number(/<output id="visits">(\d+)<\/output>/.exec(html)?.[1])
  }
}

function sessionCookie(res: Response): string | undefined {
  const line = res.headers.getSetCookie().find((each) => each.startsWith(`${COOKIE_NAME}=`))
  return line?.slice(COOKIE_NAME.length + 1).split(';')[0]
}

const engines: [string, () => Promise<SessionEngine>][] = [
  ['memory engine', async () => memoryEngine()],
  ['SQLite engine', () => sqliteEngine({ path: freshDatabasePath() })],
]

describe.each(engines)('demo app over app.handle, %s', (_name, makeEngine) => {
  async function demoApp(): Promise<DemoApp> {
    const app = createDemoApp({ secret: SECRET, engine: await makeEngine() })
    openApps.push(app)
    return app
  }

  test('the login form redirects home with a new session id and a greeting shown exactly once', async () => {
    const visitor = new Visitor(await demoApp())
    const { status, html } = await visitor.page('/login')
    expect(status).toBe(200)
    expect(html).toContain('<form method="post" action="/login">')
    expect(visitor.token).toBeString()
    const before = visitor.cookie

    const login = await visitor.submit('/login', { username: '<b>grace</b>' })
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/')
    // A new id on login.
    expect(visitor.cookie).toBeString()
    expect(visitor.cookie).not.toBe(before as string)

    const home = await visitor.page('/')
    expect(home.html).toContain('Welcome, &#60;b&#62;grace&#60;/b&#62;!')
    expect(home.html).toContain('Logged in as <strong id="user">&#60;b&#62;grace&#60;/b&#62;</strong>')
    expect(home.html).not.toContain('<b>grace</b>')
    expect((await visitor.page('/')).html).not.toContain('Welcome')
  })

  test('the visit button counts with a POST that carries the CSRF token, and redirects home', async () => {
    const visitor = new Visitor(await demoApp())
    expect(await visitor.visits()).toBe(0)
    const visit = await visitor.submit('/visits')
    expect(visit.status).toBe(303)
    expect(visit.headers.get('location')).toBe('/')
    expect(await visitor.visits()).toBe(1)
    await visitor.submit('/visits')
    await visitor.submit('/visits')
    expect(await visitor.visits()).toBe(3)
    // Another visitor starts from 0.
    expect(await new Visitor(visitor.app).visits()).toBe(0)
  })

  test('a POST without the CSRF token, or from another site, is refused with 403 and changes nothing', async () => {
    const visitor = new Visitor(await demoApp())
    await visitor.page('/')
    await visitor.submit('/visits')
    expect(await visitor.visits()).toBe(1)

    const noToken = await visitor.submit('/visits', {}, null)
    expect(noToken.status).toBe(403)
    expect(noToken.headers.get('content-type')).toStartWith('text/plain')
    const wrongToken = await visitor.submit('/visits', {}, 'forged')
    expect(wrongToken.status).toBe(403)
    const crossSite = await visitor.request('/visits', {
      method: 'POST',
      form: { authenticity_token: visitor.token as string },
      headers: { ...BROWSER, origin: 'http://attacker.example', 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.status).toBe(403)
    expect(await visitor.visits()).toBe(1)

    // Nor does a login without the token log anybody in.
    await visitor.page('/login')
    expect((await visitor.submit('/login', { username: 'mallory' }, null)).status).toBe(403)
    expect((await visitor.request('/me')).status).toBe(401)
  })

  test('logout is a POST form: it ends the login, greets with a flash, and needs the CSRF token', async () => {
    const visitor = new Visitor(await demoApp())
    await visitor.logIn('linus')
    const loggedIn = visitor.cookie as string
    expect((await visitor.request('/me')).status).toBe(200)

    await visitor.page('/')
    expect((await visitor.submit('/logout', {}, null)).status).toBe(403)
    expect((await visitor.request('/me')).status).toBe(200)

    const logout = await visitor.submit('/logout')
    expect(logout.status).toBe(303)
    expect(logout.headers.get('location')).toBe('/')
    // The flash lives in a new session: a new cookie that is not logged in.
    expect(visitor.cookie).toBeString()
    expect(visitor.cookie).not.toBe(loggedIn)
    const home = await visitor.page('/')
    expect(home.html).toContain('You are logged out.')
    expect(home.html).toContain('Not logged in')
    expect((await visitor.request('/me')).status).toBe(401)

    // The old cookie is logged out too.
    const stale = new Visitor(visitor.app)
    stale.cookie = loggedIn
    expect((await stale.request('/me')).status).toBe(401)
  })

  test('the account page sends a browser to the login page with a flash, and an API client gets 401', async () => {
    const visitor = new Visitor(await demoApp())
    const page = await visitor.request('/account', { headers: BROWSER })
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/login')
    // Thrown refusals still pass through the session's hooks: the flash's new session is saved and the response private.
    expect(page.headers.get('vary')).toBe('Cookie')
    expect(page.headers.get('cache-control')).toBe('private, no-cache="set-cookie"')
    expect((await visitor.page('/login')).html).toContain('Log in to see that page.')

    const api = await visitor.request('/account')
    expect(api.status).toBe(401)
    expect(api.headers.get('vary')).toBe('Cookie')
    expect(await api.json()).toEqual({ error: 'not logged in' })
    const me = await visitor.request('/me')
    expect(me.status).toBe(401)
  })

  test('"Your devices" lists every session of the user, and "log out everywhere else" ends the others', async () => {
    const app = await demoApp()
    const laptop = new Visitor(app)
    const phone = new Visitor(app)
    const stranger = new Visitor(app)
    await laptop.logIn('ada')
    await phone.logIn('ada')
    await stranger.logIn('grace')

    const devices = await laptop.page('/account/devices')
    expect(devices.status).toBe(200)
    expect(devices.html).toContain('<strong id="device-count">2</strong>')
    expect(devices.html.match(/This device/g)).toHaveLength(1)
    expect(devices.html).not.toContain(laptop.cookie?.split('.')[0] as string)

    const loggedOut = await laptop.submit('/account/devices/log-out-others')
    expect(loggedOut.status).toBe(303)
    expect(loggedOut.headers.get('location')).toBe('/account/devices')
    const after = await laptop.page('/account/devices')
    expect(after.html).toContain('Logged out 1 other session(s).')
    expect(after.html).toContain('<strong id="device-count">1</strong>')

    expect((await phone.request('/account', { headers: BROWSER })).status).toBe(303)
    expect((await stranger.page('/account')).status).toBe(200)
  })

  test('"log out everywhere else" is refused without the CSRF token', async () => {
    const app = await demoApp()
    const laptop = new Visitor(app)
    const phone = new Visitor(app)
    await laptop.logIn('ada')
    await phone.logIn('ada')
    await laptop.page('/account/devices')
    expect((await laptop.submit('/account/devices/log-out-others', {}, null)).status).toBe(403)
    expect((await phone.page('/account')).status).toBe(200)
  })

  test('a logged-in user sees the account page and /me', async () => {
    const visitor = new Visitor(await demoApp())
    await visitor.logIn('ada')
    const account = await visitor.page('/account')
    expect(account.status).toBe(200)
    expect(account.html).toContain('Logged in as <strong id="user">ada</strong>')
    expect(account.html).toContain('<form method="post" action="/logout">')
    const me = await visitor.request('/me')
    expect(me.status).toBe(200)
    expect(((await me.json()) as { user: { name: string } }).user.name).toBe('ada')
  })

  test('an empty user name is refused and logs nobody in', async () => {
    const visitor = new Visitor(await demoApp())
    await visitor.page('/login')
    expect((await visitor.submit('/login', { username: '  ' })).status).toBe(422)
    expect((await visitor.request('/me')).status).toBe(401)
  })

  test('a tampered cookie is a fresh session: the count starts over', async () => {
    const visitor = new Visitor(await demoApp())
    await visitor.page('/')
    await visitor.submit('/visits')
    expect(await visitor.visits()).toBe(1)
    const cookie = visitor.cookie as string
    visitor.cookie = `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}`
    expect(await visitor.visits()).toBe(0)
  })

  test('/admin counts sessions and lists who is logged in, without a session of its own', async () => {
    const app = await demoApp()
    await new Visitor(app).submit('/visits', {}, await tokenOf(app))
    await new Visitor(app).logIn('barbara')
    const admin = await app.handle(new Request('http://localhost/admin'))
    expect(admin.status).toBe(200)
    expect(await admin.json()).toEqual({ sessions: 2, loggedIn: ['barbara'] })
    expect(admin.headers.getSetCookie()).toEqual([])
  })

  test('session data in a shape its schema no longer allows reads as absent, is reported once and goes with the next write', async () => {
    const engine = await makeEngine()
    // An older version of the demo, without the schema, that kept a text visit count and a user without a name.
    const older = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0 })).get('/', ({ session }) => {
      session.set('visits', 'seven')
      session.set('user', { loggedInAt: 'yesterday' })
      return 'ok'
    })
    const visitor = new Visitor(createDemoApp({ secret: SECRET, engine }))
    openApps.push(visitor.app)
    visitor.cookie = sessionCookie(await older.handle(new Request('http://localhost/')))
    const [stale] = await older.decorator.sessions.all()
    const id = stale?.id as string

    const warn = spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      // A read-only request (the guard reads the user) removes nothing.
      expect((await visitor.request('/me')).status).toBe(401)
      expect(Object.keys((await engine.load(id, Date.now()))?.data ?? {})).toContain('data:visits')
      expect((await visitor.page('/')).html).toContain('Not logged in.')
      expect(await visitor.visits()).toBe(0)
      await visitor.submit('/visits')
      expect(await visitor.visits()).toBe(1)
      expect(warn.mock.calls.map(([message]) => String(message).match(/session key "(\w+)"/)?.[1]).sort()).toEqual([
        'user',
        'visits',
      ])
    } finally {
      warn.mockRestore()
    }
    const stored = (await engine.load(id, Date.now()))?.data ?? {}
    expect(stored['data:visits']).toBe(1)
    expect(stored['data:user']).toBeUndefined()
  })

  test('/health sets no cookie, with or without a session cookie', async () => {
    const visitor = new Visitor(await demoApp())
    const fresh = await visitor.request('/health')
    expect(fresh.status).toBe(200)
    expect(await fresh.json()).toEqual({ status: 'ok' })
    expect(fresh.headers.getSetCookie()).toEqual([])

    await visitor.page('/')
    await visitor.submit('/visits')
    expect((await visitor.request('/health')).headers.getSetCookie()).toEqual([])
    visitor.cookie = 'not-a-session'
    expect((await visitor.request('/health')).headers.getSetCookie()).toEqual([])
  })
})

/** A visitor's CSRF token, for a test that submits a form as a new visitor: loads the home page first. */
async function tokenOf(app: DemoApp): Promise<string> {
  const visitor = new Visitor(app)
  await visitor.page('/')
  return visitor.token as string
}

describe('demo app as a real process', () => {
  test('`bun run demo` serves on 127.0.0.1, and its sessions survive a restart', async () => {
    // No SESSION_SECRET: the demo must start anyway, with a warning, and keep its secret for the next start.
    const { SESSION_SECRET: _unused, ...inherited } = process.env
    const env = { ...inherited, PORT: '0', HOST: '127.0.0.1', SESSIONS_DB: freshDatabasePath() }

    const firstRun = await startDemo(env)
    let cookie: string | undefined
    try {
      const home = await fetch(new URL('/', firstRun.url), { headers: BROWSER })
      cookie = sessionCookie(home)
      const token = /name="authenticity_token" value="([^"]+)"/.exec(await home.text())?.[1]
      expect(cookie).toBeString()
      expect(token).toBeString()
      const visit = await fetch(new URL('/visits', firstRun.url), {
        method: 'POST',
        headers: { ...BROWSER, cookie: `${COOKIE_NAME}=${cookie}` },
        body: new URLSearchParams({ authenticity_token: token as string }),
        redirect: 'manual',
      })
      expect(visit.status).toBe(303)
      expect(await visitsShown(firstRun.url, cookie as string)).toBe(1)
    } finally {
      await firstRun.stop()
    }
    expect(await firstRun.stderr()).toContain('SESSION_SECRET is not set')
    // SQLite removes the WAL file when the last connection closes: the demo closed its engine and GC worker.
    expect(existsSync(`${env.SESSIONS_DB}-wal`)).toBe(false)
    expect(existsSync(`${env.SESSIONS_DB}.secret`)).toBe(true)

    const secondRun = await startDemo(env)
    try {
      expect(await visitsShown(secondRun.url, cookie as string)).toBe(1)
    } finally {
      await secondRun.stop()
    }
  }, 20_000)
})

/** The visit count the home page of a running demo shows to the holder of `cookie`. */
async function visitsShown(url: URL, cookie: string): Promise<number> {
  const home = await fetch(new URL('/', url), { headers: { ...BROWSER, cookie: `${COOKIE_NAME}=${cookie}` } })
  return Number(/<output id="visits">(\d+)<\/output>/.exec(await home.text())?.[1])
}

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
