import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { memoryEngine, type Session, type SessionEngine, session } from 'elysia-sessions'
import { fileEngine } from 'elysia-sessions/engines/file'
import { mysqlEngine } from 'elysia-sessions/engines/mysql'
import { postgresEngine } from 'elysia-sessions/engines/postgres'
import { redisEngine } from 'elysia-sessions/engines/redis'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import fc from 'fast-check'
import { cookiePairOf, SECRET, send } from './support/http.js'
import { freshDatabases } from './support/mysql.js'
import { createFreshDatabase } from './support/postgres.js'
import { propertyRuns } from './support/property-runs.js'
import { deleteKeysStartingWith, openRawClient, uniquePrefix } from './support/redis.js'
import { testService } from './support/services.js'
import { freshDatabasePath } from './support/sqlite.js'

/** One engine under test: how many cases it gets (server engines fewer), and how to open it and clean up after. */
interface EngineUnderTest {
  readonly name: string
  readonly runs: number
  /** Why the engine is skipped, or undefined when it runs. */
  readonly skip?: string | undefined
  open(): Promise<{ engine: SessionEngine; cleanUp(): Promise<void> }>
}

const redis = testService('REDIS_URL', 'redis engine')
const postgres = testService('DATABASE_URL', 'postgres engine')
const mysql = testService('MYSQL_URL', 'mysql engine')

const ENGINES: readonly EngineUnderTest[] = [
  { name: 'memory', runs: 1_000, open: async () => ({ engine: memoryEngine(), cleanUp: async () => {} }) },
  {
    name: 'SQLite',
    runs: 400,
    open: async () => ({ engine: await sqliteEngine({ path: freshDatabasePath() }), cleanUp: async () => {} }),
  },
  {
    name: 'file',
    runs: 300,
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'property-values-'))
      return { engine: fileEngine({ dir }), cleanUp: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: redis.label,
    runs: 300,
    skip: redis.url ? undefined : redis.label,
    open: async () => {
      const prefix = uniquePrefix('property-values')
      const engine = await redisEngine({ url: redis.url as string, prefix })
      return {
        engine,
        async cleanUp() {
          const raw = await openRawClient(redis.url as string)
          await deleteKeysStartingWith(raw, prefix)
          raw.close()
        },
      }
    },
  },
  {
    name: postgres.label,
    runs: 200,
    skip: postgres.url ? undefined : postgres.label,
    open: async () => {
      const fresh = await createFreshDatabase(postgres.url as string, 'property')
      return { engine: await postgresEngine({ url: fresh.url }), cleanUp: () => fresh.drop() }
    },
  },
  {
    name: mysql.label,
    runs: 200,
    skip: mysql.url ? undefined : mysql.label,
    open: async () => {
      const databases = freshDatabases(mysql.url as string)
      const fresh = await databases.create()
      return { engine: await mysqlEngine({ url: fresh.url }), cleanUp: () => databases.dropAll() }
    },
  },
]

/**
 * One code unit or code point of a string: the troublemakers (U+0000, lone surrogates of both halves, noncharacters,
 * quotes, backslashes, line separators) often, any UTF-16 code unit or any code point otherwise.
 */
const stringUnit = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\ud800',
      '\udbff',
      '\udc00',
      '\udfff',
      '\ufffe',
      '\uffff',
      '"',
      '\\',
      '\u2028',
      '\u2029',
      '\u007f',
      '\ud83d\ude00',
    ),
  },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)
const text = fc.string({ unit: stringUnit, maxLength: 40 })
/** A finite double; not -0, which JSON writes as 0 (the test below pins that). */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0))
const key = fc.oneof(fc.constantFrom('', '__proto__', 'constructor', 'toString', 'data:x', 'int:x', 'a.b'), text)

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const leaf: fc.Arbitrary<Json> = fc.oneof(fc.constant(null), fc.boolean(), fc.maxSafeInteger(), finite, text)
const { json } = fc.letrec<{ json: Json; array: Json[]; object: { [key: string]: Json } }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 6 }),
  object: fc.dictionary(key, tie('json'), { maxKeys: 6 }),
}))
/** A leaf under up to 1,500 levels of arrays and objects. */
const deep = fc
  .tuple(fc.array(fc.tuple(fc.boolean(), key), { minLength: 50, maxLength: 1_500 }), leaf)
  .map(([levels, inner]) =>
    levels.reduce<Json>(
      (nested, [inArray, name]) => (inArray ? [nested] : Object.fromEntries([[name, nested]])),
      inner,
    ),
  )
const large = fc.array(leaf, { minLength: 1_000, maxLength: 10_000 })
const anyJson = fc.oneof(
  { weight: 8, arbitrary: json },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: large },
)

/** What a case writes, under one key in every namespace, and expects to read back after a save and a load. */
const written = fc.record({
  key,
  json: anyJson,
  int: fc.maxSafeInteger(),
  bigint: fc.oneof(fc.bigInt(), fc.bigInt({ min: -(1n << 4_096n), max: 1n << 4_096n })),
  float: finite,
  string: fc.string({ unit: stringUnit, maxLength: 500 }),
  bool: fc.boolean(),
})
type Written = typeof written extends fc.Arbitrary<infer T> ? T : never

/** An app whose routes run what the test hands them, so values never travel over HTTP, only through the engine. */
function roundTripApp(engine: SessionEngine) {
  const handlers = { write: (_session: Session) => {}, read: (_session: Session) => {} }
  const app = new Elysia()
    .use(session({ secret: SECRET, engine, gcInterval: 0 }))
    .post('/write', ({ session }) => {
      handlers.write(session)
      return 'written'
    })
    .get('/read', ({ session }) => {
      handlers.read(session)
      return 'read'
    })
  return { app, handlers }
}

for (const under of ENGINES) {
  describe.skipIf(under.skip !== undefined)(`values round-trip through save and load: ${under.name}`, () => {
    let opened: Awaited<ReturnType<EngineUnderTest['open']>>
    let subject: ReturnType<typeof roundTripApp>

    beforeAll(async () => {
      opened = await under.open()
      subject = roundTripApp(opened.engine)
    })
    afterAll(async () => {
      await subject.app.decorator.sessions.close()
      await opened.cleanUp()
    })

    test(`JSON values, bigints, floats, ints, strings and booleans come back as written (${under.runs} cases)`, async () => {
      await fc.assert(
        fc.asyncProperty(written, async (values: Written) => {
          let readBack: unknown
          subject.handlers.read = (session) => {
            readBack = {
              json: session.get(values.key),
              data: session.data,
              int: session.int(values.key),
              bigint: session.bigint(values.key),
              float: session.float(values.key),
              string: session.string(values.key),
              bool: session.bool(values.key),
            }
          }
          await writeThenRead(subject, (session) => {
            session.set(values.key, values.json)
            session.int(values.key, values.int)
            session.bigint(values.key, values.bigint)
            session.float(values.key, values.float)
            session.string(values.key, values.string)
            session.bool(values.key, values.bool)
          })
          expect(readBack).toEqual({
            json: values.json,
            data: Object.fromEntries([[values.key, values.json]]),
            int: values.int,
            bigint: values.bigint,
            float: values.float,
            string: values.string,
            bool: values.bool,
          })
        }),
        propertyRuns(under.runs),
      )
    }, 60_000)

    test('-0 comes back as 0 from int, float and set: JSON has no negative zero', async () => {
      let readBack: unknown
      subject.handlers.read = (session) => {
        readBack = { int: session.int('zero'), float: session.float('zero'), json: session.get('zero') }
      }
      await writeThenRead(subject, (session) => {
        session.int('zero', -0)
        session.float('zero', -0)
        session.set('zero', [-0, { nested: -0 }])
        // Before the save, the request still sees what it wrote.
        expect(Object.is(session.float('zero'), -0)).toBe(true)
      })
      expect(readBack).toEqual({ int: 0, float: 0, json: [0, { nested: 0 }] })
    })
  })
}

/** Writes in one request, then reads in a second one that carries the first one's session cookie. */
async function writeThenRead(
  { app, handlers: routes }: ReturnType<typeof roundTripApp>,
  write: (session: Session) => void,
): Promise<void> {
  routes.write = write
  const response = await send(app, '/write', { method: 'POST' })
  expect(response.status).toBe(200)
  const cookie = cookiePairOf(response)
  expect(cookie).toBeDefined()
  const readResponse = await send(app, '/read', { cookie })
  expect(readResponse.status).toBe(200)
}
