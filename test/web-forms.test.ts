import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { csrf, type SessionEngine, session } from 'elysia-sessions'
import { FEATURE_ENGINES } from './support/engines.js'
import { cookiePairOf, SECRET } from './support/http.js'

const ORIGIN = 'http://localhost'

/** A form page and its POST, as a web app writes them: the form carries the token, the POST flashes and redirects. */
function formApp(engine: SessionEngine) {
  return new Elysia()
    .use(session({ secret: SECRET, engine, gcInterval: 0 }))
    .use(csrf())
    .get('/', ({ flash, csrfToken }) => ({ notice: flash.get<string>('notice') ?? null, token: csrfToken() }))
    .post(
      '/notes',
      ({ body, flash, session, redirect }) => {
        session.string('note', body.note)
        flash.set('notice', `Saved "${body.note}".`)
        return redirect('/', 303)
      },
      { body: t.Object({ note: t.String() }) }, // the token field needs no place in the schema
    )
}

/** A browser's form POST: urlencoded, with the session cookie and the page's own Origin. */
function postForm(app: ReturnType<typeof formApp>, cookie: string, fields: Record<string, string>, origin = ORIGIN) {
  return app.handle(
    new Request(`${ORIGIN}/notes`, {
      method: 'POST',
      headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    }),
  )
}

async function getPage(
  app: ReturnType<typeof formApp>,
  cookie?: string,
): Promise<{ notice: string | null; token: string }> {
  const response = await app.handle(new Request(`${ORIGIN}/`, { headers: cookie ? { cookie } : {} }))
  expect(response.status).toBe(200)
  return (await response.json()) as { notice: string | null; token: string }
}

for (const [engineName, makeEngine] of FEATURE_ENGINES) {
  describe(`a form with CSRF protection and a flash message (${engineName} engine)`, () => {
    const apps: ReturnType<typeof formApp>[] = []
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.decorator.sessions.close()))
    })

    async function opened() {
      const app = formApp(await makeEngine())
      apps.push(app)
      const first = await app.handle(new Request(`${ORIGIN}/`))
      const cookie = cookiePairOf(first)
      if (!cookie) throw new Error('the form page set no session cookie')
      const { token } = (await first.json()) as { token: string }
      return { app, cookie, token }
    }

    test('a POST with the token saves, redirects, and the next page shows the flash once', async () => {
      const { app, cookie, token } = await opened()
      const posted = await postForm(app, cookie, { note: 'milk', authenticity_token: token })
      expect(posted.status).toBe(303)
      expect(posted.headers.get('location')).toBe('/')
      expect((await getPage(app, cookie)).notice).toBe('Saved "milk".')
      expect((await getPage(app, cookie)).notice).toBeNull()
    })

    test('a refused POST does not consume the flash waiting for the next page', async () => {
      const { app, cookie, token } = await opened()
      expect((await postForm(app, cookie, { note: 'milk', authenticity_token: token })).status).toBe(303)
      const forged = await postForm(app, cookie, { note: 'eggs', authenticity_token: token }, 'http://evil.example')
      expect(forged.status).toBe(403)
      expect((await postForm(app, cookie, { note: 'eggs' })).status).toBe(403)
      expect((await getPage(app, cookie)).notice).toBe('Saved "milk".')
    })

    test('a POST without the token, or from another origin, is refused and leaves no flash', async () => {
      const { app, cookie, token } = await opened()
      const missing = await postForm(app, cookie, { note: 'milk' })
      expect(missing.status).toBe(403)
      const forged = await postForm(app, cookie, { note: 'milk', authenticity_token: token }, 'http://evil.example')
      expect(forged.status).toBe(403)
      expect((await getPage(app, cookie)).notice).toBeNull()
      const session = await app.decorator.sessions.get(cookie.slice(cookie.indexOf('=') + 1).split('.')[0] as string)
      expect(session?.stringOrNull('note')).toBeNull()
    })
  })
}
