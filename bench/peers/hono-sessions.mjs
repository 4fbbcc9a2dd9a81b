// hono-sessions 0.8 on Hono 4 (Bun), on the benchmark's three routes. STORE=memory uses its MemoryStore;
// STORE=sqlite its BunSqliteStore on bun:sqlite with the file SESSIONS_PATH in WAL mode (synchronous NORMAL, as
// elysia-sessions' SQLite engine).
//
// Fair settings: the cookie carries the session id sealed with the 32+ character secret (hono-sessions' only way to
// protect it), a one-hour session, HttpOnly and SameSite=Lax. autoExtendExpiration is off: with it on, every request
// stamps the access time and writes the session, so the read-only route would write; writes still extend the expiry.
// hono-sessions has no saveUninitialized option: a request without a cookie always creates a stored session, and the
// cookie is sent (sealed again) on every response.
import { Database } from 'bun:sqlite'
import { Hono } from 'hono'
import { MemoryStore, sessionMiddleware } from 'hono-sessions'
import { BunSqliteStore } from 'hono-sessions/bun-sqlite-store'
import { serveBun } from './serve.mjs'

const TIMEOUT_S = 3_600
const kind = process.env.STORE ?? 'memory'

let store
let db
if (kind === 'memory') {
  store = new MemoryStore()
} else if (kind === 'sqlite') {
  db = new Database(process.env.SESSIONS_PATH)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  store = new BunSqliteStore(db)
} else {
  throw new Error(`STORE must be memory or sqlite, not ${kind}`)
}

const app = new Hono()
app.use(
  '*',
  sessionMiddleware({
    store,
    encryptionKey: process.env.SESSION_SECRET,
    expireAfterSeconds: TIMEOUT_S,
    autoExtendExpiration: false,
    sessionCookieName: 'sessid',
    cookieOptions: { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: TIMEOUT_S },
  }),
)

function count(c) {
  const session = c.get('session')
  const counter = (session.get('counter') ?? 0) + 1
  session.set('counter', counter)
  return c.text(String(counter))
}
app.get('/a', count)
app.get('/b', (c) => c.text(String(c.get('session').get('counter') ?? 0)))
app.get('/c', count)

serveBun({ fetch: app.fetch }, () => db?.close())
