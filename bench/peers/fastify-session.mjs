// @fastify/session 11 with @fastify/cookie on Fastify 5 (Node) and its default in-memory store, on the benchmark's
// three routes. Fair settings: saveUninitialized false and rolling false (a write only when the handler changed the
// session), a one-hour cookie with HttpOnly and SameSite=Lax, secure false (the benchmark speaks plain HTTP, and the
// plugin would not save at all with its default secure: true), no request logging.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { serve } from './serve.mjs'

const TIMEOUT_MS = 3_600_000

const app = Fastify({ logger: false })
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: process.env.SESSION_SECRET,
  cookieName: 'sessid',
  saveUninitialized: false,
  rolling: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: TIMEOUT_MS },
})

function count(request, reply) {
  const counter = (request.session.get('counter') ?? 0) + 1
  request.session.set('counter', counter)
  reply.type('text/plain').send(String(counter))
}
app.get('/a', count)
app.get('/b', (request, reply) => {
  reply.type('text/plain').send(String(request.session.get('counter') ?? 0))
})
app.get('/c', count)

await app.ready()
serve(app.server)
app.server.listen(0, '127.0.0.1')
