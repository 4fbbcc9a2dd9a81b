import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import type { SessionEngine } from 'elysia-sessions'
import { MIGRATIONS_TABLE, postgresEngine } from 'elysia-sessions/engines/postgres'
import { OWNER_KEY } from '../src/internal-keys.js'
import { randomSessionId } from './support/cookie-format.js'
import { withOlderReleaseMigrations } from './support/migrations.js'
import { listingCostRatio } from './support/owner-scale.js'
import { owning } from './support/owners.js'
import { createFreshDatabase, type FreshDatabase } from './support/postgres.js'
import { testService } from './support/services.js'

const HOUR = 3_600_000

const postgres = testService('DATABASE_URL', 'postgres engine owners')

/** Applies only the first of the bundled migrations, as the previous release did, recorded where the engine looks. */
function migrateToFirstRelease(fresh: FreshDatabase): Promise<void> {
  return withOlderReleaseMigrations('postgres', 1, (folder) =>
    migrate(drizzle({ client: fresh.raw }), {
      migrationsFolder: folder,
      migrationsTable: MIGRATIONS_TABLE,
      migrationsSchema: 'drizzle',
    }),
  )
}

describe.skipIf(!postgres.url)(postgres.label, () => {
  const baseUrl = postgres.url as string
  const databases: FreshDatabase[] = []
  const engines: SessionEngine[] = []
  const freshDatabase = async (label: string) => {
    const fresh = await createFreshDatabase(baseUrl, label)
    databases.push(fresh)
    return fresh
  }
  const openEngine = async (fresh: FreshDatabase) => {
    const engine = await postgresEngine({ url: fresh.url })
    engines.push(engine)
    return engine
  }
  let shared: FreshDatabase
  let engine: SessionEngine

  beforeAll(async () => {
    shared = await freshDatabase('owners')
    engine = await openEngine(shared)
  })
  afterAll(async () => {
    await Promise.all(engines.map((each) => each.close()))
    await Promise.all(databases.map((fresh) => fresh.drop()))
  })

  const ownerColumnOf = async (id: string) => {
    const [row] = await shared.raw`SELECT owner FROM sessions WHERE id = ${id}`
    return (row as { owner: string | null } | undefined)?.owner
  }

  test('declares the owners capability', () => {
    expect(engine.capabilities?.owners).toBe(true)
  })

  test('commits made in one turn keep the owner column in step, each as it would alone, in order', async () => {
    const now = Date.now()
    const [moved, kept, created, cleared] = [randomSessionId(), randomSessionId(), randomSessionId(), randomSessionId()]
    await Promise.all([
      engine.commit(moved, owning('group-a', now), now),
      engine.commit(kept, owning('group-a', now), now),
      engine.commit(cleared, owning('group-a', now), now),
    ])
    const plain = { set: { 'string:x': 'y' }, deleted: [], expiresAt: now + HOUR, existingOnly: true }
    const results = await Promise.all([
      engine.commit(moved, owning('group-b', now, { existingOnly: true }), now),
      engine.commit(moved, plain, now),
      engine.commit(kept, plain, now),
      engine.commit(created, owning('group-b', now), now),
      engine.commit(cleared, owning(null, now, { existingOnly: true }), now),
    ])
    expect(results).toEqual([true, true, true, true, true])
    expect(await ownerColumnOf(moved)).toBe('group-b')
    expect(await ownerColumnOf(kept)).toBe('group-a')
    expect(await ownerColumnOf(created)).toBe('group-b')
    expect(await ownerColumnOf(cleared)).toBeNull()
    const idsOf = async (owner: string) => (await engine.listByOwner!(owner, now)).map((entry) => entry.id).toSorted()
    expect(await idsOf('group-a')).toEqual([kept])
    expect(await idsOf('group-b')).toEqual([moved, created].toSorted())
  })

  test('a session created anew over its expired row has no owner, whichever path its commit takes', async () => {
    const now = Date.now()
    const [grouped, alone] = [randomSessionId(), randomSessionId()]
    for (const id of [grouped, alone])
      await engine.commit(id, owning('expired-owner', now, { expiresAt: now + 10 }), now)
    const later = now + 1_000
    const fresh = { set: { 'string:new': 'yes' }, deleted: [], expiresAt: later + HOUR }
    expect(await engine.commit(grouped, fresh, later)).toBe(true)
    // A row locked elsewhere sends its group's commits one at a time, through the other statements.
    const locker = await shared.raw.reserve()
    try {
      await locker.unsafe(`BEGIN; SELECT 1 FROM sessions WHERE id = '${alone}' FOR UPDATE`)
      const committing = engine.commit(alone, fresh, later)
      await Bun.sleep(400)
      await locker.unsafe('COMMIT')
      expect(await committing).toBe(true)
    } finally {
      locker.release()
    }
    expect(await ownerColumnOf(grouped)).toBeNull()
    expect(await ownerColumnOf(alone)).toBeNull()
    expect(await engine.listByOwner!('expired-owner', later)).toEqual([])
  })

  test('an owner a text column cannot hold as it is gets a column value of its own', async () => {
    const now = Date.now()
    const [nul, lone, emoji] = [randomSessionId(), randomSessionId(), randomSessionId()]
    expect(await engine.commit(nul, owning('a\u0000b', now), now)).toBe(true)
    expect(await engine.commit(lone, owning('a\uD800b', now), now)).toBe(true)
    // A pair of surrogates is a character like any other, stored as itself.
    expect(await engine.commit(emoji, owning('emoji-\uD83D\uDE00', now), now)).toBe(true)
    expect(await ownerColumnOf(emoji)).toBe('emoji-\uD83D\uDE00')
    expect(await ownerColumnOf(nul)).not.toContain('\u0000')
    expect((await engine.listByOwner!('a\u0000b', now)).map((entry) => entry.id)).toEqual([nul])
    expect((await engine.listByOwner!('a\uD800b', now)).map((entry) => entry.id)).toEqual([lone])
    expect(await engine.deleteByOwner!('emoji-\uD83D\uDE00', [emoji], now)).toBe(0)
  })

  test('a database made by the previous release keeps its sessions, with no owner, and owners work after', async () => {
    const fresh = await freshDatabase('upgrade')
    await migrateToFirstRelease(fresh)
    const [{ n: columns }] = await fresh.raw`
      SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'sessions' AND column_name = 'owner'`
    expect(columns).toBe(0)
    const now = Date.now()
    const old = Array.from({ length: 3 }, randomSessionId)
    for (const id of old) {
      await fresh.raw`INSERT INTO sessions (id, data, expires_at) VALUES (${id}, '{"string:old":"kept"}', ${now + HOUR})`
    }

    const upgraded = await openEngine(fresh)
    const [{ n: applied }] = await fresh.raw.unsafe(`SELECT count(*)::int AS n FROM drizzle.${MIGRATIONS_TABLE}`)
    expect(applied).toBe(2)
    for (const id of old) {
      expect(await upgraded.load(id, now)).toEqual({ data: { 'string:old': 'kept' }, expiresAt: now + HOUR })
    }
    expect(await fresh.raw`SELECT DISTINCT owner FROM sessions`).toEqual([{ owner: null }])
    const indexes = await fresh.raw`SELECT indexname FROM pg_indexes WHERE tablename = 'sessions' ORDER BY indexname`
    expect(indexes).toContainEqual({ indexname: 'sessions_owner_idx' })

    expect(await upgraded.commit(old[0]!, owning('upgraded-user', now, { existingOnly: true }), now)).toBe(true)
    const listed = await upgraded.listByOwner!('upgraded-user', now)
    expect(listed).toEqual([
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
    const [small, large] = [await freshDatabase('owners_small'), await freshDatabase('owners_large')]
    const [smallEngine, largeEngine] = [await openEngine(small), await openEngine(large)]
    const now = Date.now()
    const fill = async (fresh: FreshDatabase, others: number) => {
      // Other owners, a few sessions each, straight into the table: as the engine writes them, only faster.
      await fresh.raw.unsafe(
        `INSERT INTO sessions (id, data, expires_at, owner)
         SELECT 'other-' || n, '{"string:n":"x"}', $1::bigint, 'user-' || (n % ($2::int / 3 + 1))
         FROM generate_series(1, $2::int) AS n`,
        [now + HOUR, others],
      )
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
