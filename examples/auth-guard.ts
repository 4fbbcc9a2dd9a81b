import { Elysia } from 'elysia'
import type { session } from 'elysia-sessions'
import type { demoSchema } from './session-data.js'

/** The demo's `session(...)` plugin, typed by its schema. */
type DemoSessions = ReturnType<typeof session<typeof demoSchema>>

/** Where the guard sends a browser that asks for a page while nobody is logged in. */
const LOGIN_PAGE = '/login'

/**
 * The auth guard recipe: `{ auth: true }` on a route or a group lets a logged-in user through with a typed `user` in
 * the handler's context. Anyone else gets a 401 (API clients), or a 303 to the login page with a flash saying why
 * (browsers asking for a page). Pass the app's own `session(...)` plugin: Elysia runs it once, however often it is used.
 *
 * @example
 * const sessions = session({ secret, schema: demoSchema })
 * new Elysia()
 *   .use(sessions)
 *   .use(authGuard(sessions))
 *   .get('/me', ({ user }) => ({ name: user.name }), { auth: true })
 */
export function authGuard(sessions: DemoSessions) {
  return new Elysia().use(sessions).macro({
    auth: {
      resolve: function requireUser({ session, flash, request, set, status }) {
        // Elysia types a plugin's scoped context as optional inside a macro; the session plugin always provides it.
        const user = session?.get('user')
        if (user) return { user }
        // Thrown, not returned: a refusal returned from a resolve skips the hook that saves the session (and its flash).
        if (!acceptsHtml(request)) throw status(401, { error: 'not logged in' })
        flash?.set('notice', 'Log in to see that page.')
        set.headers.location = LOGIN_PAGE
        throw status(303, `Log in first: ${LOGIN_PAGE}`)
      },
    },
  })
}

/** Whether the request comes from a browser asking for a page (a navigation or a form submission), not an API client. */
function acceptsHtml(request: Request): boolean {
  return request.headers.get('accept')?.includes('text/html') ?? false
}
