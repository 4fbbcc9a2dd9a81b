import type { Session } from 'elysia-sessions'
import type { User } from './session-data.js'

/** Markup that `html` inserts as it is; everything else it escapes. */
export class Html {
  constructor(readonly markup: string) {}
}

/**
 * A template tag that escapes every interpolated value, so user input never becomes markup; `Html` values (and arrays
 * of them) are inserted as they are, `null` and `undefined` as nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let markup = strings[0] ?? ''
  values.forEach((value, index) => {
    markup += toMarkup(value) + (strings[index + 1] ?? '')
  })
  return new Html(markup)
}

function toMarkup(value: unknown): string {
  if (value instanceof Html) return value.markup
  if (Array.isArray(value)) return value.map(toMarkup).join('')
  if (value === null || value === undefined) return ''
  return String(value).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** What every page shows: the flash message of this request, and the CSRF token its forms carry. */
export interface PageContext {
  readonly notice: string | null
  readonly csrfToken: string
}

/** A page as a `text/html` response. */
export function htmlResponse(page: Html): Response {
  return new Response(page.markup, { headers: { 'content-type': 'text/html; charset=utf-8' } })
}

function layout(title: string, { notice }: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title></head>
<body>
  <nav><a href="/">Home</a> · <a href="/account">Account</a></nav>
  <h1>${title}</h1>
  ${notice === null ? null : html`<p id="notice" role="status"><mark>${notice}</mark></p>`}
  ${body}
</body>
</html>
`
}

/** A form that posts to `action` with the CSRF token, so the csrf plugin lets it through. */
function postForm({ csrfToken }: PageContext, action: string, fields: Html, button: string): Html {
  return html`<form method="post" action="${action}">
    <input type="hidden" name="authenticity_token" value="${csrfToken}">
    ${fields}<button>${button}</button>
  </form>`
}

/** The home page: the visit counter and its button, and who is logged in. */
export function homePage(context: PageContext, user: User | undefined, visits: number): Html {
  const account = user
    ? html`<p>Logged in as <strong id="user">${user.name}</strong>. <a href="/account">Your account</a></p>
  ${postForm(context, '/logout', html``, 'Log out')}`
    : html`<p>Not logged in. <a href="/login">Log in</a></p>`
  return layout(
    'elysia-sessions demo',
    context,
    html`<p>Visits counted in this session: <output id="visits">${visits}</output></p>
  ${postForm(context, '/visits', html``, 'Count a visit')}
  ${account}
  <ul>
    <li><a href="/account">/account</a>: a page behind the auth guard</li>
    <li><a href="/me">/me</a>: the logged-in user as JSON; without a login, API clients get 401</li>
    <li><a href="/admin">/admin</a>: how many sessions exist, and who is logged in</li>
    <li><a href="/health">/health</a>: a route with <code>{ session: false }</code></li>
  </ul>`,
  )
}

/** The login form. */
export function loginPage(context: PageContext): Html {
  return layout(
    'Log in',
    context,
    postForm(
      context,
      '/login',
      html`<label>User name <input name="username" required maxlength="64" autofocus></label>
    `,
      'Log in',
    ),
  )
}

/** The page only a logged-in user sees. */
export function accountPage(context: PageContext, user: User, expiresAt: number | null): Html {
  return layout(
    'Your account',
    context,
    html`<p>Logged in as <strong id="user">${user.name}</strong> since ${user.loggedInAt}.</p>
  <p>This page is behind <code>{ auth: true }</code>: without a login it redirects to the login page.</p>
  ${expiresAt === null ? null : html`<p>Your session expires at ${new Date(expiresAt).toISOString()} unless you come back.</p>`}
  <p><a href="/account/devices">Your devices</a>: where else you are logged in.</p>
  ${postForm(context, '/logout', html``, 'Log out')}`,
  )
}

/**
 * Every session of the logged-in user, this one marked, with "log out everywhere else". Session ids stay off the
 * page: the list shows when each session began and when it expires.
 */
export function devicesPage(context: PageContext, current: Session, devices: readonly Session[]): Html {
  const rows = devices.map(
    (device) => html`<tr${device.id === current.id ? html` class="current"` : null}>
      <td>${device.id === current.id ? 'This device' : 'Another device'}</td>
      <td>${timeOf(device.createdAt)}</td>
      <td>${timeOf(device.expiresAt)}</td>
    </tr>`,
  )
  return layout(
    'Your devices',
    context,
    html`<p>You are logged in on <strong id="device-count">${devices.length}</strong> device(s).</p>
  <table>
    <thead><tr><th>Session</th><th>Started</th><th>Expires</th></tr></thead>
    <tbody>${rows}</tbody>
  </table>
  ${postForm(context, '/account/devices/log-out-others', html``, 'Log out everywhere else')}`,
  )
}

function timeOf(epochMs: number | null): string {
  return epochMs === null ? '' : new Date(epochMs).toISOString()
}
