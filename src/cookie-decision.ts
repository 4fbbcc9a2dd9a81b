import type { SessionReport } from './session-state.js'

/** What the response does with the session cookie: leave it, send the signed id, or clear it. */
export type CookieAction = 'none' | 'send' | 'clear'

/**
 * The cookie action for a request whose session ended as `report` says. The browser's cookie is cleared when the
 * session was destroyed (and nothing written since) or when it named no live session; it gets the signed id when
 * the session now lives under an id or an expiry the browser does not have, or when its signature must be renewed.
 */
export function cookieActionFor(report: SessionReport): CookieAction {
  if (report.status === 'destroyed') return 'clear'
  if (report.idChanged || report.expiryMoved) return 'send'
  switch (report.incomingCookie) {
    case 'names-no-session':
      return 'clear'
    case 'old-secret':
      return 'send'
    case 'none':
    case 'current':
      return 'none'
  }
}
