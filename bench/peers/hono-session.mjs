// @hono/session 0.2 on Hono 4 (Bun), Hono's official session middleware, on the benchmark's three routes. It keeps
// the whole session in the cookie: a JWE (dir + A256GCM, via jose) under a key derived with HKDF from the secret.
//
// Set up as its README shows: `useSession({ secret, duration })` in front of the routes, `session.update()` to write
// and `session.get()` to read. `duration.absolute` is one hour (the README recommends setting it; without it the
// cookie never expires). The cookie's name (`sid`) and attributes (HttpOnly, SameSite=Lax, Path=/) are the
// middleware's own and cannot be changed; Max-Age follows the duration. Only a written session is encrypted again and
// sent, so the read-only route sends no cookie. A request without a cookie makes a new session in the cookie.
import { useSession } from '@hono/session'
import { Hono } from 'hono'
import { serveBun } from './serve.mjs'

const TIMEOUT_S = 3_600

const app = new Hono()
app.use(useSession({ secret: process.env.SESSION_SECRET, duration: { absolute: TIMEOUT_S } }))

async function count(c) {
  const session = c.var.session
  await session.update((data) => ({ counter: (data?.counter ?? 0) + 1 }))
  return c.text(String(session.data.counter))
}
app.get('/a', count)
app.get('/b', async (c) => c.text(String((await c.var.session.get())?.counter ?? 0)))
app.get('/c', count)

serveBun({ fetch: app.fetch })
