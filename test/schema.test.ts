import { afterEach, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import {
  type Session,
  SessionConfigError,
  type SessionEngine,
  type SessionSchema,
  SessionValueError,
  type StandardSchemaV1,
  session,
  storable,
  withDefault,
} from 'elysia-sessions'
import * as v from 'valibot'
import { z } from 'zod'
import { FEATURE_ENGINES } from './support/engines.js'
import { cookiePairOf, type Handler, idOf, SECRET, send, setCookieOf } from './support/http.js'

/** What a handler shows for a value that is absent, since JSON has no undefined. */
const NONE = '(none)'
const shown = (value: unknown) => (value === undefined ? NONE : value)

/** A string that looks like a credential: it must never reach an error message or a log line. */
const SECRET_LOOKING = 'sk_live_4f3c2b1a0f9e8d7c6b5a'

const SCHEMA = {
  userId: t.Number(),
  cart: t.Array(t.Object({ sku: t.String(), qty: t.Integer({ minimum: 1 }) })),
  theme: t.Union([t.Literal('light'), t.Literal('dark')]),
  visits: withDefault(t.Integer(), 0),
  lang: t.String({ default: 'en' }),
  anything: t.Unknown(),
  tags: z.array(z.string().min(1)),
  score: z.number().int().default(0),
  length: z.string().transform((text) => text.length),
  apiKey: v.pipe(v.string(), v.regex(/^key_/)),
  nickname: v.optional(v.string(), 'anon'),
  profile: v.object({ name: v.string(), links: v.array(v.string()) }),
}

const engines: SessionEngine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()))
})

/** Runs `use` and returns what it returned, or keeps what it threw in `caught` and returns `{ threw: true }`. */
function attempt(caught: unknown[], use: () => unknown): unknown {
  try {
    return { value: shown(use()) }
  } catch (error) {
    caught.push(error)
    return { threw: true }
  }
}

/** The one error a request caught, as a plain Error. */
function onlyError(caught: unknown[]): Error {
  expect(caught).toHaveLength(1)
  const [error] = caught
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${String(error)}`)
  return error
}

/** An app with the routes of `withRoutes`, as a `session()` plugin without a schema types it. */
type PlainApp = ReturnType<typeof session>

/**
 * Adds routes that drive the session by key to `app`. Keys come from the URL, so the session is used through the
 * plain `Session` type, as JavaScript would.
 */
function withRoutes<App>(app: App, caught: unknown[]): App {
  ;(app as unknown as PlainApp)
    .post('/set/:key', ({ session, params, body }) =>
      attempt(caught, () => session.set(params.key, (body as { value: unknown }).value)),
    )
    .get('/get/:key', ({ session, params }) => attempt(caught, () => session.get(params.key)))
    .get('/has/:key', ({ session, params }) => attempt(caught, () => session.has(params.key)))
    .post('/delete/:key', ({ session, params }) => attempt(caught, () => session.delete(params.key)))
    .get('/data', ({ session }) => session.data)
  return app
}

/** Sets `key` to `value` and reports what the request returned. */
async function setOver(app: Handler, key: string, value: unknown, cookie?: string) {
  const response = await send(app, `/set/${key}`, { method: 'POST', json: { value }, cookie })
  expect(response.status).toBe(200)
  return { response, result: (await response.json()) as unknown, cookie: cookiePairOf(response) ?? cookie }
}

async function getOver(app: Handler, key: string, cookie?: string): Promise<unknown> {
  const response = await send(app, `/get/${key}`, { cookie })
  expect(response.status).toBe(200)
  return ((await response.json()) as { value?: unknown }).value
}

async function hasOver(app: Handler, key: string, cookie?: string): Promise<unknown> {
  const response = await send(app, `/has/${key}`, { cookie })
  expect(response.status).toBe(200)
  return ((await response.json()) as { value?: unknown }).value
}

describe('session({ schema }) refuses a schema it cannot use', () => {
  const configError = (schema: unknown) => () => session({ secret: SECRET, schema: schema as SessionSchema })

  test('a TypeBox schema, a Zod schema and a Valibot schema are each accepted', () => {
    expect(() => session({ secret: SECRET, schema: SCHEMA })).not.toThrow()
  })

  test.each([
    ['a string', 'number'],
    ['a number', 5],
    ['null', null],
    ['a function', () => 1],
    ['a plain object', { type: 'number' }],
    ['a Standard Schema of another version', { '~standard': { version: 2, vendor: 'x', validate: () => ({}) } }],
  ])('a key whose schema is %s is a SessionConfigError naming the key', (_, schema) => {
    expect(configError({ fine: t.String(), broken: schema })).toThrow(SessionConfigError)
    expect(configError({ fine: t.String(), broken: schema })).toThrow(/schema\.broken\b/)
  })

  test.each([
    ['a number', 5],
    ['a string', 'userId'],
    ['an array', [t.String()]],
    ['null', null],
  ])('a schema that is %s is a SessionConfigError', (_, schema) => {
    expect(configError(schema)).toThrow(SessionConfigError)
  })

  test.each([
    ['t.Date()', t.Date()],
    ['Type.Date()', Type.Date()],
    ['Type.Uint8Array()', Type.Uint8Array()],
    ['Type.BigInt()', Type.BigInt()],
    ['t.File()', t.File()],
    ['t.Files()', t.Files()],
    ['a t.Date() inside an object', t.Object({ at: t.Date() })],
    ['a t.Date() inside an array', t.Array(t.Date())],
    ['a BigInt inside a union', t.Union([t.String(), Type.BigInt()])],
    [
      'a custom transform',
      Type.Transform(Type.String())
        .Decode((text) => text.length)
        .Encode((length) => 'x'.repeat(length)),
    ],
  ])('%s, which JSON cannot hold or which converts values, is a SessionConfigError naming the key', (_, schema) => {
    expect(configError({ fine: t.String(), when: schema })).toThrow(SessionConfigError)
    expect(configError({ fine: t.String(), when: schema })).toThrow(/schema\.when\b/)
  })

  test.each([
    ['t.Integer()', t.Integer()],
    ['t.Integer({ minimum: 1 }) inside an object', t.Object({ qty: t.Integer({ minimum: 1 }) })],
    ['t.Numeric()', t.Numeric()],
    ['t.BooleanString()', t.BooleanString()],
    ['t.ObjectString(...)', t.ObjectString({ a: t.Number() })],
    ['t.ArrayString(...)', t.ArrayString(t.Number())],
  ])('Elysia’s request-parsing %s is accepted', (_, schema) => {
    expect(() => session({ secret: SECRET, schema: { value: schema } })).not.toThrow()
  })

  test.each([
    ['t.Number({ default: "zero" })', t.Number({ default: 'zero' })],
    ['t.Integer({ default: 1.5 })', t.Integer({ default: 1.5 })],
    ['an object default missing a property', t.Object({ a: t.String() }, { default: {} })],
    ['withDefault with a value of the wrong type', withDefault(t.String(), 5 as unknown as string)],
    ['a default JSON cannot hold', t.Unknown({ default: new Date(0) })],
  ])('a TypeBox default that fails its schema, %s, is a SessionConfigError naming the key', (_, schema) => {
    expect(configError({ counter: schema })).toThrow(SessionConfigError)
    expect(configError({ counter: schema })).toThrow(/schema\.counter\b/)
  })
})

describe.each(FEATURE_ENGINES)('schema-typed session data on the %s engine', (_, makeEngine) => {
  async function schemaApp() {
    const engine = await makeEngine()
    engines.push(engine)
    const caught: unknown[] = []
    const app = withRoutes(new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0, schema: SCHEMA })), caught)
      .post('/set-then-get/:key', ({ session, params, body }) =>
        attempt(caught, () => {
          const typed = session as Session
          typed.set(params.key, (body as { value: unknown }).value)
          return { value: shown(typed.get(params.key)), has: typed.has(params.key) }
        }),
      )
      .post('/set-invalid-then-get/:key', ({ session, params, body }) => {
        const typed = session as Session
        const result = attempt(caught, () => typed.set(params.key, (body as { value: unknown }).value))
        return { result, after: shown(typed.get(params.key)) }
      })
      .get('/visit', ({ session }) => {
        session.set('visits', session.get('visits') + 1)
        return session.get('visits')
      })
      .get('/frozen', ({ session }) => {
        const cart = session.get('cart')
        const data = session.data
        return {
          cart: cart !== undefined && Object.isFrozen(cart),
          item: cart?.[0] !== undefined && Object.isFrozen(cart[0]),
          data: Object.isFrozen(data),
          dataCart: Object.isFrozen(data.cart),
          change: attempt(caught, () => {
            ;(cart as unknown as { sku: string; qty: number }[]).push({ sku: 'sneaked', qty: 1 })
          }),
        }
      })
      .get('/set-mutated', ({ session }) => {
        const profile = { name: 'Ada', links: ['a'] }
        session.set('profile', profile)
        profile.links.push('changed after set')
        return session.get('profile')
      })
      .get('/set-not-json/:what', ({ session, params }) =>
        attempt(caught, () => {
          const values: Record<string, unknown> = {
            date: new Date(0),
            map: new Map(),
            nan: Number.NaN,
            function: () => 1,
            nested: { at: new Date(0) },
          }
          session.set('anything', values[params.what])
        }),
      )
      .get('/odd-key/:kind/:method', ({ session, params }) => {
        const keys: Record<string, unknown> = { number: 1, symbol: Symbol('k'), object: {}, undefined: undefined }
        const key = keys[params.kind] as never
        const typed = session as unknown as Record<string, (key: unknown, value?: unknown) => unknown>
        return attempt(caught, () => typed[params.method]?.call(session, key, 1))
      })
    return { app, caught, sessions: app.decorator.sessions, engine }
  }

  test('a value set is read back in the same request and the next, by get, has and data', async () => {
    const { app, caught } = await schemaApp()
    const cart = [{ sku: 'tea', qty: 2 }]
    const set = await setOver(app, 'cart', cart)
    expect(set.result).toEqual({ value: NONE })
    const cookie = set.cookie
    expect(cookie).toBeDefined()
    await setOver(app, 'userId', 42, cookie)
    await setOver(app, 'theme', 'dark', cookie)
    expect(await getOver(app, 'cart', cookie)).toEqual(cart)
    expect(await getOver(app, 'userId', cookie)).toBe(42)
    expect(await getOver(app, 'theme', cookie)).toBe('dark')
    expect(await hasOver(app, 'theme', cookie)).toBe(true)
    expect(await hasOver(app, 'tags', cookie)).toBe(false)
    const sameRequest = await send(app, '/set-then-get/tags', { method: 'POST', json: { value: ['a', 'b'] }, cookie })
    expect(await sameRequest.json()).toEqual({ value: { value: ['a', 'b'], has: true } })
    const data = await send(app, '/data', { cookie })
    expect(await data.json()).toEqual({
      userId: 42,
      cart,
      theme: 'dark',
      tags: ['a', 'b'],
      visits: 0,
      lang: 'en',
      score: 0,
      nickname: 'anon',
    })
    expect(caught).toEqual([])
  })

  test('values handed out are frozen, inside too, and a value is copied when set', async () => {
    const { app, caught } = await schemaApp()
    const { cookie } = await setOver(app, 'cart', [{ sku: 'tea', qty: 2 }])
    const response = await send(app, '/frozen', { cookie })
    expect(await response.json()).toEqual({
      cart: true,
      item: true,
      data: true,
      dataCart: true,
      change: { threw: true },
    })
    expect(onlyError(caught)).toBeInstanceOf(TypeError)
    expect(await getOver(app, 'cart', cookie)).toEqual([{ sku: 'tea', qty: 2 }])
    const mutated = await send(app, '/set-mutated')
    expect(await mutated.json()).toEqual({ name: 'Ada', links: ['a'] })
    expect(await getOver(app, 'profile', cookiePairOf(mutated))).toEqual({ name: 'Ada', links: ['a'] })
  })

  test.each([
    ['cart', [{ sku: 'tea', qty: 0 }], '/0/qty'],
    ['cart', [{ sku: 'tea', qty: 1 }, { sku: 'jam' }], '/1/qty'],
    ['cart', [{ sku: 'tea', qty: '5' }], '/0/qty'],
    ['theme', 'blue', ''],
    ['userId', '42', ''],
    ['tags', ['fine', ''], '/1'],
    ['score', 1.5, ''],
    ['profile', { name: 'Ada', links: ['a', 5] }, '/links/1'],
    ['length', 3, ''],
  ])(
    'set(%p, a value its schema refuses) is a SessionValueError naming the key and the path',
    async (key, value, path) => {
      const { app, caught } = await schemaApp()
      const { response, result } = await setOver(app, key, value)
      expect(result).toEqual({ threw: true })
      const error = onlyError(caught)
      expect(error).toBeInstanceOf(SessionValueError)
      expect(error).toBeInstanceOf(TypeError)
      expect(error.name).toBe('SessionValueError')
      const valueError = error as SessionValueError
      expect(valueError.key).toBe(key)
      expect(valueError.issues.length).toBeGreaterThan(0)
      expect(error.message).toContain(JSON.stringify(key))
      expect(error.message).toContain(path === '' ? 'at the top level' : `at ${path}`)
      // Nothing was stored: a fresh session that only failed gets no cookie.
      expect(setCookieOf(response)).toBeUndefined()
    },
  )

  test('a refused value names where it failed but never the value, which stays on issues', async () => {
    const { app, caught } = await schemaApp()
    await setOver(app, 'apiKey', SECRET_LOOKING)
    const error = onlyError(caught) as SessionValueError
    expect(error).toBeInstanceOf(SessionValueError)
    expect(error.message).toContain('"apiKey"')
    expect(error.message).not.toContain(SECRET_LOOKING)
    expect(error.message).not.toContain('sk_live')
    // Valibot's own message quotes the input, which is why the session keeps it off the error's message.
    expect(error.issues.map((issue) => issue.message).join(' ')).toContain(SECRET_LOOKING)
  })

  test('a refused or non-JSON value changes nothing: the old value remains, in the request and after it', async () => {
    const { app, caught, sessions } = await schemaApp()
    const { cookie } = await setOver(app, 'cart', [{ sku: 'tea', qty: 2 }])
    const refused = await send(app, '/set-invalid-then-get/cart', {
      method: 'POST',
      json: { value: [{ sku: 'jam', qty: -1 }] },
      cookie,
    })
    expect(await refused.json()).toEqual({ result: { threw: true }, after: [{ sku: 'tea', qty: 2 }] })
    expect(setCookieOf(refused)).toBeUndefined()
    expect(await getOver(app, 'cart', cookie)).toEqual([{ sku: 'tea', qty: 2 }])
    const stored = await sessions.get(idOf(cookie))
    expect(stored?.get('cart')).toEqual([{ sku: 'tea', qty: 2 }])
    expect(caught[0]).toBeInstanceOf(SessionValueError)

    await setOver(app, 'anything', { kept: true }, cookie)
    const notJson = await send(app, '/set-not-json/date', { cookie })
    expect(await notJson.json()).toEqual({ threw: true })
    expect(await getOver(app, 'anything', cookie)).toEqual({ kept: true })
  })

  test.each(['date', 'map', 'nan', 'function', 'nested'])(
    'a value JSON cannot hold (%s) is a TypeError from the JSON check, not a schema error, even for t.Unknown',
    async (what) => {
      const { app, caught, sessions } = await schemaApp()
      const response = await send(app, `/set-not-json/${what}`)
      expect(await response.json()).toEqual({ threw: true })
      const error = onlyError(caught)
      expect(error).toBeInstanceOf(TypeError)
      expect(error).not.toBeInstanceOf(SessionValueError)
      expect(error.message).toContain('anything')
      expect(setCookieOf(response)).toBeUndefined()
      expect(await sessions.count()).toBe(0)
    },
  )

  test('a key with a default reads as it while absent, counts as absent for has, and reading it stores nothing', async () => {
    const { app, sessions } = await schemaApp()
    for (const [key, fallback] of [
      ['visits', 0],
      ['lang', 'en'],
      ['score', 0],
      ['nickname', 'anon'],
    ] as const) {
      const read = await send(app, `/get/${key}`)
      expect(await read.json()).toEqual({ value: fallback })
      expect(setCookieOf(read)).toBeUndefined()
      const has = await send(app, `/has/${key}`)
      expect(await has.json()).toEqual({ value: false })
      expect(setCookieOf(has)).toBeUndefined()
    }
    const data = await send(app, '/data')
    expect(await data.json()).toEqual({ visits: 0, lang: 'en', score: 0, nickname: 'anon' })
    expect(setCookieOf(data)).toBeUndefined()
    expect(await sessions.count()).toBe(0)
  })

  test('a key without a default reads as undefined while absent and is left out of data', async () => {
    const { app } = await schemaApp()
    for (const key of ['userId', 'cart', 'theme', 'anything', 'tags', 'length', 'apiKey', 'profile']) {
      expect(await getOver(app, key)).toBe(NONE)
      expect(await hasOver(app, key)).toBe(false)
    }
    const data = (await (await send(app, '/data')).json()) as Record<string, unknown>
    expect(Object.keys(data).sort()).toEqual(['lang', 'nickname', 'score', 'visits'])
  })

  test('a counter with a default counts from its first request', async () => {
    const { app } = await schemaApp()
    const first = await send(app, '/visit')
    expect(await first.text()).toBe('1')
    const cookie = cookiePairOf(first)
    expect(await (await send(app, '/visit', { cookie })).text()).toBe('2')
    expect(await (await send(app, '/visit', { cookie })).text()).toBe('3')
    expect(await hasOver(app, 'visits', cookie)).toBe(true)
  })

  test('a value stored over a default is read instead of it, and reads as the default again once deleted', async () => {
    const { app } = await schemaApp()
    const { cookie } = await setOver(app, 'nickname', 'Ada')
    expect(await getOver(app, 'nickname', cookie)).toBe('Ada')
    await send(app, '/delete/nickname', { method: 'POST', cookie })
    expect(await getOver(app, 'nickname', cookie)).toBe('anon')
    expect(await hasOver(app, 'nickname', cookie)).toBe(false)
  })

  test('delete removes a value, in the request and after it; deleting an absent key is no error', async () => {
    const { app, caught, sessions } = await schemaApp()
    const { cookie } = await setOver(app, 'userId', 7)
    await setOver(app, 'theme', 'light', cookie)
    const deleted = await send(app, '/delete/userId', { method: 'POST', cookie })
    expect(await deleted.json()).toEqual({ value: NONE })
    expect(await getOver(app, 'userId', cookie)).toBe(NONE)
    expect(await hasOver(app, 'userId', cookie)).toBe(false)
    expect(await getOver(app, 'theme', cookie)).toBe('light')
    expect((await sessions.get(idOf(cookie)))?.has('userId')).toBe(false)
    const again = await send(app, '/delete/userId', { method: 'POST', cookie })
    expect(await again.json()).toEqual({ value: NONE })
    expect(caught).toEqual([])
  })

  test('a Standard Schema transform: set takes its input, get returns its output, in this request and the next', async () => {
    const { app, engine } = await schemaApp()
    const sameRequest = await send(app, '/set-then-get/length', { method: 'POST', json: { value: 'abc' } })
    expect(await sameRequest.json()).toEqual({ value: { value: 3, has: true } })
    const cookie = cookiePairOf(sameRequest)
    expect(await getOver(app, 'length', cookie)).toBe(3)
    expect((await (await send(app, '/data', { cookie })).json()) as unknown).toMatchObject({ length: 3 })
    // The input is what is stored: a plugin without a schema on the same engine reads it as it was set.
    const inspector = new Elysia()
      .use(session({ secret: SECRET, engine, gcInterval: 0 }))
      .get('/raw/:key', ({ session, params }) => ({ value: shown(session.get(params.key)) }))
    const raw = await send(inspector, '/raw/length', { cookie })
    expect(await raw.json()).toEqual({ value: 'abc' })
  })

  test.each(['get', 'set', 'has', 'delete'])(
    '%s of a key outside the schema is a TypeError naming the key',
    async (method) => {
      const { app, caught, sessions } = await schemaApp()
      const response =
        method === 'get' || method === 'has'
          ? await send(app, `/${method}/colour`)
          : await send(app, `/${method}/colour`, { method: 'POST', json: { value: 'red' } })
      expect(await response.json()).toEqual({ threw: true })
      const error = onlyError(caught)
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toContain('"colour"')
      expect(error.message).toContain(`session.${method}(`)
      expect(setCookieOf(response)).toBeUndefined()
      expect(await sessions.count()).toBe(0)
    },
  )

  test.each([
    ['number', 'get'],
    ['symbol', 'get'],
    ['object', 'has'],
    ['undefined', 'set'],
    ['number', 'delete'],
  ])('a %s key is a TypeError for %s', async (kind, method) => {
    const { app, caught } = await schemaApp()
    const response = await send(app, `/odd-key/${kind}/${method}`)
    expect(await response.json()).toEqual({ threw: true })
    expect(onlyError(caught)).toBeInstanceOf(TypeError)
    expect(setCookieOf(response)).toBeUndefined()
  })

  test('sessions.get(id) hands out sessions whose get and set follow the schema, and save() persists', async () => {
    const { app, sessions } = await schemaApp()
    const { cookie } = await setOver(app, 'userId', 1)
    const found = await sessions.get(idOf(cookie))
    if (!found) throw new Error('the session was not found')
    expect(found.get('userId')).toBe(1)
    expect(found.get('visits')).toBe(0)
    expect(found.get('length')).toBeUndefined()
    found.set('length', 'four')
    expect(found.get('length')).toBe(4)
    expect(() => (found as Session).set('userId', 'one')).toThrow(SessionValueError)
    expect(() => (found as Session).get('colour')).toThrow(TypeError)
    found.set('theme', 'dark')
    await found.save()
    expect(await getOver(app, 'theme', cookie)).toBe('dark')
    expect(await getOver(app, 'length', cookie)).toBe(4)
    expect(await getOver(app, 'userId', cookie)).toBe(1)
  })
})

describe.each(FEATURE_ENGINES)('session data without a schema on the %s engine', (_, makeEngine) => {
  async function plainApp() {
    const engine = await makeEngine()
    engines.push(engine)
    const caught: unknown[] = []
    const app = withRoutes(new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0 })), caught).get(
      '/set-date',
      ({ session }) => attempt(caught, () => session.set('when', new Date(0))),
    )
    return { app, caught }
  }

  test('any key takes any JSON-safe value, and get returns it as stored', async () => {
    const { app, caught } = await plainApp()
    const { cookie } = await setOver(app, 'anything', { nested: [1, 'two', null, true] })
    await setOver(app, 'count', 3, cookie)
    await setOver(app, 'no schema at all', 'fine', cookie)
    expect(await getOver(app, 'anything', cookie)).toEqual({ nested: [1, 'two', null, true] })
    expect(await getOver(app, 'count', cookie)).toBe(3)
    expect(await hasOver(app, 'count', cookie)).toBe(true)
    expect(await getOver(app, 'missing', cookie)).toBe(NONE)
    expect(await hasOver(app, 'missing', cookie)).toBe(false)
    expect(await (await send(app, '/data', { cookie })).json()).toEqual({
      anything: { nested: [1, 'two', null, true] },
      count: 3,
      'no schema at all': 'fine',
    })
    await send(app, '/delete/count', { method: 'POST', cookie })
    expect(await getOver(app, 'count', cookie)).toBe(NONE)
    expect(caught).toEqual([])
  })

  test('a value JSON cannot hold is still a TypeError that stores nothing', async () => {
    const { app, caught } = await plainApp()
    const response = await send(app, '/set-date')
    expect(await response.json()).toEqual({ threw: true })
    expect(onlyError(caught)).toBeInstanceOf(TypeError)
    expect(setCookieOf(response)).toBeUndefined()
  })
})

/** A storable class, to show that storable objects live apart from schema data. */
class Badge {
  constructor(readonly label: string) {}
  toJSON() {
    return { label: this.label }
  }
  static fromJSON(json: { label: string }) {
    return new Badge(json.label)
  }
}
storable(Badge, 'SchemaTestBadge')

describe.each(FEATURE_ENGINES)('the schema namespace on the %s engine', (_, makeEngine) => {
  test('typed accessors, storable objects, flash and get/set under one name never collide', async () => {
    const engine = await makeEngine()
    engines.push(engine)
    const app = new Elysia()
      .use(session({ secret: SECRET, engine, gcInterval: 0, schema: { x: t.String(), y: z.number() } }))
      .get('/write', ({ session, flash }) => {
        session.set('x', 'schema')
        session.int('x', 1)
        session.string('x', 'typed')
        session.object('x', new Badge('object'))
        session.set('y', 2)
        flash.set('x', 'flash')
        return 'ok'
      })
      .get('/read', ({ session, flash }) => ({
        schema: session.get('x'),
        int: session.int('x'),
        string: session.string('x'),
        object: session.object<Badge>('x').label,
        flash: shown(flash.get('x')),
        ints: session.ints,
        data: session.data,
      }))
      .get('/delete-schema', ({ session }) => {
        session.delete('x')
        return 'ok'
      })
    const cookie = cookiePairOf(await send(app, '/write'))
    expect(await (await send(app, '/read', { cookie })).json()).toEqual({
      schema: 'schema',
      int: 1,
      string: 'typed',
      object: 'object',
      flash: 'flash',
      ints: { x: 1 },
      data: { x: 'schema', y: 2 },
    })
    await send(app, '/delete-schema', { cookie })
    const after = (await (await send(app, '/read', { cookie })).json()) as Record<string, unknown>
    expect(after).toMatchObject({ int: 1, string: 'typed', object: 'object', data: { y: 2 } })
    expect(after['schema']).toBeUndefined()
  })
})

/** A Standard Schema of numbers that counts how often it validates. */
function countingNumbers(): StandardSchemaV1<number> & { calls: number } {
  const schema = {
    calls: 0,
    '~standard': {
      version: 1 as const,
      vendor: 'counting',
      validate(value: unknown) {
        schema.calls++
        return typeof value === 'number' ? { value } : { issues: [{ message: 'not a number' }] }
      },
    },
  }
  return schema
}

describe.each(FEATURE_ENGINES)('validation cost on the %s engine', (_, makeEngine) => {
  test('a stored value is validated the first time it is read in a request, never again in that request', async () => {
    const engine = await makeEngine()
    engines.push(engine)
    const counted = countingNumbers()
    const app = new Elysia()
      .use(session({ secret: SECRET, engine, gcInterval: 0, schema: { n: counted } }))
      .get('/set', ({ session }) => {
        session.set('n', 5)
        const calls = counted.calls
        return [calls, session.get('n'), session.has('n'), session.data['n'], counted.calls]
      })
      .get('/read-many', ({ session }) => [
        session.get('n'),
        session.get('n'),
        session.has('n'),
        session.data['n'],
        session.get('n'),
      ])
      .get('/read-then-write', ({ session }) => {
        const before = session.get('n')
        session.set('n', (before ?? 0) + 1)
        return session.get('n')
      })
    const set = await send(app, '/set')
    // set validates once; reading the value it set back validates nothing, nor does the save.
    expect(await set.json()).toEqual([1, 5, true, 5, 1])
    expect(counted.calls).toBe(1)
    const cookie = cookiePairOf(set)
    counted.calls = 0
    expect(await (await send(app, '/read-many', { cookie })).json()).toEqual([5, 5, true, 5, 5])
    expect(counted.calls).toBe(1)
    counted.calls = 0
    expect(await (await send(app, '/read-many', { cookie })).json()).toEqual([5, 5, true, 5, 5])
    expect(counted.calls).toBe(1)
    counted.calls = 0
    expect(await (await send(app, '/read-then-write', { cookie })).text()).toBe('6')
    expect(counted.calls).toBe(2)
  })
})

describe('a Standard Schema that validates asynchronously', () => {
  const asyncSchema = {
    '~standard': { version: 1 as const, vendor: 'x', validate: async (value: unknown) => ({ value: value ?? 1 }) },
  }

  async function asyncApp(schema: SessionSchema) {
    const engine = await FEATURE_ENGINES[0]?.[1]()
    if (!engine) throw new Error('no engine')
    engines.push(engine)
    const caught: unknown[] = []
    const plugin = session({ secret: SECRET, engine, gcInterval: 0, schema: { ...schema, other: t.Number() } })
    const app = withRoutes(new Elysia().use(plugin), caught)
    return { app, caught }
  }

  /** Collects unhandled rejections while `run` runs, and a little after. */
  async function rejectionsDuring(run: () => Promise<void>): Promise<unknown[]> {
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      await run()
      await Bun.sleep(10)
    } finally {
      process.off('unhandledRejection', onRejection)
    }
    return rejections
  }

  test.each([
    ['get', 'GET'],
    ['has', 'GET'],
    ['set', 'POST'],
  ])(
    'is a TypeError naming the key at its first use by %s, with no unhandled rejection',
    async (method, httpMethod) => {
      const { app, caught } = await asyncApp({ later: asyncSchema })
      const rejections = await rejectionsDuring(async () => {
        const outgoing = httpMethod === 'POST' ? { method: httpMethod, json: { value: 2 } } : {}
        const response = await send(app, `/${method}/later`, outgoing)
        expect(response.status).toBe(200)
        expect(await response.json()).toEqual({ threw: true })
      })
      const error = onlyError(caught)
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toContain('schema.later')
      expect(error.message).toContain('asynchronously')
      expect(rejections).toEqual([])
    },
  )

  test('Zod with an async refinement is a TypeError naming the key when set', async () => {
    const { app, caught } = await asyncApp({ checked: z.number().refine(async (n) => n > 0) })
    const rejections = await rejectionsDuring(async () => {
      expect((await setOver(app, 'checked', 3)).result).toEqual({ threw: true })
    })
    const error = onlyError(caught)
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toContain('schema.checked')
    expect(rejections).toEqual([])
  })

  test('does not fail a request that only writes another key', async () => {
    const { app, caught } = await asyncApp({ later: asyncSchema })
    const { response, result } = await setOver(app, 'other', 1)
    expect(result).toEqual({ value: NONE })
    const cookie = cookiePairOf(response)
    expect(cookie).toBeDefined()
    expect(await getOver(app, 'other', cookie)).toBe(1)
    expect(caught).toEqual([])
  })
})
