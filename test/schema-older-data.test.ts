import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import {
  type SessionEngine,
  type SessionLogger,
  type SessionSchema,
  type StandardSchemaV1,
  session,
} from 'elysia-sessions'
import * as v from 'valibot'
import { z } from 'zod'
import { FEATURE_ENGINES } from './support/engines.js'
import { cookiePairOf, idOf, SECRET, send } from './support/http.js'

/** What a handler shows for a value that is absent, since JSON has no undefined. */
const NONE = '(none)'
const shown = (value: unknown) => (value === undefined ? NONE : value)

/** A string that looks like a credential: it must never reach a log line. */
const SECRET_LOOKING = 'sk_live_4f3c2b1a0f9e8d7c6b5a'

/** The schema an older version of the app wrote with. */
const OLD_SCHEMA = {
  cart: t.Array(t.String()),
  theme: t.String(),
  token: t.String(),
  note: t.String(),
  size: t.String(),
}

/** What the old app's /write-old stores, as a plugin without a schema reads it back. */
const WRITTEN_BY_OLD_APP = { cart: ['tea', 'jam'], theme: 'blue', token: SECRET_LOOKING, note: 'kept', size: 'large' }

/** A Standard Schema whose validate throws on every value but a number. */
const throwingNumbers: StandardSchemaV1<number> = {
  '~standard': {
    version: 1,
    vendor: 'throwing',
    validate(value) {
      if (typeof value !== 'number') throw new Error(`cannot validate ${String(value)}`)
      return { value }
    },
  },
}

/** The schema of the current version: every key but `note` changed shape. */
const NEW_SCHEMA = {
  cart: t.Array(t.Object({ sku: t.String(), qty: t.Integer() })),
  theme: t.Union([t.Literal('light'), t.Literal('dark')], { default: 'light' }),
  token: v.pipe(v.string(), v.regex(/^key_/)),
  note: t.String(),
  size: throwingNumbers,
}

/** A logger that records what it was told. */
function recordingLogger(withWarn = true) {
  const warnings: string[] = []
  const errors: string[] = []
  const logger: SessionLogger = withWarn
    ? { warn: (message: string) => warnings.push(message), error: (message: string) => errors.push(message) }
    : { error: (message: string) => errors.push(message) }
  return { logger, warnings, errors }
}

const engines: SessionEngine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()))
})

describe.each(FEATURE_ENGINES)('data written by an older app version, on the %s engine', (_, makeEngine) => {
  /** The old app, which writes with OLD_SCHEMA, and tools to read the same engine back. */
  async function deployment() {
    const engine = await makeEngine()
    engines.push(engine)
    const oldApp = new Elysia()
      .use(session({ secret: SECRET, engine, gcInterval: 0, schema: OLD_SCHEMA }))
      .get('/write-old', ({ session }) => {
        session.set('cart', ['tea', 'jam'])
        session.set('theme', 'blue')
        session.set('token', SECRET_LOOKING)
        session.set('note', 'kept')
        session.set('size', 'large')
        return 'ok'
      })
    // A plugin without a schema on the same engine sees exactly what is stored.
    const inspector = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0 }))
    const stored = async (cookie: string | undefined) => {
      const found = await inspector.decorator.sessions.get(idOf(cookie))
      return found?.data
    }
    const written = await send(oldApp, '/write-old')
    expect(written.status).toBe(200)
    const cookie = cookiePairOf(written)
    expect(await stored(cookie)).toEqual(WRITTEN_BY_OLD_APP)
    return { engine, cookie, stored }
  }

  /** The new app on the same engine, reading with `schema`. */
  function newApp(engine: SessionEngine, logger: SessionLogger, schema: SessionSchema = NEW_SCHEMA) {
    return new Elysia()
      .use(session({ secret: SECRET, engine, gcInterval: 0, logger, schema }))
      .get('/read/:key', ({ session, params }) => ({
        value: shown(session.get(params.key as keyof typeof NEW_SCHEMA)),
        has: session.has(params.key as keyof typeof NEW_SCHEMA),
      }))
      .get('/data', ({ session }) => session.data)
      .get('/nothing', () => 'ok')
      .get('/write-note', ({ session }) => {
        session.set('note', 'new')
        return 'ok'
      })
      .get('/read-cart-then-write-note', ({ session }) => {
        const cart = shown(session.get('cart'))
        session.set('note', 'new')
        return cart
      })
      .get('/replace-theme', ({ session }) => {
        const before = session.get('theme')
        session.set('theme', 'dark')
        return { before, after: session.get('theme') }
      })
  }

  test('a value that no longer matches reads as absent, or as its default, and never fails the request', async () => {
    const { engine, cookie } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const expected: Record<string, unknown> = {
      cart: { value: NONE, has: false },
      theme: { value: 'light', has: false },
      token: { value: NONE, has: false },
      size: { value: NONE, has: false },
      note: { value: 'kept', has: true },
    }
    for (const [key, result] of Object.entries(expected)) {
      const response = await send(app, `/read/${key}`, { cookie })
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual(result)
    }
  })

  test('data leaves stale values out, keeping the valid ones and the defaults', async () => {
    const { engine, cookie } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const response = await send(app, '/data', { cookie })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ theme: 'light', note: 'kept' })
  })

  test('sessions.get(id) reads stale values as absent too', async () => {
    const { engine, cookie } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const found = await app.decorator.sessions.get(idOf(cookie))
    expect(found?.get('cart')).toBeUndefined()
    expect(found?.get('theme')).toBe('light')
    expect(found?.get('note')).toBe('kept')
    expect(found?.data).toEqual({ theme: 'light', note: 'kept' })
  })

  test('each stale key is reported once per plugin, with its key and path but never its value', async () => {
    const { engine, cookie } = await deployment()
    const { logger, warnings, errors } = recordingLogger()
    const app = newApp(engine, logger)
    for (const key of ['cart', 'token', 'cart', 'token', 'theme']) await send(app, `/read/${key}`, { cookie })
    await send(app, '/data', { cookie })
    await send(app, '/read/cart', { cookie })
    expect(errors).toEqual([])
    expect(warnings).toHaveLength(4)
    const about = (key: string) => warnings.filter((message) => message.includes(`"${key}"`))
    expect(about('cart')).toHaveLength(1)
    expect(about('cart')[0]).toContain('/0')
    expect(about('token')).toHaveLength(1)
    expect(about('theme')).toHaveLength(1)
    expect(about('size')).toHaveLength(1)
    expect(about('note')).toHaveLength(0)
    for (const message of warnings) {
      expect(message).not.toContain(SECRET_LOOKING)
      expect(message).not.toContain('sk_live')
      expect(message).not.toContain('tea')
      expect(message).not.toContain('blue')
      expect(message).not.toContain('large')
    }
    // Another plugin reports for itself.
    const second = recordingLogger()
    const otherApp = newApp(engine, second.logger)
    await send(otherApp, '/read/cart', { cookie })
    await send(otherApp, '/read/cart', { cookie })
    expect(second.warnings).toHaveLength(1)
    expect(second.warnings[0]).toContain('"cart"')
    expect(warnings).toHaveLength(4)
  })

  test('a logger that throws cannot make a stale read fail the request', async () => {
    const { engine, cookie } = await deployment()
    const failing: SessionLogger = {
      warn() {
        throw new Error('the log sink is down')
      },
      error() {
        throw new Error('the log sink is down')
      },
    }
    const response = await send(newApp(engine, failing), '/read/cart', { cookie })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ value: NONE, has: false })
  })

  test('a logger without warn gets the report through error', async () => {
    const { engine, cookie } = await deployment()
    const { logger, errors } = recordingLogger(false)
    const app = newApp(engine, logger)
    await send(app, '/read/theme', { cookie })
    await send(app, '/read/theme', { cookie })
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('"theme"')
    expect(errors[0]).not.toContain('blue')
  })

  test('a read-only request removes nothing', async () => {
    const { engine, cookie, stored } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    for (const key of ['cart', 'theme', 'token', 'size']) await send(app, `/read/${key}`, { cookie })
    await send(app, '/data', { cookie })
    await send(app, '/nothing', { cookie })
    expect(await stored(cookie)).toEqual(WRITTEN_BY_OLD_APP)
  })

  test('the next write of the session removes every stale value, even ones that request never read', async () => {
    const { engine, cookie, stored } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const response = await send(app, '/write-note', { cookie })
    expect(response.status).toBe(200)
    expect(await stored(cookie)).toEqual({ note: 'new' })
  })

  test('a write after reading one stale value removes the others too', async () => {
    const { engine, cookie, stored } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const response = await send(app, '/read-cart-then-write-note', { cookie })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(NONE)
    expect(await stored(cookie)).toEqual({ note: 'new' })
  })

  test('a stale value replaced in the request is saved, not removed', async () => {
    const { engine, cookie, stored } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const response = await send(app, '/replace-theme', { cookie })
    expect(await response.json()).toEqual({ before: 'light', after: 'dark' })
    expect(await stored(cookie)).toEqual({ theme: 'dark', note: 'kept' })
    const read = await send(app, '/read/theme', { cookie })
    expect(await read.json()).toEqual({ value: 'dark', has: true })
  })

  test('a save through sessions.get(id) removes stale values too', async () => {
    const { engine, cookie, stored } = await deployment()
    const app = newApp(engine, recordingLogger().logger)
    const found = await app.decorator.sessions.get(idOf(cookie))
    if (!found) throw new Error('the session was not found')
    found.set('note', 'from admin')
    await found.save()
    expect(await stored(cookie)).toEqual({ note: 'from admin' })
  })

  test('values a Zod schema now refuses are stale too, and removed by the next write', async () => {
    const { engine, cookie, stored } = await deployment()
    const { logger, warnings } = recordingLogger()
    const app = newApp(engine, logger, { cart: z.array(z.number()), note: z.string() })
    const read = await send(app, '/read/cart', { cookie })
    expect(read.status).toBe(200)
    expect(await read.json()).toEqual({ value: NONE, has: false })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('"cart"')
    expect(warnings[0]).toContain('/0')
    expect(warnings[0]).not.toContain('tea')
    await send(app, '/write-note', { cookie })
    // Keys outside the new schema are none of its business: they stay.
    expect(await stored(cookie)).toEqual({ note: 'new', theme: 'blue', token: SECRET_LOOKING, size: 'large' })
  })
})
