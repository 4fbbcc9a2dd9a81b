import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import {
  csrf,
  type FieldsOf,
  type Frozen,
  type Session,
  type Sessions,
  type SessionValueError,
  session,
  withDefault,
} from 'elysia-sessions'
import * as v from 'valibot'
import { z } from 'zod'
import { closingAfterEach, cookiePairOf, SECRET, send } from './support/http.js'

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assertType<_T extends true>(): void {}

const opened = closingAfterEach()

const schema = {
  userId: t.Number(),
  cart: t.Array(t.Object({ sku: t.String(), qty: t.Integer({ minimum: 1 }) })),
  theme: t.Union([t.Literal('light'), t.Literal('dark')]),
  visits: withDefault(t.Integer(), 0),
  seen: z.number().default(0),
  tags: v.optional(v.array(v.string()), []),
  nickname: z.string().optional(),
  length: z.string().transform((text) => text.length),
  coerced: z.coerce.number(),
}

type Cart = { sku: string; qty: number }[]

/** A helper an app types with the plain `Session`, as it would for kemal-session's typed accessors. */
function countVisit(plain: Session): number {
  const visits = (plain.intOrNull('plainVisits') ?? 0) + 1
  plain.int('plainVisits', visits)
  return visits
}

/** A helper typed with the schema's own keys. */
function addToCart(typed: Session<FieldsOf<typeof schema>>, sku: string): number {
  const cart = typed.get('cart') ?? []
  typed.set('cart', [...cart, { sku, qty: 1 }])
  return cart.length + 1
}

/** A helper typed with the plain admin API. */
async function exists(sessions: Sessions, id: string): Promise<boolean> {
  return (await sessions.get(id)) !== null
}

describe('schema types', () => {
  test('get, set, delete, has and data are typed from the schema, in handlers, groups and sub-apps, without casts', async () => {
    const plugin = session({ secret: SECRET, schema })
    const sub = new Elysia({ prefix: '/sub' }).use(plugin).get('/', ({ session }) => {
      assertType<Equal<typeof session, Session<FieldsOf<typeof schema>>>>()
      return String(session.get('visits'))
    })
    const app = opened(
      new Elysia()
        .use(plugin)
        .get('/', ({ session }) => {
          assertType<Equal<ReturnType<typeof session.get<'theme'>>, 'light' | 'dark' | undefined>>()
          assertType<Equal<ReturnType<typeof session.get<'userId'>>, number | undefined>>()
          assertType<Equal<ReturnType<typeof session.get<'cart'>>, Frozen<Cart> | undefined>>()
          // A default reads as a value, so no undefined: with withDefault, a Zod default and a Valibot default.
          assertType<Equal<ReturnType<typeof session.get<'visits'>>, number>>()
          assertType<Equal<ReturnType<typeof session.get<'seen'>>, number>>()
          assertType<Equal<ReturnType<typeof session.get<'tags'>>, readonly string[]>>()
          // An optional Standard Schema accepts undefined but returns it too.
          assertType<Equal<ReturnType<typeof session.get<'nickname'>>, string | undefined>>()
          // A schema that takes anything (a coercion) may refuse undefined, so it promises no default.
          assertType<Equal<ReturnType<typeof session.get<'coerced'>>, number | undefined>>()
          // A transform: set takes the input type, get returns the output type.
          assertType<Equal<ReturnType<typeof session.get<'length'>>, number | undefined>>()
          assertType<Equal<Parameters<typeof session.set<'length'>>[1], string>>()
          assertType<
            Equal<
              typeof session.data,
              Readonly<{
                visits: number
                seen: number
                tags: readonly string[]
                userId?: number
                cart?: Frozen<Cart>
                theme?: 'light' | 'dark'
                nickname?: string
                length?: number
                coerced?: number
              }>
            >
          >()

          session.set('visits', session.get('visits') + 1)
          session.set('seen', session.get('seen') + 1)
          session.set('theme', 'dark')
          session.set('length', 'four')
          session.set('tags', [...session.get('tags'), 'new'])
          // A value read back can be written again, frozen or not.
          session.set('tags', session.get('tags'))
          addToCart(session, 'apple')
          countVisit(session)

          // @ts-expect-error a key outside the schema
          expect(() => session.get('userID')).toThrow(TypeError)
          // @ts-expect-error a key outside the schema
          expect(() => session.set('userID', 1)).toThrow(TypeError)
          // @ts-expect-error a key outside the schema
          expect(() => session.has('userID')).toThrow(TypeError)
          // @ts-expect-error a key outside the schema
          expect(() => session.delete('userID')).toThrow(TypeError)
          // @ts-expect-error a value of the wrong type
          expect(() => session.set('theme', 'blue')).toThrow(TypeError)
          // @ts-expect-error a value of the wrong type
          expect(() => session.set('userId', '42')).toThrow(TypeError)
          // @ts-expect-error a transform takes its input type
          expect(() => session.set('length', 4)).toThrow(TypeError)
          // @ts-expect-error undefined is no value: delete the key instead
          expect(() => session.set('nickname', undefined)).toThrow(TypeError)
          // @ts-expect-error values read are frozen: change them by setting a new one
          expect(() => session.get('tags').push('x')).toThrow(TypeError)
          const error = null as SessionValueError | null
          assertType<Equal<typeof error extends TypeError | null ? true : false, true>>()
          return session.data
        })
        .group('/group', (group) => group.get('/', ({ session }) => String(session.get('visits'))))
        .use(sub)
        .get('/admin', async ({ session, sessions }) => {
          const found = await sessions.get(session.id)
          const theme: 'light' | 'dark' | undefined = found?.get('theme')
          // @ts-expect-error sessions.get(id) hands out sessions typed by the same schema
          expect(() => found?.get('userID')).toThrow(TypeError)
          return { theme: theme ?? null, exists: await exists(sessions, session.id) }
        }),
    )
    const first = await send(app, '/')
    expect(first.status).toBe(200)
    expect(await first.json()).toMatchObject({ visits: 1, seen: 1, theme: 'dark', tags: ['new'], length: 4 })
    const cookie = cookiePairOf(first)
    expect(await (await send(app, '/group', { cookie })).text()).toBe('1')
    expect(await (await send(app, '/sub', { cookie })).text()).toBe('1')
    expect(await (await send(app, '/admin', { cookie })).json()).toEqual({ theme: 'dark', exists: true })
  })

  test("the schema's types survive csrf() and the { session: false } macro", async () => {
    const app = opened(
      new Elysia()
        .use(session({ secret: SECRET, schema: { visits: withDefault(t.Integer(), 0) } }))
        .use(csrf())
        .get('/', ({ session, csrfToken }) => {
          session.set('visits', session.get('visits') + 1)
          // @ts-expect-error still typed after csrf()
          expect(() => session.set('visits', 'one')).toThrow(TypeError)
          return `${session.get('visits')} ${csrfToken().length > 0}`
        })
        .get('/health', ({ session }) => typeof session.get, { session: false }),
    )
    expect(await (await send(app, '/')).text()).toBe('1 true')
    expect(await (await send(app, '/health')).text()).toBe('function')
  })

  test('without a schema, any key takes any value and reads as unknown', async () => {
    const app = opened(
      new Elysia().use(session({ secret: SECRET })).get('/', ({ session }) => {
        session.set('anything', { nested: [1, 'two'] })
        const read = session.get('anything')
        assertType<Equal<typeof read, unknown>>()
        assertType<Equal<typeof session.data, Readonly<{ [key: string]: unknown }>>>()
        return { read, has: session.has('anything') }
      }),
    )
    expect(await (await send(app, '/')).json()).toEqual({ read: { nested: [1, 'two'] }, has: true })
  })
})
