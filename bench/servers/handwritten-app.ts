/**
 * The practical ceiling for a signed server-side session: what an Elysia user writes by hand without a library, on
 * the three benchmark routes with the counter semantics of elysia-sessions' rows. Sessions live in a `Map`; the cookie
 * is the same shape as ours, a base64url id of 192 random bits, a dot and its HMAC-SHA256 in base64url
 * (`Bun.CryptoHasher`), checked in constant time. The cookie goes through Elysia's cookie jar (`cookie.sessid.set`),
 * as Elysia's documentation writes cookies, and only when a session is created. Reads slide the expiry, as the memory
 * engine's touch does. No hooks and nothing from src/: each handler calls two plain functions.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { type Cookie, Elysia } from 'elysia'

const TTL_MS = 3_600_000
const ID_BYTES = 24
const MAC_BYTES = 32

interface SessionData {
  counter: number
  expiresAt: number
}

/**
 * The hand-written app (GET /a, /b and /c as bench/load uses them) signing with `secret`, and its sessions. With
 * `sweepExpired: false` it never walks the `Map` for expired sessions, as the scale part's engines never sweep.
 */
export function handwrittenApp(secret: string, { sweepExpired = true }: { sweepExpired?: boolean } = {}) {
  const sessions = new Map<string, SessionData>()
  const keyed = new Bun.CryptoHasher('sha256', secret)
  const mac = (id: string) => keyed.copy().update(id).digest()

  /** The session named by a validly signed, unexpired cookie, with its expiry slid forward; otherwise undefined. */
  function loadSession(cookie: Cookie<unknown>): SessionData | undefined {
    const value = cookie.value
    if (typeof value !== 'string') return undefined
    const dot = value.indexOf('.')
    if (dot < 0) return undefined
    const id = value.slice(0, dot)
    const given = Buffer.from(value.slice(dot + 1), 'base64url')
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(id))) return undefined
    const session = sessions.get(id)
    if (!session) return undefined
    const now = Date.now()
    if (session.expiresAt <= now) {
      sessions.delete(id)
      return undefined
    }
    session.expiresAt = now + TTL_MS
    return session
  }

  /** A new stored session, its signed id sent in Set-Cookie. */
  function createSession(cookie: Cookie<unknown>): SessionData {
    const id = randomBytes(ID_BYTES).toString('base64url')
    const session = { counter: 0, expiresAt: Date.now() + TTL_MS }
    sessions.set(id, session)
    cookie.set({
      value: `${id}.${mac(id).toString('base64url')}`,
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: TTL_MS / 1000,
    })
    return session
  }

  // Elysia's jar makes any cookie asked for, so `sessid` is always there at runtime.
  function increment({ cookie: { sessid } }: { cookie: Record<string, Cookie<unknown>> }): string {
    const session = loadSession(sessid!) ?? createSession(sessid!)
    session.counter += 1
    return `${session.counter}`
  }

  // Expired sessions would otherwise stay in the Map for good.
  if (sweepExpired) {
    setInterval(() => {
      const now = Date.now()
      for (const [id, session] of sessions) if (session.expiresAt <= now) sessions.delete(id)
    }, 60_000).unref()
  }

  const app = new Elysia()
    .get('/a', increment)
    .get('/b', ({ cookie: { sessid } }) => {
      // As in elysia-sessions' rows: the source returns no call, which Elysia would compile as async.
      let counter = loadSession(sessid!)?.counter
      counter ??= 0
      return `${counter}`
    })
    .get('/c', increment)
  return { app, sessions }
}
