/**
 * elysia-sessions with the engine named by ENGINE (memory, sqlite, file, redis or postgres), imported from src/, on
 * the three benchmark routes: /a reads a counter and writes it plus one, /b only reads it, /c is /a (the runner sends
 * no cookie there, so each request makes a session). `openEngine` (engine.ts) reads the engine's settings from the
 * environment. CSRF=1 adds csrf(). SCHEMA=1 declares the session's data with a three-key schema and keeps the counter
 * with session.get/set instead of session.int.
 */
import { Elysia } from 'elysia'
import { csrf } from '../../src/csrf.js'
import { session } from '../../src/plugin.js'
import type { Session } from '../../src/session.js'
import { benchSchema } from '../schema.js'
import { openEngine } from './engine.js'
import { benchSecret, serve } from './serve.js'

const engine = await openEngine(process.env['ENGINE'])

function increment({ session }: { session: Session }): string {
  const counter = (session.intOrNull('counter') ?? 0) + 1
  session.int('counter', counter)
  return `${counter}`
}

// Elysia compiles a handler whose source returns a call (`String(counter)`) as async, which bare Elysia's handlers are
// not; these return none, so each row differs from bare by its session alone. The `let` keeps Bun from inlining the
// read into the return.
function read({ session }: { session: Session }): string {
  let counter = session.intOrNull('counter')
  counter ??= 0
  return `${counter}`
}

function typedApp() {
  return new Elysia()
    .use(session({ secret: benchSecret(), engine, schema: benchSchema }))
    .get('/a', ({ session }) => {
      const counter = session.get('counter') + 1
      session.set('counter', counter)
      return `${counter}`
    })
    .get('/b', ({ session }) => {
      let counter = session.get('counter')
      counter += 0
      return `${counter}`
    })
    .get('/c', ({ session }) => {
      const counter = session.get('counter') + 1
      session.set('counter', counter)
      return `${counter}`
    })
}

function plainApp() {
  return (
    new Elysia()
      .use(session({ secret: benchSecret(), engine }))
      // csrf() checks none of these GETs: with CSRF=1 the row shows what it costs the requests it lets through.
      .use(process.env['CSRF'] === '1' ? csrf() : new Elysia())
      .get('/a', increment)
      .get('/b', read)
      .get('/c', increment)
  )
}

const app = process.env['SCHEMA'] === '1' ? typedApp() : plainApp()

serve(app, () => app.decorator.sessions.close())
