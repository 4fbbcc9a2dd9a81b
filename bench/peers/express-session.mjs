// express-session 1.19 on Express 5 (Node), on the benchmark's three routes. STORE=memory uses its MemoryStore;
// STORE=sqlite uses better-sqlite3-session-store on better-sqlite3 with the file SESSIONS_PATH in WAL mode.
//
// Fair settings: resave false and saveUninitialized false (a write only when the handler changed the session),
// rolling false, a one-hour cookie with HttpOnly and SameSite=Lax, no ETag and no X-Powered-By. express-session
// touches the store on every request that did not save, which is a write; elysia-sessions touches at most once per
// tenth of the timeout, so the store's touch is throttled the same way (the read-only route then writes nothing).
import Database from 'better-sqlite3'
import SqliteStoreFactory from 'better-sqlite3-session-store'
import express from 'express'
import session from 'express-session'
import { serve, throttleTouch } from './serve.mjs'

const TIMEOUT_MS = 3_600_000
const secret = process.env.SESSION_SECRET
const kind = process.env.STORE ?? 'memory'

let store
let closeStore = () => {}
if (kind === 'memory') {
  store = new session.MemoryStore()
} else if (kind === 'sqlite') {
  const db = new Database(process.env.SESSIONS_PATH)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  const SqliteStore = SqliteStoreFactory(session)
  store = new SqliteStore({ client: db })
  closeStore = () => db.close()
} else {
  throw new Error(`STORE must be memory or sqlite, not ${kind}`)
}
throttleTouch(store, TIMEOUT_MS / 10)

const app = express()
app.set('etag', false)
app.set('x-powered-by', false)
app.use(
  session({
    secret,
    name: 'sessid',
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: TIMEOUT_MS },
  }),
)

function count(req, res) {
  const counter = (req.session.counter ?? 0) + 1
  req.session.counter = counter
  res.type('text/plain').send(String(counter))
}
app.get('/a', count)
app.get('/b', (req, res) => {
  res.type('text/plain').send(String(req.session.counter ?? 0))
})
app.get('/c', count)

serve(app.listen(0, '127.0.0.1'), closeStore)
