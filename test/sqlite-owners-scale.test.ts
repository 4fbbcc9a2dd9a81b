import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { SessionChanges, SessionEngine } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { randomSessionId } from './support/cookie-format.js'
import { listingCostRatio } from './support/owner-scale.js'
import { freshDatabasePath, openRaw } from './support/sqlite.js'

/** Where the plugin keeps the owner in a session's data. */
const OWNER_KEY = 'meta:owner'
const HOUR = 3_600_000
const SMALL_STORE = 1_000
const LARGE_STORE = 100_000
const OWN_SESSIONS = 5
const OWNER = 'the-owner'
/**
 * How many times each store is timed, one call at a time: on a busy machine another process takes the CPU every few
 * milliseconds, so most single calls run uninterrupted and their median is what a call costs (samples of many calls
 * each are all interrupted, by varying amounts). Listing samples start with a full GC, so they are fewer; deletes,
 * which write, vary more and get more.
 */
const LISTING_SAMPLES = 151
const DELETING_SAMPLES = 401
const ALLOWED_RATIO = 2

interface Store {
  readonly engine: SessionEngine
  readonly owner: string
}

const engines: SessionEngine[] = []

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
  const store = { engine, owner: OWNER }
  await bindOwnSessions(store, now)
  return store
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
 * How much longer deleting the owner's sessions takes on `large` than on `small`, as `listingCostRatio` measures
 * listing: medians of samples taken alternately, one delete per sample, each after an untimed commit that gives the
 * owner its sessions back.
 */
async function deletingCostRatio(small: Store, large: Store, now: number): Promise<number> {
  const sample = async (store: Store) => {
    if ((await store.engine.listByOwner!(store.owner, now)).length === 0) await bindOwnSessions(store, now)
    const started = Bun.nanoseconds()
    const deleted = await store.engine.deleteByOwner!(store.owner, [], now)
    const elapsed = Bun.nanoseconds() - started
    expect(deleted).toBe(OWN_SESSIONS)
    return elapsed
  }
  // Warm-up: the first calls pay for JIT compilation and for reading the trees' pages into SQLite's cache.
  for (let round = 0; round < 20; round++) for (const store of [small, large]) await sample(store)
  const times = { small: [] as number[], large: [] as number[] }
  for (let round = 0; round < DELETING_SAMPLES; round++) {
    // Alternating which store goes first keeps a steady drift from favouring either.
    const order = round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)
    for (const size of order) times[size].push(await sample(size === 'small' ? small : large))
  }
  return median(times.large) / median(times.small)
}

let small: Store
let large: Store
let now: number
beforeAll(async () => {
  now = Date.now()
  small = await storeWith(SMALL_STORE, now)
  large = await storeWith(LARGE_STORE, now)
}, 60_000)

afterAll(async () => {
  for (const engine of engines) await engine.close()
})

const amongStores = `among ${LARGE_STORE.toLocaleString('en')} sessions as among ${SMALL_STORE.toLocaleString('en')}`

test(`listing an owner’s ${OWN_SESSIONS} sessions takes at most ${ALLOWED_RATIO}x as long ${amongStores}`, async () => {
  expect((await large.engine.listByOwner!(OWNER, now)).length).toBe(OWN_SESSIONS)
  const ratio = await listingCostRatio(small.engine, large.engine, OWNER, {
    samples: LISTING_SAMPLES,
    listingsPerSample: 1,
  })
  console.log(`listByOwner: ${ratio.toFixed(2)}x as long ${amongStores}`)
  expect(ratio).toBeLessThanOrEqual(ALLOWED_RATIO)
}, 60_000)

test(`deleting an owner’s ${OWN_SESSIONS} sessions takes at most ${ALLOWED_RATIO}x as long ${amongStores}`, async () => {
  const ratio = await deletingCostRatio(small, large, now)
  console.log(`deleteByOwner: ${ratio.toFixed(2)}x as long ${amongStores}`)
  expect(ratio).toBeLessThanOrEqual(ALLOWED_RATIO)
}, 60_000)
