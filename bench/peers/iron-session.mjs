// iron-session 9 on Bun.serve (no framework), on the benchmark's three routes. It keeps the whole session in the
// cookie, sealed with iron (AES-256-CBC and HMAC-SHA256 under keys derived from the 32+ character password).
//
// iron-session belongs to no framework; its README names `webCookies(request, headers)` as the adapter for Bun and
// other web-standard runtimes, with `new Response(body, { headers })`, so each route does exactly that in a plain
// Bun.serve route handler. Options: the secret as `password`, cookie `sessid`, `ttl` one hour (the cookie's Max-Age is
// then the ttl minus 60 s, iron-session's default), HttpOnly, SameSite=Lax and Path=/ (its defaults), secure false
// (the benchmark speaks plain HTTP). `session.save()` runs only when the handler changed the session, so the
// read-only route sends no cookie.
import { getIronSession, webCookies } from 'iron-session'
import { serveBun } from './serve.mjs'

const options = {
  password: process.env.SESSION_SECRET,
  cookieName: 'sessid',
  ttl: 3_600,
  cookieOptions: { secure: false },
}
const TEXT = 'text/plain;charset=utf-8'

async function count(request) {
  const headers = new Headers({ 'content-type': TEXT })
  const session = await getIronSession(webCookies(request, headers), options)
  session.counter = (session.counter ?? 0) + 1
  await session.save()
  return new Response(String(session.counter), { headers })
}

async function read(request) {
  const headers = new Headers({ 'content-type': TEXT })
  const session = await getIronSession(webCookies(request, headers), options)
  return new Response(String(session.counter ?? 0), { headers })
}

serveBun({
  routes: { '/a': { GET: count }, '/b': { GET: read }, '/c': { GET: count } },
  fetch: () => new Response('Not Found', { status: 404 }),
})
