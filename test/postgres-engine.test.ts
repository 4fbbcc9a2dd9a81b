import { Database } from 'bun:sqlite'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SQL } from 'bun'
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sql'
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
  type PostgresEngineOptions,
  postgresEngine,
  sessions,
  sessionsTable,
} from 'elysia-sessions/engines/postgres'
import { runEngineConformance } from 'elysia-sessions/testing'
import { randomSessionId } from './support/cookie-format.js'
import { cookiePairOf, SECRET, send } from './support/http.js'
import {
  createFreshDatabase,
  type FreshDatabase,
  insertRows,
  terminateConnections,
  urlWithPort,
} from './support/postgres.js'
import { PROPERTY_SEED } from './support/property-runs.js'
import { testService } from './support/services.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

const MIGRATIONS = resolve(import.meta.dir, '../drizzle/postgres')
const JOURNAL = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
  entries: { idx: number; tag: string }[]
}
const HOUR = 3_600_000
/** The operationTimeout of the outage tests: short, so the tests stay quick. */
const OUTAGE_TIMEOUT = 500
/** How much later than its time limit a failing call may settle. */
const SLACK = 750

const postgres = testService('DATABASE_URL', 'postgres engine')

async function commitAndLoad(engine: SessionEngine, id = 'abc'): Promise<StoredSession | null> {
  const now = Date.now()
  await engine.commit(id, { set: { 'string:name': 'Ada' }, deleted: [], expiresAt: now + HOUR }, now)
  return engine.load(id, now)
}

/** Settles `work` and says how long it took, so a test can bound how fast a failure surfaces. */
async function timed<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; elapsed: number }> {
  const started = performance.now()
  const [result] = await Promise.allSettled([work])
  return { result: result!, elapsed: performance.now() - started }
}

/** Polls `condition` every 20 ms until it holds or `timeout` ms pass; resolves to whether it held. */
async function eventually(condition: () => Promise<boolean>, timeout: number): Promise<boolean> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await condition()) return true
    await Bun.sleep(20)
  }
  return condition()
}

function reasonOf(result: PromiseSettledResult<unknown>): Error {
  if (result.status === 'fulfilled') throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`)
  return result.reason as Error
}

/**
 * Runs `begin` in a transaction on a connection of its own, and leaves the transaction open, holding its locks, until
 * `end()` commits it.
 */
async function openTransaction(fresh: FreshDatabase, begin: (transaction: SQL) => Promise<unknown>) {
  const client = new SQL({ url: fresh.url, database: fresh.name, max: 1 })
  const begun = Promise.withResolvers<void>()
  const ending = Promise.withResolvers<void>()
  const done = client.begin(async (transaction) => {
    await begin(transaction)
    begun.resolve()
    await ending.promise
  })
  done.catch(begun.reject)
  await begun.promise
  return {
    async end() {
      ending.resolve()
      await done
      await client.close()
    },
  }
}

/** The number of migrations the migrator recorded, read from Drizzle's `drizzle` schema. */
async function appliedMigrations(raw: SQL): Promise<number> {
  const [row] = await raw.unsafe(`SELECT count(*)::int AS n FROM drizzle.${MIGRATIONS_TABLE}`)
  return (row as { n: number }).n
}

async function tableExists(raw: SQL, name: string, schema = 'public'): Promise<boolean> {
  const [row] = await raw`SELECT to_regclass(format('%I.%I', ${schema}::text, ${name}::text)) IS NOT NULL AS found`
  return (row as { found: boolean }).found
}

describe.skipIf(!postgres.url)(postgres.label, () => {
  const baseUrl = postgres.url as string
  const databases: FreshDatabase[] = []
  /** A database of its own, dropped after the file's tests. */
  const freshDatabase = async (label: string) => {
    const fresh = await createFreshDatabase(baseUrl, label)
    databases.push(fresh)
    return fresh
  }
  /** The conformance suite's database, which later tests share with ids and rows of their own. */
  let shared: FreshDatabase
  /** A database without a sessions table, which no engine migrates. */
  let bare: Promise<FreshDatabase> | undefined
  const bareDatabase = () => {
    bare ??= freshDatabase('bare')
    return bare
  }

  beforeAll(async () => {
    shared = await freshDatabase('engine')
  })
  afterAll(async () => {
    await Promise.all(databases.map((fresh) => fresh.drop()))
  })

  // bulkSize 1_000 keeps the suite quick; the sweep tests below prove sweeps of several batches.
  runEngineConformance('postgres', () => postgresEngine({ url: shared.url }), {
    sharedStore: true,
    bulkSize: 1_000,
    timeout: 15_000,
    // Declared, not read from an engine while the tests register: the database is made in beforeAll.
    owners: true,
    synchronous: false,
    modelRuns: 20,
    modelSeed: PROPERTY_SEED,
  })

  describe('postgresEngine({ url })', () => {
    test('migrates an empty database: the sessions table, its expiry and owner indexes, one record per migration', async () => {
      const fresh = await freshDatabase('migrate')
      await (await postgresEngine({ url: fresh.url })).close()
      await (await postgresEngine({ url: fresh.url })).close()
      expect(await appliedMigrations(fresh.raw)).toBe(JOURNAL.entries.length)
      const indexes = await fresh.raw`SELECT indexname FROM pg_indexes WHERE tablename = 'sessions'`
      expect(indexes).toContainEqual({ indexname: 'sessions_expires_at_idx' })
      expect(indexes).toContainEqual({ indexname: 'sessions_owner_idx' })
      expect(await tableExists(fresh.raw, MIGRATIONS_TABLE, 'drizzle')).toBe(true)
      expect(await tableExists(fresh.raw, '__drizzle_migrations', 'drizzle')).toBe(false)
    })

    test('eight engines started at the same moment on an empty database all come up and migrate it once', async () => {
      const fresh = await freshDatabase('race')
      const started = await Promise.allSettled(Array.from({ length: 8 }, () => postgresEngine({ url: fresh.url })))
      const engines = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
      try {
        expect(started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))).toEqual([])
        expect(await appliedMigrations(fresh.raw)).toBe(JOURNAL.entries.length)
        await Promise.all(engines.map((engine, index) => commitAndLoad(engine, `engine-${index}`)))
        const [row] = await fresh.raw`SELECT count(*)::int AS n FROM sessions`
        expect(row).toEqual({ n: 8 })
      } finally {
        await Promise.all(engines.map((engine) => engine.close()))
      }
    })

    test('a start waits for another instance’s migrations longer than operationTimeout, as with MySQL', async () => {
      const fresh = await freshDatabase('lock-wait')
      // What another instance holds while it migrates; `raw` has one connection, so unlocking finds it.
      const lock = "hashtextextended('elysia-sessions migrations', 0)"
      await fresh.raw.unsafe(`SELECT pg_advisory_lock(${lock})`)
      const starting = timed(postgresEngine({ url: fresh.url, operationTimeout: OUTAGE_TIMEOUT }))
      await Bun.sleep(3 * OUTAGE_TIMEOUT)
      await fresh.raw.unsafe(`SELECT pg_advisory_unlock(${lock})`)
      const { result } = await starting
      expect(result.status).toBe('fulfilled')
      const engine = (result as PromiseFulfilledResult<SessionEngine>).value
      expect(await commitAndLoad(engine)).not.toBeNull()
      await engine.close()
    })

    test('a host app whose newer migrations are in Drizzle’s default table still gets the sessions table', async () => {
      const fresh = await freshDatabase('host')
      // What Drizzle's migrator creates and records for a host app's migration made after ours.
      await fresh.raw`CREATE SCHEMA drizzle`
      await fresh.raw`
        CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`
      const later = Date.now() + 10 * 365 * 24 * HOUR
      await fresh.raw`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('host', ${later})`
      const engine = await postgresEngine({ url: fresh.url })
      expect(await commitAndLoad(engine)).not.toBeNull()
      await engine.close()
      expect(await fresh.raw`SELECT hash FROM drizzle.__drizzle_migrations`).toEqual([{ hash: 'host' }])
    })

    test('the database in the URL wins over PGDATABASE, which Bun SQL would otherwise prefer', async () => {
      const variable = 'PGDATABASE'
      const previous = process.env[variable]
      process.env[variable] = 'elysia_sessions_no_such_database'
      try {
        const engine = await postgresEngine({ url: shared.url })
        expect(await commitAndLoad(engine, 'pgdatabase')).not.toBeNull()
        await engine.close()
      } finally {
        if (previous === undefined) delete process.env[variable]
        else process.env[variable] = previous
      }
    })

    test('close() closes every connection the engine opened, and calling it twice is a no-op', async () => {
      const fresh = await freshDatabase('close')
      const engine = await postgresEngine({ url: fresh.url })
      await Promise.all(Array.from({ length: 4 }, (_, index) => commitAndLoad(engine, `close-${index}`)))
      await engine.close()
      await engine.close()
      expect(engine.load('close-0', Date.now())).rejects.toThrow('closed')
      // A server process ends a moment after its client hangs up.
      const othersGone = async () => {
        const [row] = await fresh.raw`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${fresh.name} AND pid <> pg_backend_pid()`
        return (row as { n: number }).n === 0
      }
      expect(await eventually(othersGone, 2_000)).toBe(true)
    })
  })

  describe('postgresEngine({ database })', () => {
    test('uses a Bun SQL client and never closes it', async () => {
      const client = new SQL({ url: shared.url, database: shared.name, max: 2 })
      const engine = await postgresEngine({ database: client })
      expect(await commitAndLoad(engine, 'from-client')).not.toBeNull()
      await engine.close()
      expect(await client`SELECT id FROM sessions WHERE id = 'from-client'`).toEqual([{ id: 'from-client' }])
      await client.close()
    })

    test('uses a Drizzle instance, whose app reads the table through its own schema, and never closes it', async () => {
      const db = drizzle({ client: new SQL({ url: shared.url, database: shared.name, max: 2 }), schema: { sessions } })
      const engine = await postgresEngine({ database: db })
      const stored = await commitAndLoad(engine, 'from-drizzle')
      await engine.close()
      const rows = await db.select().from(sessions).where(eq(sessions.id, 'from-drizzle'))
      expect(rows).toEqual([
        { id: 'from-drizzle', data: { 'string:name': 'Ada' }, expiresAt: stored!.expiresAt, owner: null },
      ])
      await db.$client.close()
    })

    test('does not migrate by default: a missing table fails at startup and says how to create it', async () => {
      const fresh = await bareDatabase()
      const failure = postgresEngine({ database: fresh.raw })
      expect(failure).rejects.toBeInstanceOf(SessionConfigError)
      expect(failure).rejects.toThrow(
        `Table 'sessions' does not exist in PostgreSQL database '${fresh.name}' at 127.0.0.1:5432. Create it from ` +
          "sessionsTable('sessions') in your migrations, or let the engine create the default 'sessions' table with " +
          'migrate: true.',
      )
      await failure.catch(() => {})
    })
  })

  describe('postgresEngine({ table })', () => {
    test('a custom table created from sessionsTable(name) by drizzle-kit works with migrate: false', async () => {
      const fresh = await bareDatabase()
      const empty = generateDrizzleJson({})
      const schema = generateDrizzleJson({ userSessions: sessionsTable('user_sessions') })
      for (const statement of await generateMigration(empty, schema)) await fresh.raw.unsafe(statement)
      const engine = await postgresEngine({ database: fresh.raw, table: 'user_sessions' })
      expect(await commitAndLoad(engine)).not.toBeNull()
      await engine.close()
      expect(await fresh.raw`SELECT id FROM user_sessions`).toEqual([{ id: 'abc' }])
      expect(await tableExists(fresh.raw, 'sessions')).toBe(false)
    })
  })

  describe('ids and data', () => {
    test('ids that differ only in case are two sessions', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const tail = randomSessionId().slice(2)
      const [lower, upper] = [`aB${tail}`, `Ab${tail}`]
      const now = Date.now()
      await engine.commit(lower, { set: { 'string:who': 'aB' }, deleted: [], expiresAt: now + HOUR }, now)
      await engine.commit(upper, { set: { 'string:who': 'Ab' }, deleted: [], expiresAt: now + HOUR }, now)
      expect((await engine.load(lower, now))?.data).toEqual({ 'string:who': 'aB' })
      expect((await engine.load(upper, now))?.data).toEqual({ 'string:who': 'Ab' })
      await engine.close()
    })

    test('an id a text column cannot hold (U+0000, lone surrogates) is unknown, and commit refuses it', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const now = Date.now()
      for (const id of ['a\u0000b', 'a\uD800b']) {
        expect(await engine.load(id, now)).toBeNull()
        expect(await engine.touch(id, now + HOUR, now)).toBe(false)
        expect(engine.commit(id, { set: {}, deleted: [], expiresAt: now + HOUR }, now)).rejects.toThrow(
          /cannot store the session id/,
        )
      }
      await engine.close()
    })

    test('data is stored as JSON text, which keeps U+0000 and lone surrogates that jsonb refuses', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const now = Date.now()
      const data = { 'string:nul': 'a\u0000b', 'string:surrogate': '\uD800' }
      await engine.commit('json-text', { set: data, deleted: [], expiresAt: now + HOUR }, now)
      await engine.close()
      const [row] = await shared.raw`SELECT data, pg_typeof(data)::text AS type FROM sessions WHERE id = 'json-text'`
      expect(row).toEqual({ data: JSON.stringify(data), type: 'text' })
      for (const value of Object.values(data)) {
        // Cast from text: Bun SQL would send a string parameter of type jsonb as a JSON string of that text.
        expect(Promise.resolve(shared.raw`SELECT ${JSON.stringify(value)}::text::jsonb`)).rejects.toThrow()
      }
    })
  })

  describe('commit', () => {
    test('a commit with existingOnly waits for a concurrent delete and then writes nothing', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const locker = new SQL({ url: shared.url, database: shared.name, max: 1 })
      const id = randomSessionId()
      const now = Date.now()
      await engine.commit(id, { set: { 'string:a': '1' }, deleted: [], expiresAt: now + HOUR }, now)
      const locked = Promise.withResolvers<void>()
      const deleteNow = Promise.withResolvers<void>()
      const deleting = locker.begin(async (transaction) => {
        await transaction`SELECT 1 FROM sessions WHERE id = ${id} FOR UPDATE`
        locked.resolve()
        await deleteNow.promise
        await transaction`DELETE FROM sessions WHERE id = ${id}`
      })
      await locked.promise
      let settled = false
      const changes = { set: { 'string:b': '2' }, deleted: [], expiresAt: now + HOUR, existingOnly: true }
      const committing = engine.commit(id, changes, now).finally(() => {
        settled = true
      })
      await Bun.sleep(100)
      // The commit waits for the row, so it cannot decide on data read before the delete.
      expect(settled).toBe(false)
      deleteNow.resolve()
      await deleting
      expect(await committing).toBe(false)
      expect(await engine.load(id, now)).toBeNull()
      expect(await shared.raw`SELECT id FROM sessions WHERE id = ${id}`).toEqual([])
      await engine.close()
      await locker.close()
    })
  })

  describe('calls made in one turn', () => {
    const changesOf = (key: string, now: number, existingOnly = false) => ({
      set: { [`string:${key}`]: key },
      deleted: [],
      expiresAt: now + HOUR,
      ...(existingOnly && { existingOnly }),
    })

    test('commits land in one transaction, each as it would alone, in order for one session', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const now = Date.now()
      const existing = randomSessionId()
      await engine.commit(existing, changesOf('kept', now), now)
      const created = Array.from({ length: 5 }, randomSessionId)
      const unknown = randomSessionId()
      const results = await Promise.all([
        ...created.map((id) => engine.commit(id, changesOf('new', now), now)),
        engine.commit(existing, { ...changesOf('a', now, true), deleted: ['string:kept'] }, now),
        engine.commit(existing, changesOf('b', now, true), now),
        engine.commit(unknown, changesOf('never', now, true), now),
      ])
      expect(results).toEqual([true, true, true, true, true, true, true, false])
      // Rows written by one transaction share its id as their xmin.
      const rows = await shared.raw.unsafe('SELECT xmin::text AS writer FROM sessions WHERE id = ANY($1::text[])', [
        [...created, existing],
      ])
      expect(rows.length).toBe(6)
      expect(new Set(rows.map((row: { writer: string }) => row.writer)).size).toBe(1)
      expect((await engine.load(existing, now))?.data).toEqual({ 'string:a': 'a', 'string:b': 'b' })
      expect(await shared.raw`SELECT id FROM sessions WHERE id = ${unknown}`).toEqual([])
      await engine.close()
    })

    test('loads are answered over one connection, each for its own now and with data of its own', async () => {
      const client = new SQL({ url: shared.url, database: shared.name })
      const engine = await postgresEngine({ database: client })
      const now = Date.now()
      const id = randomSessionId()
      await engine.commit(id, { ...changesOf('x', now), expiresAt: now + 1_000 }, now)
      let reserved = 0
      const reserve = client.reserve.bind(client)
      client.reserve = () => {
        reserved++
        return reserve()
      }
      const loads = await Promise.all([
        ...Array.from({ length: 30 }, () => engine.load(id, now)),
        engine.load(id, now + 2_000),
        engine.load(randomSessionId(), now),
      ])
      expect(reserved).toBe(1)
      expect(loads[0]).toEqual({ data: { 'string:x': 'x' }, expiresAt: now + 1_000 })
      expect(loads[1]).toEqual(loads[0])
      expect(loads[1]?.data).not.toBe(loads[0]?.data)
      expect(loads.slice(30)).toEqual([null, null])
      // Gone before it expires, so no sweep test on this shared store counts it.
      await engine.delete(id)
      await engine.close()
      await client.close()
    })

    test('a session locked elsewhere holds up only its own commit, which lands once the lock is gone', async () => {
      const engine = await postgresEngine({ url: shared.url, operationTimeout: 10_000 })
      const now = Date.now()
      const [locked, other, another] = [randomSessionId(), randomSessionId(), randomSessionId()]
      await engine.commit(locked, changesOf('before', now), now)
      const locker = await openTransaction(shared, (transaction) =>
        transaction.unsafe('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [locked]),
      )
      let lockedSettled = false
      const lockedCommit = engine.commit(locked, changesOf('after', now, true), now).finally(() => {
        lockedSettled = true
      })
      const others = [engine.commit(other, changesOf('o', now), now), engine.commit(another, changesOf('a', now), now)]
      // Without running one at a time, these would wait out the lock, here until their time limit.
      expect(await Promise.all(others)).toEqual([true, true])
      // Nor does the commit left waiting hold up later groups.
      expect(await engine.commit(randomSessionId(), changesOf('later', now), now)).toBe(true)
      expect(lockedSettled).toBe(false)
      await locker.end()
      expect(await lockedCommit).toBe(true)
      expect((await engine.load(locked, now))?.data).toEqual({ 'string:before': 'before', 'string:after': 'after' })
      await engine.close()
    })

    test('a commit to a session another transaction creates meanwhile applies after it, keeping both', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const now = Date.now()
      const id = randomSessionId()
      const creator = await openTransaction(shared, (transaction) =>
        transaction.unsafe(`INSERT INTO sessions (id, data, expires_at) VALUES ($1, '{"string:theirs":"t"}', $2)`, [
          id,
          now + HOUR,
        ]),
      )
      // The group finds no row to lock, then its insert waits for the other one and gives way to it.
      const committing = engine.commit(id, changesOf('mine', now), now)
      await Bun.sleep(100)
      await creator.end()
      expect(await committing).toBe(true)
      expect((await engine.load(id, now))?.data).toEqual({ 'string:theirs': 't', 'string:mine': 'mine' })
      await engine.close()
    })

    test('a commit whose data cannot be stored fails alone', async () => {
      const engine = await postgresEngine({ url: shared.url })
      const now = Date.now()
      const [good, bad] = [randomSessionId(), randomSessionId()]
      const unstorable = { set: { 'int:n': 1n as never }, deleted: [], expiresAt: now + HOUR }
      const [goodResult, badResult] = await Promise.allSettled([
        engine.commit(good, changesOf('g', now), now),
        engine.commit(bad, unstorable, now),
      ])
      expect(goodResult).toEqual({ status: 'fulfilled', value: true })
      expect(reasonOf(badResult)).toBeInstanceOf(TypeError)
      expect(await engine.load(bad, now)).toBeNull()
      await engine.close()
    })

    test('close() refuses calls not sent yet and waits for those under way', async () => {
      const client = new SQL({ url: shared.url, database: shared.name })
      const engine = await postgresEngine({ database: client })
      const now = Date.now()
      const [underWay, unsent] = [randomSessionId(), randomSessionId()]
      await engine.commit(underWay, changesOf('before', now), now)
      const locker = await openTransaction(shared, (transaction) =>
        transaction.unsafe('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [underWay]),
      )
      const order: string[] = []
      const committing = engine.commit(underWay, changesOf('after', now, true), now).then((wrote) => {
        order.push('commit')
        return wrote
      })
      // Past the end of the turn: the commit is sent and waits for the lock.
      await Bun.sleep(50)
      const refused = engine.commit(unsent, changesOf('never', now), now)
      const closing = engine.close().then(() => order.push('close'))
      await expect(refused).rejects.toThrow('The postgres session engine is closed')
      await locker.end()
      await closing
      expect(await committing).toBe(true)
      expect(order).toEqual(['commit', 'close'])
      expect(await shared.raw`SELECT id FROM sessions WHERE id = ${unsent}`).toEqual([])
      await client.close()
    })
  })

  describe('deleteAll and entries', () => {
    test('deleteAll deletes a table of exactly two full batches, and nothing is left', async () => {
      const fresh = await freshDatabase('delete-all')
      const engine = await postgresEngine({ url: fresh.url })
      await insertRows(fresh.raw, 2_000, Date.now() + HOUR, 'all')
      await engine.deleteAll()
      expect(await fresh.raw`SELECT count(*)::int AS n FROM sessions`).toEqual([{ n: 0 }])
      await engine.close()
    })

    test('entries refuses a batchSize that is not a positive integer, as every engine does', async () => {
      const engine = await postgresEngine({ url: shared.url })
      for (const batchSize of [0, -1, 1.5, Number.NaN]) {
        const listing = Array.fromAsync(engine.entries(Date.now(), { batchSize }))
        expect(listing).rejects.toThrow(
          new RangeError(`entries({ batchSize }) needs a positive integer, got ${batchSize}`),
        )
        await listing.catch(() => {})
      }
      await engine.close()
    })
  })

  describe('deleteExpired', () => {
    /** How many rows of `shared` have ids starting with `prefix`. */
    const rowsOf = async (prefix: string) => {
      const [row] = await shared.raw`SELECT count(*)::int AS n FROM sessions WHERE id LIKE ${`${prefix}-%`}`
      return (row as { n: number }).n
    }

    test('two engines sweeping one store at once delete every expired session once, without errors', async () => {
      const [first, second] = await Promise.all([
        postgresEngine({ url: shared.url }),
        postgresEngine({ url: shared.url }),
      ])
      const now = Date.now()
      // Several batches each, so the two sweeps overlap.
      await insertRows(shared.raw, 4_500, now - 60_000, 'swept')
      await insertRows(shared.raw, 10, now + HOUR, 'kept')
      const swept = await Promise.all([first.deleteExpired(now), second.deleteExpired(now)])
      expect(swept[0] + swept[1]).toBe(4_500)
      expect([await rowsOf('swept'), await rowsOf('kept')]).toEqual([0, 10])
      await Promise.all([first.close(), second.close()])
    })

    test('a sweep skips the rows another transaction holds instead of waiting for them', async () => {
      const engine = await postgresEngine({ url: shared.url, operationTimeout: 2_000 })
      const locker = new SQL({ url: shared.url, database: shared.name, max: 1 })
      const now = Date.now()
      await insertRows(shared.raw, 50, now - 60_000, 'held')
      const locked = Promise.withResolvers<void>()
      const release = Promise.withResolvers<void>()
      const holding = locker.begin(async (transaction) => {
        await transaction`SELECT 1 FROM sessions WHERE id = 'held-1' FOR UPDATE`
        locked.resolve()
        await release.promise
      })
      await locked.promise
      const { result, elapsed } = await timed(engine.deleteExpired(now))
      release.resolve()
      await holding
      expect(result).toEqual({ status: 'fulfilled', value: 49 })
      expect(elapsed).toBeLessThan(1_000)
      expect(await engine.deleteExpired(now)).toBe(1)
      await engine.close()
      await locker.close()
    })
  })

  describe('outages', () => {
    let proxy: TcpProxy
    let engine: SessionEngine
    let app: { handle(request: Request): Promise<Response> }
    const errors: unknown[] = []

    beforeAll(async () => {
      proxy = await startTcpProxy(Number(new URL(baseUrl).port || 5432))
      engine = await postgresEngine({ url: urlWithPort(shared.url, proxy.port), operationTimeout: OUTAGE_TIMEOUT })
      app = new Elysia()
        .onError(({ error }) => {
          errors.push(error)
        })
        .use(session({ secret: SECRET, engine, logger: { error: () => {} } }))
        .get('/health', () => 'ok', { session: false })
        .get('/set', ({ session }) => {
          session.string('name', 'Ada')
          return 'set'
        })
        .get('/name', ({ session }) => session.string('name') ?? 'none')
    })
    afterAll(async () => {
      await engine?.close()
      await proxy?.close()
    })

    /** A session written while the server was reachable, as a browser's cookie. */
    const signedIn = async () => {
      const response = await send(app, '/set')
      expect(response.status).toBe(200)
      return cookiePairOf(response) as string
    }

    test('a cut connection fails calls and requests within operationTimeout, with the cause', async () => {
      const cookie = await signedIn()
      await proxy.cut()
      try {
        const direct = await timed(engine.load(randomSessionId(), Date.now()))
        expect(direct.elapsed).toBeLessThan(OUTAGE_TIMEOUT + SLACK)
        expect(reasonOf(direct.result)).toHaveProperty('code', expect.stringMatching(/^ERR_POSTGRES_/))

        errors.length = 0
        const request = await timed(send(app, '/name', { cookie }))
        expect(request.elapsed).toBeLessThan(OUTAGE_TIMEOUT + SLACK)
        expect(request.result).toMatchObject({ status: 'fulfilled', value: { status: 503 } })
        const answer = (request.result as PromiseFulfilledResult<Response>).value
        expect(await answer.text()).toBe('Session engine failed to load a session')
        expect(answer.headers.getSetCookie()).toEqual([])
        const failure = errors.find((error) => error instanceof SessionEngineError) as SessionEngineError
        expect(failure).toBeInstanceOf(SessionEngineError)
        expect(failure.cause).toBeInstanceOf(Error)

        const health = await send(app, '/health')
        expect(await health.text()).toBe('ok')
      } finally {
        await proxy.restore()
      }
      // The same engine, not a new one, reads the session again.
      const back = await send(app, '/name', { cookie })
      expect(await back.text()).toBe('Ada')
    })

    test('a server that stops answering fails calls with the timeout error', async () => {
      const cookie = await signedIn()
      // Pooled connections and new ones alike hang.
      proxy.blackHole('black-hole')
      try {
        errors.length = 0
        const now = Date.now()
        const changes = { set: { 'string:x': 'y' }, deleted: [], expiresAt: now + HOUR }
        // Started together, so both wait on connection attempts that began no earlier than they did.
        const direct = timed(engine.commit(randomSessionId(), changes, now))
        const request = timed(send(app, '/name', { cookie }))
        const health = await timed(send(app, '/health'))
        expect(health.elapsed).toBeLessThan(OUTAGE_TIMEOUT / 2)
        expect(health.result).toMatchObject({ status: 'fulfilled', value: { status: 200 } })

        const call = await direct
        expect(reasonOf(call.result)).toBeInstanceOf(EngineTimeoutError)
        expect(call.elapsed).toBeGreaterThanOrEqual(OUTAGE_TIMEOUT - 10)
        expect(call.elapsed).toBeLessThan(OUTAGE_TIMEOUT + SLACK)

        const answered = await request
        expect(answered.result).toMatchObject({ status: 'fulfilled', value: { status: 503 } })
        expect(answered.elapsed).toBeLessThan(OUTAGE_TIMEOUT + SLACK)
        const failure = errors.find((error) => error instanceof SessionEngineError) as SessionEngineError
        expect(failure.cause).toBeInstanceOf(EngineTimeoutError)
      } finally {
        await proxy.restore()
      }
      // Connection attempts begun during the stall wait for answers that never come until they give up, at twice
      // operationTimeout; then the same engine answers again.
      const answers = async () => (await send(app, '/name', { cookie })).status === 200
      expect(await eventually(answers, 2 * OUTAGE_TIMEOUT + SLACK)).toBe(true)
      expect(await (await send(app, '/name', { cookie })).text()).toBe('Ada')
    })

    test('after pg_terminate_backend of its connections, at most the next call fails, with its cause', async () => {
      const ids = Array.from({ length: 4 }, () => randomSessionId())
      // Several connections open at once, so the pool holds more than one for the server to end.
      await Promise.all(ids.map((id) => commitAndLoad(engine, id)))
      expect(await terminateConnections(shared.raw, shared.name)).toBeGreaterThan(0)
      const first = await timed(engine.load(ids[0]!, Date.now()))
      if (first.result.status === 'rejected') expect(reasonOf(first.result)).toHaveProperty('code')
      const next = await Promise.all(ids.map((id) => engine.load(id, Date.now())))
      expect(next.map((stored) => stored?.data)).toEqual(ids.map(() => ({ 'string:name': 'Ada' })))
    })
  })

  describe('connections that hang without closing', () => {
    let proxy: TcpProxy
    /** An engine through the proxy, and another instance on the same database that reaches it directly. */
    let hanging: SessionEngine
    let direct: SessionEngine
    const opened: SessionEngine[] = []

    beforeAll(async () => {
      direct = await postgresEngine({ url: shared.url, operationTimeout: OUTAGE_TIMEOUT })
      opened.push(direct)
    })
    beforeEach(async () => {
      proxy = await startTcpProxy(Number(new URL(baseUrl).port || 5432))
      hanging = await postgresEngine({ url: urlWithPort(shared.url, proxy.port), operationTimeout: OUTAGE_TIMEOUT })
      opened.push(hanging)
    })
    afterEach(async () => {
      await hanging.close()
      await proxy.close()
    })
    afterAll(() => Promise.all(opened.map((engine) => engine.close())))

    const commitValue = (engine: SessionEngine, id: string, value: string) => {
      const now = Date.now()
      return engine.commit(id, { set: { 'string:x': value }, deleted: [], expiresAt: now + HOUR }, now)
    }
    const storedValueOf = async (id: string) => (await direct.load(id, Date.now()))?.data['string:x']

    test('a commit that timed out never lands, even when its connection comes back after a later commit', async () => {
      const id = randomSessionId()
      await commitValue(hanging, id, 'old')
      proxy.blackHole('forward')
      const stale = await timed(commitValue(hanging, id, 'stale'))
      expect(reasonOf(stale.result)).toBeInstanceOf(EngineTimeoutError)
      expect(await commitValue(direct, id, 'new')).toBe(true)

      // The network heals: what the timed-out commit's connection held back reaches the server after all.
      await proxy.restore()
      await Bun.sleep(2 * OUTAGE_TIMEOUT)
      expect(await storedValueOf(id)).toBe('new')
      expect(await commitValue(hanging, id, 'newer')).toBe(true)
      expect(await storedValueOf(id)).toBe('newer')
    })

    test('a pool whose every connection hangs while the server is fine recovers after one timeout', async () => {
      const ids = Array.from({ length: 12 }, () => randomSessionId())
      // More calls at once than the pool has connections, so it holds all it may.
      await Promise.all(ids.map((id) => commitValue(hanging, id, 'old')))
      proxy.blackHole('forward')

      const first = await timed(hanging.load(ids[0]!, Date.now()))
      expect(reasonOf(first.result)).toBeInstanceOf(EngineTimeoutError)
      // Calls one after the other, the worst case: each would otherwise meet another hung connection.
      const started = performance.now()
      const loaded: unknown[] = []
      for (const id of ids.slice(1, 6)) loaded.push((await hanging.load(id, Date.now()))?.data)
      expect(loaded).toEqual(ids.slice(1, 6).map(() => ({ 'string:x': 'old' })))
      expect(performance.now() - started).toBeLessThan(2 * OUTAGE_TIMEOUT + SLACK)
    })

    test('a transaction frozen mid-commit gives up its row lock within a few operationTimeouts', async () => {
      // A longer time limit than the other instance's, so the steps below fit well within it on a busy machine.
      const slow = await postgresEngine({
        url: urlWithPort(shared.url, proxy.port),
        operationTimeout: 4 * OUTAGE_TIMEOUT,
      })
      opened.push(slow)
      const id = randomSessionId()
      await commitValue(slow, id, 'old')
      const locker = new SQL({ url: shared.url, database: shared.name, max: 1 })
      try {
        // The row is held, so the commit below sends its statement and waits on the server for the lock.
        const locked = Promise.withResolvers<void>()
        const release = Promise.withResolvers<void>()
        const holding = locker.begin(async (transaction) => {
          await transaction`SELECT 1 FROM sessions WHERE id = ${id} FOR UPDATE`
          locked.resolve()
          await release.promise
        })
        await locked.promise
        const frozen = timed(commitValue(slow, id, 'frozen'))
        const waitsForLock = async () => {
          const [row] = await shared.raw`
            SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${shared.name} AND wait_event_type = 'Lock'`
          return (row as { n: number }).n > 0
        }
        expect(await eventually(waitsForLock, 2 * OUTAGE_TIMEOUT)).toBe(true)
        // The commit gets the lock once the holder lets go, but its client never hears so and never finishes.
        proxy.blackHole('forward')
        release.resolve()
        await holding
        expect(reasonOf((await frozen).result)).toBeInstanceOf(EngineTimeoutError)

        // Another instance's commit of the session goes through once the server ends the frozen transaction.
        const started = performance.now()
        const committed = async () => (await commitValue(direct, id, 'new').catch(() => false)) === true
        expect(await eventually(committed, 12 * OUTAGE_TIMEOUT)).toBe(true)
        expect(performance.now() - started).toBeLessThan(12 * OUTAGE_TIMEOUT)
        expect(await storedValueOf(id)).toBe('new')
      } finally {
        await locker.close()
      }
    })
  })
})

describe('postgresEngine options', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/test'
  const bad: [string, unknown, RegExp][] = [
    ['no options', undefined, /needs \{ url: 'postgres:\/\/user@host:5432\/database' \} or \{ database \}/],
    ['neither url nor database', {}, /exactly one of/],
    ['both url and database', { url, database: new SQL(url) }, /exactly one of/],
    ['a URL of another server', { url: 'mysql://root@127.0.0.1:3306/test' }, /needs a URL such as/],
    ['a URL that is not one', { url: '127.0.0.1:5432' }, /needs a URL such as/],
    ['a database that is not a client', { database: { query() {} } }, /Bun SQL client for PostgreSQL/],
    ['a bun:sqlite database', { database: new Database(':memory:') }, /Bun SQL client for PostgreSQL/],
    ['a Bun SQL client for SQLite', { database: new SQL(':memory:') }, /Bun SQL client for PostgreSQL/],
    ['a table name with a quote', { url, table: 'x"; DROP', migrate: false }, /letters, digits and _/],
    ['an operationTimeout of 0', { url, operationTimeout: 0 }, /operationTimeout/],
    ['a fractional operationTimeout', { url, operationTimeout: 1.5 }, /operationTimeout/],
    ['an operationTimeout as text', { url, operationTimeout: '5000' }, /operationTimeout/],
    ['an operationTimeout setTimeout cannot wait', { url, operationTimeout: 2 ** 31 }, /from 1 to 2147483647/],
    ['a URL with a password', { url: 'http://user:secret@host/db' }, /got a http:\/\/ URL$/],
    ['a migrate that is not a boolean', { url, migrate: 'yes' }, /migrate/],
    [
      'a custom table with the bundled migrations',
      { url, table: 'user_sessions' },
      /Pass migrate: false and create the table from sessionsTable\('user_sessions'\)/,
    ],
  ]
  for (const [what, options, message] of bad) {
    test(`${what} fails at startup with a SessionConfigError that says what to pass`, async () => {
      const failure = postgresEngine(options as PostgresEngineOptions)
      expect(failure).rejects.toBeInstanceOf(SessionConfigError)
      expect(failure).rejects.toThrow(message)
      await failure.catch(() => {})
    })
  }
})

describe('postgresEngine startup without a server', () => {
  test('a server that refuses connections fails startup within operationTimeout, with the cause', async () => {
    const proxy = await startTcpProxy(5432)
    await proxy.cut()
    try {
      const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`
      const { result, elapsed } = await timed(postgresEngine({ url, operationTimeout: OUTAGE_TIMEOUT }))
      const error = reasonOf(result)
      expect(error).toBeInstanceOf(SessionEngineError)
      expect(error.message).toContain(`at 127.0.0.1:${proxy.port}`)
      expect(error.cause).toBeInstanceOf(Error)
      expect(elapsed).toBeLessThan(OUTAGE_TIMEOUT + SLACK)
    } finally {
      await proxy.close()
    }
  })

  test('a server that never answers fails startup with the timeout error as the cause', async () => {
    const proxy = await startTcpProxy(5432)
    proxy.blackHole('black-hole')
    try {
      const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`
      const { result, elapsed } = await timed(postgresEngine({ url, operationTimeout: OUTAGE_TIMEOUT }))
      const error = reasonOf(result)
      expect(error).toBeInstanceOf(SessionEngineError)
      expect(error.cause).toBeInstanceOf(EngineTimeoutError)
      expect(elapsed).toBeLessThan(OUTAGE_TIMEOUT + SLACK)
    } finally {
      await proxy.close()
    }
  })
})

describe('bundled migrations', () => {
  test('match the schema: drizzle-kit finds nothing to generate (else run bun run db:generate)', async () => {
    const last = JOURNAL.entries.at(-1)!
    const snapshot = JSON.parse(
      readFileSync(join(MIGRATIONS, `meta/${String(last.idx).padStart(4, '0')}_snapshot.json`), 'utf8'),
    )
    expect(await generateMigration(snapshot, generateDrizzleJson({ sessions }))).toEqual([])
  })
})
