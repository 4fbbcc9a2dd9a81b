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
/** Each sample times this many calls in a row, so one sample is long enough for the clock to measure well. */
const CALLS_PER_SAMPLE = 40
const SAMPLES = 25
const ALLOWED_RATIO = 2
/**
 * Deleting also writes: each deleted row leaves pages of the table and of its indexes, scattered by random ids, whose
 * number grows with the depth of those trees. Still nowhere near what a scan of the store costs.
 */
const ALLOWED_DELETE_RATIO = 4

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
  for (let index = 0; index < OWN_SESSIONS; index++) await engine.commit(randomSessionId(), bindTo(owner, now), now)
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  return sorted[sorted.length >> 1]!
}

/**
 * Runs `sample` on both stores, `SAMPLES` times each, alternating which goes first, and resolves to the median time of
 * the large store's samples over the small one's: noise on a busy machine hits both alike.
 */
async function medianRatio(small: Store, large: Store, sample: (store: Store) => Promise<number>): Promise<number> {
  const times = { small: [] as number[], large: [] as number[] }
  // Warm up both: the first calls pay for JIT compilation and for reading the index's pages into SQLite's cache.
  for (const store of [small, large, small, large]) await sample(store)
  for (let round = 0; round < SAMPLES; round++) {
    const order = round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)
    for (const size of order) times[size].push(await sample(size === 'small' ? small : large))
  }
  return median(times.large) / median(times.small)
}

test(`listing an owner’s ${OWN_SESSIONS} sessions takes at most ${ALLOWED_RATIO}x (deleting them ${ALLOWED_DELETE_RATIO}x) as long among ${LARGE_STORE.toLocaleString('en')} sessions as among ${SMALL_STORE.toLocaleString('en')}`, async () => {
  const now = Date.now()
  const small = await storeWith(SMALL_STORE, now)
  const large = await storeWith(LARGE_STORE, now)

  const listRatio = await medianRatio(small, large, async ({ engine, owner }) => {
    const started = performance.now()
    for (let call = 0; call < CALLS_PER_SAMPLE; call++) {
      expect((await engine.listByOwner!(owner, now)).length).toBe(OWN_SESSIONS)
    }
    return performance.now() - started
  })

  const deleteRatio = await medianRatio(small, large, async (store) => {
    let elapsed = 0
    for (let call = 0; call < CALLS_PER_SAMPLE / 4; call++) {
      const started = performance.now()
      const deleted = await store.engine.deleteByOwner!(store.owner, [], now)
      elapsed += performance.now() - started
      expect(deleted).toBe(OWN_SESSIONS)
      await bindOwnSessions(store, now)
    }
    return elapsed
  })

  console.log(`large/small store: listByOwner ${listRatio.toFixed(2)}x, deleteByOwner ${deleteRatio.toFixed(2)}x`)
  expect(listRatio).toBeLessThanOrEqual(ALLOWED_RATIO)
  expect(deleteRatio).toBeLessThanOrEqual(ALLOWED_DELETE_RATIO)
}, 120_000)
