import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateMySQLDrizzleJson, generateMySQLMigration } from 'drizzle-kit/api'
import { drizzle } from 'drizzle-orm/mysql2'
import { Elysia } from 'elysia'
import {
  EngineTimeoutError,
  SessionConfigError,
  type SessionEngine,
  SessionEngineError,
  type StoredSession,
  session,
} from 'elysia-sessions'
import {
  MIGRATIONS_TABLE,
  type MysqlEngineOptions,
  mysqlEngine,
  sessions,
  sessionsTable,
} from 'elysia-sessions/engines/mysql'
import { runEngineConformance } from 'elysia-sessions/testing'
import { createConnection, createPool } from 'mysql2'
import { createPool as createPromisePool, type Pool } from 'mysql2/promise'
import { randomSessionId } from './support/cookie-format.js'
import { cookiePairOf, SECRET, send } from './support/http.js'
import { connectionIdsOn, type FreshDatabase, freshDatabases, rowsOf, scalar } from './support/mysql.js'
import { PROPERTY_SEED } from './support/property-runs.js'
import { testService } from './support/services.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

const MIGRATIONS = resolve(import.meta.dir, '../drizzle/mysql')
const JOURNAL = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
  entries: { idx: number; tag: string }[]
}
const HOUR = 3_600_000

const mysql = testService('MYSQL_URL', 'mysql engine')

async function commitAndLoad(engine: SessionEngine, id = 'abc'): Promise<StoredSession | null> {
  const now = Date.now()
  await engine.commit(id, { set: { 'string:name': 'Ada' }, deleted: [], expiresAt: now + HOUR }, now)
  return engine.load(id, now)
}

/** Resolves to how long `work` took to settle, and to its error (undefined when it resolved). */
async function timed(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now()
  const error = await work.then(
    () => undefined,
    (failure: unknown) => failure ?? new Error('rejected with nothing'),
  )
  return { ms: performance.now() - started, error }
}

describe.skipIf(!mysql.url)(mysql.label, () => {
  let databases: ReturnType<typeof freshDatabases>
  let admin: Pool
  /** One database for the conformance suite and the tests that need no empty database. */
  let shared: FreshDatabase

  beforeAll(async () => {
    databases = freshDatabases(mysql.url as string)
    admin = databases.admin
    shared = await databases.create()
  })
  afterAll(() => databases.dropAll())

  runEngineConformance('mysql', () => mysqlEngine({ url: shared.url }), {
    sharedStore: true,
    bulkSize: 500,
    timeout: 20_000,
    // Declared, not read from an engine while the tests register: the database is made in beforeAll.
    owners: true,
    synchronous: false,
    modelRuns: 20,
    modelSeed: PROPERTY_SEED,
  })

  describe('mysqlEngine({ url })', () => {
    test('migrates an empty database once, into its own __session_migrations table', async () => {
      const db = await databases.create()
      await (await mysqlEngine({ url: db.url })).close()
      await (await mysqlEngine({ url: db.url })).close()
      expect(await db.tables()).toEqual([MIGRATIONS_TABLE, 'sessions'])
      expect(await scalar(admin, `SELECT count(*) FROM \`${db.name}\`.${MIGRATIONS_TABLE}`)).toBe(
        JOURNAL.entries.length,
      )
    })

    test('creates binary ids, utf8mb4 JSON text, an indexed expiry and a binary owner indexed with it', async () => {
      const engine = await mysqlEngine({ url: shared.url })
      try {
        const columns = `SELECT column_name, column_type, character_set_name FROM information_schema.columns
                         WHERE table_schema = ? AND table_name = 'sessions' ORDER BY ordinal_position`
        expect(await rowsOf(admin, columns, [shared.name])).toEqual([
          ['id', 'varbinary(255)', null],
          ['data', 'longtext', 'utf8mb4'],
          ['expires_at', expect.stringMatching(/^bigint/), null],
          ['owner', 'varbinary(768)', null],
        ])
        const indexed = `SELECT column_name FROM information_schema.statistics
                         WHERE table_schema = ? AND table_name = 'sessions' AND index_name = 'sessions_expires_at_idx'`
        expect(await scalar(admin, indexed, [shared.name])).toBe('expires_at')
        const ownerIndexed = `SELECT column_name FROM information_schema.statistics WHERE table_schema = ?
                              AND table_name = 'sessions' AND index_name = 'sessions_owner_idx' ORDER BY seq_in_index`
        expect(await rowsOf(admin, ownerIndexed, [shared.name])).toEqual([['owner'], ['expires_at']])

        // Plain JSON text, so the app's own SQL can read it too.
        await commitAndLoad(engine, 'json-text')
        const stored = `SELECT JSON_VALID(data), JSON_VALUE(data, '$."string:name"') FROM \`${shared.name}\`.sessions
                        WHERE id = 'json-text'`
        expect(await rowsOf(admin, stored)).toEqual([[1, 'Ada']])
      } finally {
        await engine.close()
      }
    })

    test('ids compare byte-wise: ids differing only in case are different sessions', async () => {
      const engine = await mysqlEngine({ url: shared.url })
      try {
        const id = randomSessionId().replace(/^./, 'a')
        const swapped = [...id].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')
        const ids = [id, swapped, 'x', 'X']
        const now = Date.now()
        for (const each of ids) {
          await engine.commit(each, { set: { 'string:id': each }, deleted: [], expiresAt: now + HOUR }, now)
        }
        for (const each of ids) expect((await engine.load(each, now))?.data).toEqual({ 'string:id': each })
        const listed = []
        for await (const batch of engine.entries(now, { batchSize: 2 })) listed.push(...batch.map((entry) => entry.id))
        expect(listed.filter((each) => ids.includes(each)).toSorted()).toEqual(ids.toSorted())
      } finally {
        await engine.deleteAll()
        await engine.close()
      }
    })

    test('ids outside [A-Za-z0-9_-]{1,128} are unknown to load, touch and delete; commit refuses them', async () => {
      const engine = await mysqlEngine({ url: shared.url })
      try {
        const now = Date.now()
        const changes = { set: { 'string:who': 'first' }, deleted: [], expiresAt: now + HOUR }
        // utf8 turns both lone surrogates into U+FFFD, so the two would be one row; a long id could be cut short.
        const unsafe = ['a\uD800', 'a\uDBFF', 'x ', 'a:b', '', 'é'.repeat(127), 'x'.repeat(129)]
        for (const id of unsafe) {
          expect(engine.commit(id, changes, now)).rejects.toThrow(
            /mysqlEngine cannot store the session id .*: ids must/,
          )
          expect(await engine.load(id, now)).toBeNull()
          expect(await engine.touch(id, now + HOUR, now)).toBe(false)
          await engine.delete(id)
        }
        expect(await engine.commit('x'.repeat(128), changes, now)).toBe(true)
        // mysql2 sends each id as UTF-8, as the engine would have.
        const stored = `SELECT count(*) FROM \`${shared.name}\`.sessions WHERE id IN (?)`
        expect(await scalar(admin, stored, [unsafe])).toBe(0)
      } finally {
        await engine.deleteAll()
        await engine.close()
      }
    })

    test('a commit with existingOnly on an unknown id leaves no row behind, not even an expired placeholder', async () => {
      const engine = await mysqlEngine({ url: shared.url })
      try {
        const now = Date.now()
        const changes = { set: { 'int:n': 1 }, deleted: [], expiresAt: now + HOUR, existingOnly: true }
        expect(await engine.commit('never-created', changes, now)).toBe(false)
        const rows = `SELECT count(*) FROM \`${shared.name}\`.sessions WHERE id = 'never-created'`
        expect(await scalar(admin, rows)).toBe(0)
      } finally {
        await engine.close()
      }
    })

    test('close() ends the pool it opened: none of its connections stays open', async () => {
      const engine = await mysqlEngine({ url: shared.url })
      await Promise.all(Array.from({ length: 5 }, (_, index) => commitAndLoad(engine, `pool-${index}`)))
      expect((await connectionIdsOn(admin, shared.name)).length).toBeGreaterThan(0)
      await engine.close()
      await engine.close()
      expect(engine.load('pool-0', Date.now())).rejects.toThrow(/closed/)
      // The server drops a connection just after its client quits.
      const deadline = Date.now() + 2_000
      while ((await connectionIdsOn(admin, shared.name)).length > 0 && Date.now() < deadline) await Bun.sleep(20)
      expect(await connectionIdsOn(admin, shared.name)).toEqual([])
    })

    test('eight engines starting at the same moment on an empty database all come up and migrate it once', async () => {
      const db = await databases.create()
      const started = await Promise.allSettled(Array.from({ length: 8 }, () => mysqlEngine({ url: db.url })))
      const engines = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
      try {
        expect(started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))).toEqual([])
        expect(await db.tables()).toEqual([MIGRATIONS_TABLE, 'sessions'])
        expect(await scalar(admin, `SELECT count(*) FROM \`${db.name}\`.${MIGRATIONS_TABLE}`)).toBe(
          JOURNAL.entries.length,
        )
        const written = await Promise.all(engines.map((engine, index) => commitAndLoad(engine, `engine-${index}`)))
        expect(written.every((stored) => stored !== null)).toBe(true)
      } finally {
        await Promise.all(engines.map((engine) => engine.close()))
      }
    }, 15_000)

    test('two engines sweeping one store at once delete every expired session exactly once, without errors', async () => {
      const [first, second] = [await mysqlEngine({ url: shared.url }), await mysqlEngine({ url: shared.url })]
      try {
        await first.deleteAll()
        const now = Date.now()
        const expired = 4_500
        const rows = Array.from({ length: expired }, (_, index) => [`expired-${index}`, '{}', now - 1 - (index % 50)])
        for (let start = 0; start < expired; start += 1_500) {
          await admin.query(`INSERT INTO \`${shared.name}\`.sessions (id, data, expires_at) VALUES ?`, [
            rows.slice(start, start + 1_500),
          ])
        }
        for (let index = 0; index < 20; index++) await commitAndLoad(first, `live-${index}`)
        const swept = await Promise.all([first.deleteExpired(now), second.deleteExpired(now)])
        expect(swept[0] + swept[1]).toBe(expired)
        expect(await scalar(admin, `SELECT count(*) FROM \`${shared.name}\`.sessions`)).toBe(20)
      } finally {
        await first.deleteAll()
        await Promise.all([first.close(), second.close()])
      }
    }, 15_000)
  })

  describe('entries', () => {
    test('entries refuses a batchSize that is not a positive integer, as every engine does', async () => {
      const engine = await mysqlEngine({ url: shared.url })
      try {
        for (const batchSize of [0, -1, 1.5, Number.NaN]) {
          const listing = Array.fromAsync(engine.entries(Date.now(), { batchSize }))
          expect(listing).rejects.toThrow(
            new RangeError(`entries({ batchSize }) needs a positive integer, got ${batchSize}`),
          )
          await listing.catch(() => {})
        }
      } finally {
        await engine.close()
      }
    })
  })

  describe('mysqlEngine({ database })', () => {
    test('uses a mysql2 pool (callback API) and never ends it', async () => {
      const pool = createPool({ uri: shared.url })
      try {
        const engine = await mysqlEngine({ database: pool, migrate: true })
        expect(await commitAndLoad(engine)).not.toBeNull()
        await engine.close()
        expect(await scalar(pool.promise(), "SELECT count(*) FROM sessions WHERE id = 'abc'")).toBe(1)
      } finally {
        await pool.promise().end()
      }
    })

    test('uses a mysql2 pool (promise API) and never ends it', async () => {
      const pool = createPromisePool({ uri: shared.url })
      try {
        const engine = await mysqlEngine({ database: pool, migrate: true })
        expect(await commitAndLoad(engine)).not.toBeNull()
        await engine.close()
        expect(await scalar(pool, "SELECT count(*) FROM sessions WHERE id = 'abc'")).toBe(1)
      } finally {
        await pool.end()
      }
    })

    test('uses a Drizzle instance, whose app keeps the table in its own schema, and never ends its pool', async () => {
      const db = drizzle({ client: createPool({ uri: shared.url }), schema: { sessions }, mode: 'default' })
      try {
        const engine = await mysqlEngine({ database: db, migrate: true })
        await engine.deleteAll()
        expect(await commitAndLoad(engine)).not.toBeNull()
        await engine.close()
        const rows = await db.select().from(sessions)
        expect(rows).toEqual([
          { id: 'abc', data: { 'string:name': 'Ada' }, expiresAt: expect.any(Number), owner: null },
        ])
      } finally {
        await db.$client.promise().end()
      }
    })

    test('does not migrate by default: a missing table fails at startup and says how to create it', async () => {
      const db = await databases.create()
      const pool = createPromisePool({ uri: db.url })
      try {
        expect(mysqlEngine({ database: pool })).rejects.toThrow(
          new SessionConfigError(
            `Table 'sessions' does not exist in MySQL database '${db.name}'. Create it from sessionsTable('sessions') in your migrations, or let the engine create the default 'sessions' table with migrate: true.`,
          ),
        )
      } finally {
        await pool.end()
      }
    })

    test('a host app whose newer migrations are in Drizzle’s default table still gets the sessions table', async () => {
      const db = await databases.create()
      const pool = createPromisePool({ uri: db.url })
      try {
        // What Drizzle's migrator creates and records for a host app's migration made after ours.
        await pool.query(
          'CREATE TABLE __drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
        )
        await pool.query("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('host', 99999999999999)")
        const engine = await mysqlEngine({ database: pool, migrate: true })
        expect(await commitAndLoad(engine)).not.toBeNull()
        await engine.close()
        expect(await scalar(pool, 'SELECT hash FROM __drizzle_migrations')).toBe('host')
        expect(await scalar(pool, `SELECT count(*) FROM ${MIGRATIONS_TABLE}`)).toBe(JOURNAL.entries.length)
      } finally {
        await pool.end()
      }
    })

    test('a pool whose connections are not utf8mb4 fails at startup and says which charset to use', async () => {
      const pool = createPromisePool({ uri: shared.url, charset: 'UTF8_GENERAL_CI' })
      try {
        const failure = mysqlEngine({ database: pool })
        expect(failure).rejects.toBeInstanceOf(SessionConfigError)
        expect(failure).rejects.toThrow(/character set is utf8mb4, got utf8mb3: create the pool with charset/)
      } finally {
        await pool.end()
      }
    })

    test('a pool without the FOUND_ROWS flag fails at startup and says to keep it', async () => {
      const pool = createPromisePool({ uri: shared.url, flags: ['-FOUND_ROWS'] })
      try {
        expect(mysqlEngine({ database: pool })).rejects.toThrow(/FOUND_ROWS/)
      } finally {
        await pool.end()
      }
    })

    test('a single connection, which cannot run concurrent transactions, fails at startup', async () => {
      const connection = createConnection({ uri: shared.url })
      try {
        const failure = mysqlEngine({ database: drizzle({ client: connection }) as never })
        expect(failure).rejects.toBeInstanceOf(SessionConfigError)
        expect(failure).rejects.toThrow(/needs a mysql2 pool/)
      } finally {
        await connection.promise().end()
      }
    })
  })

  describe('mysqlEngine({ table })', () => {
    test('a custom table created from sessionsTable(name) by drizzle-kit works with migrate: false', async () => {
      const db = await databases.create()
      const pool = createPromisePool({ uri: db.url })
      try {
        const empty = await generateMySQLDrizzleJson({})
        const schema = await generateMySQLDrizzleJson({ userSessions: sessionsTable('user_sessions') })
        for (const statement of await generateMySQLMigration(empty, schema)) await pool.query(statement)
        const engine = await mysqlEngine({ database: pool, table: 'user_sessions' })
        expect(await commitAndLoad(engine)).not.toBeNull()
        await engine.close()
        expect(await db.tables()).toEqual(['user_sessions'])
        expect(await scalar(pool, 'SELECT CAST(id AS CHAR) FROM user_sessions')).toBe('abc')
      } finally {
        await pool.end()
      }
    })

    test('a custom table with the bundled migrations fails at startup and says to pass migrate: false', async () => {
      expect(mysqlEngine({ url: shared.url, table: 'user_sessions' })).rejects.toThrow(
        /Pass migrate: false and create the table from sessionsTable\('user_sessions'\)/,
      )
    })
  })

  describe('mysqlEngine options', () => {
    const bad: [string, unknown, RegExp][] = [
      ['no options', undefined, /needs \{ url: 'mysql:\/\/user@host:3306\/database' \} or \{ database \}/],
      ['neither url nor database', {}, /exactly one of/],
      ['both url and database', { url: 'mysql://root@127.0.0.1/x', database: {} }, /exactly one of/],
      ['an empty url', { url: '' }, /needs a URL such as .*, got a string that is no URL$/],
      [
        'a url of another database',
        { url: 'postgres://root:secret@127.0.0.1/x' },
        /such as .*, got a postgres:\/\/ URL$/,
      ],
      ['a url without a database', { url: 'mysql://root@127.0.0.1:3306' }, /database in the URL's path/],
      ['a database that is not a pool', { database: { query() {} } }, /needs a mysql2 pool/],
      ['a table name with a quote', { url: 'mysql://h/x', table: 'x`; DROP', migrate: false }, /letters, digits/],
      ['a table name too long', { url: 'mysql://h/x', table: 't'.repeat(49), migrate: false }, /at most 48/],
      ['a zero operationTimeout', { url: 'mysql://h/x', operationTimeout: 0 }, /operationTimeout/],
      ['a fractional operationTimeout', { url: 'mysql://h/x', operationTimeout: 1.5 }, /operationTimeout/],
      ['a string operationTimeout', { url: 'mysql://h/x', operationTimeout: '5000' }, /operationTimeout/],
      ['a migrate that is not a boolean', { url: 'mysql://h/x', migrate: 'yes' }, /migrate/],
    ]
    for (const [what, options, message] of bad) {
      test(`${what} fails at startup with a SessionConfigError that says what to pass`, async () => {
        const failure = mysqlEngine(options as MysqlEngineOptions)
        expect(failure).rejects.toBeInstanceOf(SessionConfigError)
        expect(failure).rejects.toThrow(message)
      })
    }
  })

  describe('outages', () => {
    const OPERATION_TIMEOUT = 1_000
    /** How much later than the time limit a failure may come: timers, and the request around the call. */
    const SLACK = 400
    let proxy: TcpProxy

    beforeAll(async () => {
      proxy = await startTcpProxy(Number(new URL(mysql.url as string).port || 3306))
      // Migrated directly, so the tests below only measure the engine's calls.
      await (await mysqlEngine({ url: shared.url })).close()
    })
    afterAll(() => proxy.close())

    function appOn(engine: SessionEngine, errors: unknown[]) {
      return new Elysia()
        .onError(({ error }) => {
          errors.push(error)
        })
        .use(session({ secret: SECRET, engine, gcInterval: 0, logger: { error: () => undefined } }))
        .get('/health', () => 'ok', { session: false })
        .get('/visit', ({ session }) => {
          session.int('visits', (session.intOrNull('visits') ?? 0) + 1)
          return String(session.int('visits'))
        })
    }

    test('a server that refuses connections fails calls at once with the cause; the same engine recovers', async () => {
      const engine = await mysqlEngine({ url: shared.urlThrough(proxy.port), operationTimeout: OPERATION_TIMEOUT })
      const errors: unknown[] = []
      const app = appOn(engine, errors)
      try {
        const first = await send(app, '/visit')
        expect(first.status).toBe(200)
        const cookie = cookiePairOf(first)

        await proxy.cut()
        const load = await timed(engine.load(randomSessionId(), Date.now()))
        expect((load.error as { code?: string }).code).toBe('ECONNREFUSED')
        expect(load.ms).toBeLessThan(OPERATION_TIMEOUT)
        const commit = await timed(commitAndLoad(engine))
        expect((commit.error as { code?: string }).code).toBe('ECONNREFUSED')

        const started = performance.now()
        const failed = await send(app, '/visit', { cookie })
        expect(failed.status).toBe(503)
        expect(await failed.text()).toBe('Session engine failed to load a session')
        expect(failed.headers.getSetCookie()).toEqual([])
        expect(performance.now() - started).toBeLessThan(OPERATION_TIMEOUT + SLACK)
        const wrapped = errors.find((error) => error instanceof SessionEngineError) as SessionEngineError
        expect((wrapped.cause as { code?: string }).code).toBe('ECONNREFUSED')
        expect((await send(app, '/health')).status).toBe(200)

        await proxy.restore()
        const again = await send(app, '/visit', { cookie })
        expect(again.status).toBe(200)
        expect(await again.text()).toBe('2')
      } finally {
        await proxy.restore()
        await engine.close()
      }
    })

    test('a server that stops answering fails calls with EngineTimeoutError after operationTimeout', async () => {
      const engine = await mysqlEngine({ url: shared.urlThrough(proxy.port), operationTimeout: OPERATION_TIMEOUT })
      const errors: unknown[] = []
      const app = appOn(engine, errors)
      try {
        const cookie = cookiePairOf(await send(app, '/visit'))
        proxy.blackHole('black-hole')
        const [failed, health, ...calls] = await Promise.all([
          send(app, '/visit', { cookie }),
          send(app, '/health'),
          timed(engine.load(randomSessionId(), Date.now())),
          timed(commitAndLoad(engine)),
          timed(engine.count(Date.now())),
          timed(engine.deleteExpired(Date.now())),
        ])
        for (const call of calls) {
          expect(call.error).toBeInstanceOf(EngineTimeoutError)
          expect(call.ms).toBeGreaterThanOrEqual(OPERATION_TIMEOUT - 5)
          expect(call.ms).toBeLessThan(OPERATION_TIMEOUT + SLACK)
        }
        expect(failed.status).toBe(503)
        expect(await failed.text()).not.toContain('Timeout')
        expect(health.status).toBe(200)
        expect(errors.some((error) => (error as Error).cause instanceof EngineTimeoutError)).toBe(true)

        await proxy.restore()
        const again = await send(app, '/visit', { cookie })
        expect(again.status).toBe(200)
        expect(await again.text()).toBe('2')
      } finally {
        await proxy.restore()
        await engine.close()
      }
    })

    test('a server that is unreachable at startup fails the start within operationTimeout', async () => {
      await proxy.cut()
      try {
        const refused = await timed(mysqlEngine({ url: shared.urlThrough(proxy.port), operationTimeout: 1_000 }))
        expect((refused.error as { code?: string }).code).toBe('ECONNREFUSED')
      } finally {
        await proxy.restore()
      }
      proxy.blackHole('black-hole')
      try {
        const silent = await timed(mysqlEngine({ url: shared.urlThrough(proxy.port), operationTimeout: 1_000 }))
        expect(silent.error).toBeInstanceOf(EngineTimeoutError)
        expect(silent.ms).toBeLessThan(1_000 + SLACK)
      } finally {
        await proxy.restore()
      }
    })

    test('a commit that timed out never lands, even when its connection comes back after a later commit', async () => {
      const hanging = await mysqlEngine({ url: shared.urlThrough(proxy.port), operationTimeout: OPERATION_TIMEOUT })
      const direct = await mysqlEngine({ url: shared.url, operationTimeout: OPERATION_TIMEOUT })
      try {
        const id = randomSessionId()
        const commitValue = (engine: SessionEngine, value: string) => {
          const now = Date.now()
          return engine.commit(id, { set: { 'string:x': value }, deleted: [], expiresAt: now + HOUR }, now)
        }
        await commitValue(hanging, 'old')
        proxy.blackHole('forward')
        const stale = await timed(commitValue(hanging, 'stale'))
        expect(stale.error).toBeInstanceOf(EngineTimeoutError)
        expect(await commitValue(direct, 'new')).toBe(true)

        // The network heals: what the timed-out commit's connection held back reaches the server after all.
        await proxy.restore()
        await Bun.sleep(OPERATION_TIMEOUT)
        expect((await direct.load(id, Date.now()))?.data).toEqual({ 'string:x': 'new' })
      } finally {
        await proxy.restore()
        await Promise.all([hanging.close(), direct.close()])
      }
    })

    test('connections the server kills are replaced: the next calls all succeed', async () => {
      const engine = await mysqlEngine({ url: shared.url, operationTimeout: OPERATION_TIMEOUT })
      try {
        // Several connections in the pool, all idle when killed.
        await Promise.all(Array.from({ length: 8 }, (_, index) => commitAndLoad(engine, `kill-${index}`)))
        const victims = await connectionIdsOn(admin, shared.name)
        expect(victims.length).toBeGreaterThan(1)
        for (const id of victims) await admin.query(`KILL ${id}`)
        const after = await Promise.all(Array.from({ length: 8 }, (_, index) => commitAndLoad(engine, `kill-${index}`)))
        expect(after.every((stored) => stored?.data['string:name'] === 'Ada')).toBe(true)
        const survivors = await connectionIdsOn(admin, shared.name)
        expect(survivors.some((id) => victims.includes(id))).toBe(false)
      } finally {
        await engine.close()
      }
    })
  })

  describe('bundled migrations', () => {
    test('match the schema: drizzle-kit finds nothing to generate (run bun run db:generate after a schema change)', async () => {
      const last = JOURNAL.entries.at(-1)!
      const snapshot = JSON.parse(
        readFileSync(join(MIGRATIONS, `meta/${String(last.idx).padStart(4, '0')}_snapshot.json`), 'utf8'),
      )
      const current = await generateMySQLDrizzleJson({ sessions })
      expect(await generateMySQLMigration(snapshot, current)).toEqual([])
    })
  })
})
