import { afterAll, expect, test } from 'bun:test'
import type { SessionChanges, SessionEngine } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { randomSessionId } from './support/cookie-format.js'
import { freshDatabasePath, openRaw } from './support/sqlite.js'

/** Where the plugin keeps the owner in a session's data. */
const OWNER_KEY = 'meta:owner'
const HOUR = 3_600_000
const SMALL_STORE = 1_000
const LARGE_STORE = 100_000
const OWN_SESSIONS = 5
/**
 * How many times each store is timed, one call at a time: on a busy machine another process takes the CPU every few
 * milliseconds, so most single calls run uninterrupted and their median is what a call costs.
 */
const SAMPLES = 301
const ALLOWED_RATIO = 2

interface Store {
  readonly engine: SessionEngine
  readonly owner: string
}

const engines: SessionEngine[] = []
afterAll(async () => {
  for (const engine of engines) await engine.close()
})

function bindTo(owner: string, now: number): SessionChanges {
  return { set: { [OWNER_KEY]: owner, 'string:device': 'phone' }, deleted: [], expiresAt: now + HOUR, owner }
}

/** A store of `others` sessions, four per owner, plus `OWN_SESSIONS` of the owner the test lists. */
async function storeWith(others: number, now: number): Promise<Store> {
  const path = freshDatabasePath()
  const engine = await sqliteEngine({ path })
  engines.push(engine)
  const raw = openRaw(path)
  const insert = raw.prepare('INSERT INTO sessions (id, data, expires_at, owner) VALUES (?, ?, ?, ?)')
  raw.transaction(() => {
    for (let index = 0; index < others; index++) {
      const owner = `user-${index >> 2}`
      insert.run(randomSessionId(), JSON.stringify({ [OWNER_KEY]: owner }), now + HOUR, owner)
    }
  })()
  raw.close()
  const owner = 'the-owner'
  await bindOwnSessions({ engine, owner }, now)
  return { engine, owner }
}

async function bindOwnSessions({ engine, owner }: Store, now: number): Promise<void> {
  const commits = Array.from({ length: OWN_SESSIONS }, () => engine.commit(randomSessionId(), bindTo(owner, now), now))
  await Promise.all(commits)
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[sorted.length >> 1]!
}

/**
 * Times `call` on both stores, `SAMPLES` times each, alternating which goes first, and resolves to the median time on
 * the large store over the median on the small one: noise on a busy machine hits both alike. `setUp` runs untimed
 * before each call.
 */
async function medianRatio(
  small: Store,
  large: Store,
  call: (store: Store) => Promise<void>,
  setUp: (store: Store) => Promise<void> = async () => {},
): Promise<number> {
  const times = { small: [] as number[], large: [] as number[] }
  const timed = async (store: Store) => {
    await setUp(store)
    const started = performance.now()
    await call(store)
    return performance.now() - started
  }
  // Warm up both: the first calls pay for JIT compilation and for reading the index's pages into SQLite's cache.
  for (let round = 0; round < 20; round++) for (const store of [small, large]) await timed(store)
  for (let round = 0; round < SAMPLES; round++) {
    const order = round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)
    for (const size of order) times[size].push(await timed(size === 'small' ? small : large))
  }
  return median(times.large) / median(times.small)
}

test(`listing an owner’s ${OWN_SESSIONS} sessions or deleting them takes at most ${ALLOWED_RATIO}x as long among ${LARGE_STORE.toLocaleString('en')} sessions as among ${SMALL_STORE.toLocaleString('en')}`, async () => {
  const now = Date.now()
  const small = await storeWith(SMALL_STORE, now)
  const large = await storeWith(LARGE_STORE, now)

  const listRatio = await medianRatio(small, large, async ({ engine, owner }) => {
    expect((await engine.listByOwner!(owner, now)).length).toBe(OWN_SESSIONS)
  })

  // Before each delete, untimed, the owner gets its sessions back (the store starts with them).
  const deleteRatio = await medianRatio(
    small,
    large,
    async (store) => {
      expect(await store.engine.deleteByOwner!(store.owner, [], now)).toBe(OWN_SESSIONS)
    },
    async (store) => {
      if ((await store.engine.listByOwner!(store.owner, now)).length === 0) await bindOwnSessions(store, now)
    },
  )

  console.log(`large/small store: listByOwner ${listRatio.toFixed(2)}x, deleteByOwner ${deleteRatio.toFixed(2)}x`)
  expect(listRatio).toBeLessThanOrEqual(ALLOWED_RATIO)
  expect(deleteRatio).toBeLessThanOrEqual(ALLOWED_RATIO)
}, 120_000)
