/**
 * The floor under any signed-cookie session plugin for Elysia: the same two hooks as elysia-sessions (synchronous, as
 * the plugin's are on an engine with synchronous calls), doing only what no such plugin can skip. Each request's
 * Cookie header is read and its HMAC checked; a request without a cookie gets a new signed id in Set-Cookie. No
 * session is loaded or stored, so the routes answer like bare Elysia's. The gap between this app and bare Elysia is
 * what hooks, header access, HMAC and Set-Cookie cost before any storage.
 */
import { Elysia } from 'elysia'
import { readCookie } from '../../src/cookie-header.js'
import { generateSessionId } from '../../src/session-id.js'
import { createCookieSigner } from '../../src/signing.js'

const COOKIE = 'sessid'
const ATTRIBUTES = { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 3_600 } as const

/** The floor app (GET /a, /b and /c as bench/load uses them), signing with `secret`. */
export function floorApp(secret: string) {
  const signer = createCookieSigner([secret])
  const needsCookie = new WeakSet<Request>()

  const signedCookieHooks = new Elysia({ name: 'signed-cookie-floor' })
    .resolve({ as: 'scoped' }, function readSignedCookie({ request }) {
      const raw = readCookie(request.headers.get('cookie'), COOKIE)
      if (raw === undefined) needsCookie.add(request)
      return { verified: raw === undefined ? null : signer.verify(raw) }
    })
    .mapResponse({ as: 'scoped' }, function sendNewCookie({ request, set }) {
      if (!needsCookie.delete(request)) return
      const response = set as { cookie?: Record<string, unknown> }
      response.cookie ??= {}
      response.cookie[COOKIE] = {
        ...ATTRIBUTES,
        encode: (value: string) => value,
        value: signer.sign(generateSessionId()),
      }
    })

  return new Elysia()
    .use(signedCookieHooks)
    .get('/a', () => '1')
    .get('/b', () => '0')
    .get('/c', () => '1')
}
