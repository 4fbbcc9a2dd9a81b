import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { memoryEngine } from 'elysia-sessions'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { createDemoApp } from '../examples/app.js'
import { testChromium } from './support/browser.js'

const SECRET = 'example-app-browser-test-secret-of-32-chars'
/** The demo's session timeout: `session()`'s default of one hour. */
const TIMEOUT_SECONDS = 3_600
/** Each test drives a browser through several page loads; on a busy machine that outlasts bun's 5 s default. */
const BROWSER_TEST_TIMEOUT = 15_000

const browserFound = testChromium('demo app in a real browser')

describe.skipIf(!browserFound.executablePath)(browserFound.label, () => {
  let browser: Browser
  let demo: ReturnType<typeof createDemoApp>
  /** The demo's origin, e.g. http://127.0.0.1:43121 */
  let origin: string
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    demo = createDemoApp({ secret: SECRET, engine: memoryEngine() })
    demo.listen({ port: 0, hostname: '127.0.0.1' })
    if (!demo.server) throw new Error('the demo did not start listening')
    origin = demo.server.url.origin
    // Chromium's sandbox cannot start as root, which is how CI runs the tests.
    browser = await chromium.launch({ executablePath: browserFound.executablePath, args: ['--no-sandbox'] })
  }, BROWSER_TEST_TIMEOUT)

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()))
  })

  afterAll(async () => {
    await browser?.close()
    await demo?.stop()
    await demo?.decorator.sessions.close()
  }, BROWSER_TEST_TIMEOUT)

  /** A page in a fresh browser profile: no cookies. */
  async function freshPage(): Promise<Page> {
    const context = await browser.newContext()
    context.setDefaultTimeout(5_000)
    contexts.push(context)
    return context.newPage()
  }

  /** Clicks a form's button and waits until the page it leads to (after any redirect) has loaded. */
  async function press(page: Page, button: string): Promise<void> {
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: button }).click()])
  }

  async function logIn(page: Page, username: string): Promise<void> {
    await page.goto(`${origin}/login`)
    await page.getByLabel('User name').fill(username)
    await press(page, 'Log in')
  }

  const notice = (page: Page) => page.locator('#notice').allTextContents()
  const visits = async (page: Page) => Number(await page.locator('#visits').textContent())

  test(
    'a person logs in with the form, is greeted once, counts visits with the button and logs out',
    async () => {
      const page = await freshPage()
      await logIn(page, 'ada')
      expect(page.url()).toBe(`${origin}/`)
      expect(await notice(page)).toEqual(['Welcome, ada!'])
      expect(await page.locator('#user').textContent()).toBe('ada')
      await page.reload()
      expect(await notice(page)).toEqual([])
      expect(await page.locator('#user').textContent()).toBe('ada')

      expect(await visits(page)).toBe(0)
      await press(page, 'Count a visit')
      await press(page, 'Count a visit')
      expect(page.url()).toBe(`${origin}/`)
      expect(await visits(page)).toBe(2)

      await press(page, 'Log out')
      expect(await notice(page)).toEqual(['You are logged out.'])
      expect(await page.getByText('Not logged in').count()).toBe(1)
      // The count belonged to the session that logout ended.
      expect(await visits(page)).toBe(0)
    },
    BROWSER_TEST_TIMEOUT,
  )

  test(
    'a page on another origin that auto-submits a form to the demo is refused with 403',
    async () => {
      const page = await freshPage()
      await logIn(page, 'grace')
      await press(page, 'Count a visit')
      expect(await visits(page)).toBe(1)

      // Even the victim's own token, had it leaked, would not help: the browser says where the form comes from.
      const token = await page.locator('input[name="authenticity_token"]').first().getAttribute('value')
      // The attacker's page: another loopback port, so the browser still sends the demo's cookie (same site, other origin).
      const attacker = Bun.serve({
        port: 0,
        hostname: '127.0.0.1',
        fetch: () =>
          new Response(
            `<!doctype html><form id="forged" method="post" action="${origin}/visits">
            <input type="hidden" name="authenticity_token" value="${token}">
          </form><script>document.getElementById('forged').submit()</script>`,
            { headers: { 'content-type': 'text/html' } },
          ),
      })
      try {
        const answer = page.waitForResponse(`${origin}/visits`)
        await page.goto(attacker.url.href, { waitUntil: 'commit' })
        const refused = await answer
        await page.waitForURL(`${origin}/visits`)
        expect(refused.status()).toBe(403)
        expect(await page.locator('body').textContent()).toBe('Forbidden: cross-origin request')
        // The forged POST carried the logged-in cookie: only csrf() stood in its way.
        const { cookie, origin: sentFrom } = await refused.request().allHeaders()
        expect(cookie).toContain('sessid=')
        expect(sentFrom).toBe(attacker.url.origin)
      } finally {
        await attacker.stop(true)
      }

      await page.goto(`${origin}/`)
      expect(await visits(page)).toBe(1)
      expect(await page.locator('#user').textContent()).toBe('grace')
    },
    BROWSER_TEST_TIMEOUT,
  )

  test(
    'the session cookie the browser stored is HttpOnly, SameSite=Lax, on path / and expires with the timeout',
    async () => {
      const page = await freshPage()
      await logIn(page, 'linus')
      const loggedInAt = Date.now() / 1000
      const cookies = await page.context().cookies(origin)
      expect(cookies.map((cookie) => cookie.name)).toEqual(['sessid'])
      const [cookie] = cookies
      expect(cookie).toMatchObject({ domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax', secure: false })
      expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/)
      // Max-Age is the timeout: the browser turned it into an expiry about an hour from the login.
      expect(cookie?.expires).toBeGreaterThan(loggedInAt + TIMEOUT_SECONDS - 30)
      expect(cookie?.expires).toBeLessThan(loggedInAt + TIMEOUT_SECONDS + 30)
      // HttpOnly: the page's own scripts cannot read it.
      expect(await page.evaluate('document.cookie')).not.toContain('sessid')
    },
    BROWSER_TEST_TIMEOUT,
  )

  test(
    'the account page sends a logged-out person to the login page, and opens after the login',
    async () => {
      const page = await freshPage()
      await page.goto(`${origin}/account`)
      expect(page.url()).toBe(`${origin}/login`)
      expect(await notice(page)).toEqual(['Log in to see that page.'])

      await page.getByLabel('User name').fill('barbara')
      await press(page, 'Log in')
      await page.goto(`${origin}/account`)
      expect(page.url()).toBe(`${origin}/account`)
      expect(await page.locator('#user').textContent()).toBe('barbara')
    },
    BROWSER_TEST_TIMEOUT,
  )
})
