import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { drizzle } from 'drizzle-orm/mysql2'
import { migrate } from 'drizzle-orm/mysql2/migrator'
import type { SessionEngine } from 'elysia-sessions'
import { MIGRATIONS_TABLE, mysqlEngine } from 'elysia-sessions/engines/mysql'
import { createPool, type Pool } from 'mysql2/promise'
import { OWNER_KEY } from '../src/internal-keys.js'
import { randomSessionId } from './support/cookie-format.js'
import { withOlderReleaseMigrations } from './support/migrations.js'
import { type FreshDatabase, freshDatabases, rowsOf, scalar } from './support/mysql.js'
import { listingCostRatio } from './support/owner-scale.js'
import { owning } from './support/owners.js'
import { testService } from './support/services.js'

const HOUR = 3_600_000

const mysql = testService('MYSQL_URL', 'mysql engine owners')

/** Applies only the first of the bundled migrations, as the previous release did, recorded where the engine looks. */
function migrateToFirstRelease(pool: Pool): Promise<void> {
  return withOlderReleaseMigrations('mysql', 1, (folder) =>
    migrate(drizzle({ client: pool }), { migrationsFolder: folder, migrationsTable: MIGRATIONS_TABLE }),
  )
}

describe.skipIf(!mysql.url)(mysql.label, () => {
  let databases: ReturnType<typeof freshDatabases>
  let admin: Pool
  const engines: SessionEngine[] = []
  const pools: Pool[] = []
  const openEngine = async (db: FreshDatabase) => {
    const engine = await mysqlEngine({ url: db.url })
    engines.push(engine)
    return engine
  }
  const poolOn = (db: FreshDatabase) => {
    const pool = createPool({ uri: db.url, connectionLimit: 2 })
    pools.push(pool)
    return pool
  }
  let shared: FreshDatabase
  let engine: SessionEngine

  beforeAll(async () => {
    databases = freshDatabases(mysql.url as string)
    admin = databases.admin
    shared = await databases.create()
    engine = await openEngine(shared)
  })
  afterAll(async () => {
    await Promise.all(engines.map((each) => each.close()))
    await Promise.all(pools.map((pool) => pool.end()))
    await databases.dropAll()
  })

  const ownerColumnOf = async (id: string) => {
    const owner = await scalar(admin, `SELECT CAST(owner AS CHAR) FROM \`${shared.name}\`.sessions WHERE id = ?`, [id])
    return owner
  }

  test('declares the owners capability', () => {
    expect(engine.capabilities?.owners).toBe(true)
  })

  test('commits keep the owner column in step: set, moved, left alone, cleared', async () => {
    const now = Date.now()
    const [moved, kept, cleared] = [randomSessionId(), randomSessionId(), randomSessionId()]
    for (const id of [moved, kept, cleared]) await engine.commit(id, owning('user-a', now), now)
    const plain = { set: { 'string:x': 'y' }, deleted: [], expiresAt: now + HOUR, existingOnly: true }
    expect(await engine.commit(moved, owning('user-b', now, { existingOnly: true }), now)).toBe(true)
    expect(await engine.commit(moved, plain, now)).toBe(true)
    expect(await engine.commit(kept, plain, now)).toBe(true)
    expect(await engine.commit(cleared, owning(null, now, { existingOnly: true }), now)).toBe(true)
    expect(await ownerColumnOf(moved)).toBe('user-b')
    expect(await ownerColumnOf(kept)).toBe('user-a')
    expect(await ownerColumnOf(cleared)).toBeNull()
    expect((await engine.listByOwner!('user-a', now)).map((entry) => entry.id)).toEqual([kept])
    expect((await engine.listByOwner!('user-b', now)).map((entry) => entry.id)).toEqual([moved])
  })

  test('owners compare byte-wise: owners differing in case or by a trailing space are different owners', async () => {
    const now = Date.now()
    const owners = ['Case-Owner', 'case-owner', 'case-owner ']
    const ids = owners.map(() => randomSessionId())
    for (const [index, owner] of owners.entries()) await engine.commit(ids[index]!, owning(owner, now), now)
    for (const [index, owner] of owners.entries()) {
      expect((await engine.listByOwner!(owner, now)).map((entry) => entry.id)).toEqual([ids[index]!])
    }
    expect(await engine.deleteByOwner!('case-owner', [], now)).toBe(1)
    expect((await engine.listByOwner!('Case-Owner', now)).length).toBe(1)
  })

  test('a session created anew over its expired row has no owner', async () => {
    const now = Date.now()
    const id = randomSessionId()
    await engine.commit(id, owning('expired-owner', now, { expiresAt: now + 10 }), now)
    const later = now + 1_000
    expect(await engine.commit(id, { set: { 'string:new': 'yes' }, deleted: [], expiresAt: later + HOUR }, later)).toBe(
      true,
    )
    expect(await ownerColumnOf(id)).toBeNull()
    expect(await engine.listByOwner!('expired-owner', later)).toEqual([])
  })

  test('an owner UTF-8 cannot carry as it is gets a column value of its own, and the longest owner fits', async () => {
    const now = Date.now()
    const [nul, lone] = [randomSessionId(), randomSessionId()]
    expect(await engine.commit(nul, owning('a\u0000b', now), now)).toBe(true)
    expect(await engine.commit(lone, owning('a\uD800b', now), now)).toBe(true)
    expect((await engine.listByOwner!('a\u0000b', now)).map((entry) => entry.id)).toEqual([nul])
    expect((await engine.listByOwner!('a\uD800b', now)).map((entry) => entry.id)).toEqual([lone])
    // A pair of surrogates is a character like any other, and the longest owner fits.
    const emoji = '\uD83D\uDE00'.repeat(128)
    const longest = 'é'.repeat(256)
    const [first, second] = [randomSessionId(), randomSessionId()]
    expect(await engine.commit(first, owning(emoji, now), now)).toBe(true)
    expect(await engine.commit(second, owning(longest, now), now)).toBe(true)
    expect((await engine.listByOwner!(emoji, now)).map((entry) => entry.id)).toEqual([first])
    expect(await engine.deleteByOwner!(longest, ['x y', second], now)).toBe(0)
    expect(await engine.deleteByOwner!(longest, ['x y'], now)).toBe(1)
  })

  test('a database made by the previous release keeps its sessions, with no owner, and owners work after', async () => {
    const db = await databases.create()
    const pool = poolOn(db)
    await migrateToFirstRelease(pool)
    expect(
      await scalar(
        pool,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'sessions' AND column_name = 'owner'",
      ),
    ).toBe(0)
    const now = Date.now()
    const old = Array.from({ length: 3 }, randomSessionId)
    for (const id of old) {
      await pool.query('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)', [
        id,
        '{"string:old":"kept"}',
        now + HOUR,
      ])
    }

    const upgraded = await openEngine(db)
    expect(await scalar(pool, `SELECT count(*) FROM ${MIGRATIONS_TABLE}`)).toBe(2)
    for (const id of old) {
      expect(await upgraded.load(id, now)).toEqual({ data: { 'string:old': 'kept' }, expiresAt: now + HOUR })
    }
    expect(await rowsOf(pool, 'SELECT DISTINCT owner FROM sessions')).toEqual([[null]])
    const indexed = `SELECT column_name FROM information_schema.statistics
                     WHERE table_schema = DATABASE() AND index_name = 'sessions_owner_idx' ORDER BY seq_in_index`
    expect(await rowsOf(pool, indexed)).toEqual([['owner'], ['expires_at']])

    expect(await upgraded.commit(old[0]!, owning('upgraded-user', now, { existingOnly: true }), now)).toBe(true)
    expect(await upgraded.listByOwner!('upgraded-user', now)).toEqual([
      {
        id: old[0]!,
        data: { 'string:old': 'kept', 'string:k': 'v', [OWNER_KEY]: 'upgraded-user' },
        expiresAt: now + HOUR,
      },
    ])
    expect(await upgraded.deleteByOwner!('upgraded-user', [], now)).toBe(1)
    expect(await upgraded.count(now)).toBe(2)
  })

  test('listing an owner’s 5 sessions among 100,000 of other owners takes at most twice as long as among 1,000', async () => {
    const [small, large] = [await databases.create(), await databases.create()]
    const [smallEngine, largeEngine] = [await openEngine(small), await openEngine(large)]
    const now = Date.now()
    const fill = async (db: FreshDatabase, others: number) => {
      // Other owners, a few sessions each, straight into the table: as the engine writes them, only faster.
      const pool = poolOn(db)
      const batch = 10_000
      for (let start = 0; start < others; start += batch) {
        const rows = Array.from({ length: Math.min(batch, others - start) }, (_, offset) => {
          const n = start + offset
          return [`other-${n}`, '{"string:n":"x"}', now + HOUR, `user-${n % Math.ceil(others / 3)}`]
        })
        await pool.query('INSERT INTO sessions (id, data, expires_at, owner) VALUES ?', [rows])
      }
    }
    await Promise.all([fill(small, 995), fill(large, 100_000)])
    for (const target of [smallEngine, largeEngine]) {
      for (let index = 0; index < 5; index++) await target.commit(randomSessionId(), owning('the-owner', now), now)
    }
    for (const target of [smallEngine, largeEngine])
      expect((await target.listByOwner!('the-owner', now)).length).toBe(5)
    // Fewer samples than the helper's default: each listing is a round trip to the server, not a lookup in memory.
    const ratio = await listingCostRatio(smallEngine, largeEngine, 'the-owner', { samples: 21, listingsPerSample: 10 })
    expect(ratio).toBeLessThanOrEqual(2)
  }, 60_000)
})
