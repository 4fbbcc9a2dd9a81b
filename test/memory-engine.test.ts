import { describe, expect, test } from 'bun:test'
import { SessionConfigError, type SessionEngine } from 'elysia-sessions'
import { memoryEngine } from 'elysia-sessions/engines/memory'
import { runEngineConformance } from 'elysia-sessions/testing'
import { fillOwnedStore, listingCostRatio } from './support/owner-scale.js'
import { PROPERTY_SEED } from './support/property-runs.js'

// More model-based runs than the suite's default: CI can afford them for an engine this fast.
runEngineConformance('memory', () => memoryEngine(), { modelRuns: 50, modelSeed: PROPERTY_SEED })

// The bounded engine keeps its least-recently-used order on every call, so it runs the whole contract too.
runEngineConformance('memory with maxSessions', () => memoryEngine({ maxSessions: 100_000 }), {
  modelRuns: 50,
  modelSeed: PROPERTY_SEED,
})

const HOUR = 3_600_000
const SWEEP_SIZE = 100_000

async function commitSession(engine: SessionEngine, id: string, now: number, lifetime = HOUR): Promise<void> {
  await engine.commit(id, { set: { 'string:id': id }, deleted: [], expiresAt: now + lifetime }, now)
}

/** The ids `entries` yields, sorted; iterating is not a use, so it leaves the eviction order alone. */
async function storedIds(engine: SessionEngine, now: number): Promise<string[]> {
  const ids: string[] = []
  for await (const batch of engine.entries(now, { batchSize: 100 })) ids.push(...batch.map((entry) => entry.id))
  return ids.sort()
}

describe('memoryEngine({ maxSessions })', () => {
  const now = Date.now()

  async function engineHoldingABC(): Promise<SessionEngine> {
    const engine = memoryEngine({ maxSessions: 3 })
    for (const id of ['a', 'b', 'c']) await commitSession(engine, id, now)
    return engine
  }

  test('a new session past maxSessions evicts the least recently used one', async () => {
    const engine = await engineHoldingABC()
    await commitSession(engine, 'd', now)
    expect(await storedIds(engine, now)).toEqual(['b', 'c', 'd'])
    expect(await engine.count(now)).toBe(3)
  })

  test('a load counts as use', async () => {
    const engine = await engineHoldingABC()
    expect(await engine.load('a', now)).not.toBeNull()
    await commitSession(engine, 'd', now)
    expect(await storedIds(engine, now)).toEqual(['a', 'c', 'd'])
  })

  test('a touch counts as use', async () => {
    const engine = await engineHoldingABC()
    expect(await engine.touch('a', now + 2 * HOUR, now)).toBe(true)
    await commitSession(engine, 'd', now)
    expect(await storedIds(engine, now)).toEqual(['a', 'c', 'd'])
  })

  test('a commit to a stored session counts as use', async () => {
    const engine = await engineHoldingABC()
    await commitSession(engine, 'a', now)
    await commitSession(engine, 'd', now)
    expect(await storedIds(engine, now)).toEqual(['a', 'c', 'd'])
  })

  test('maxSessions other than a positive safe integer throws SessionConfigError', () => {
    for (const maxSessions of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '3' as unknown as number]) {
      expect(() => memoryEngine({ maxSessions })).toThrow(SessionConfigError)
    }
    expect(() => memoryEngine({ maxSessions: 1 })).not.toThrow()
  })
})

describe('memoryEngine deleteExpired', () => {
  async function engineWithHalfExpired(now: number): Promise<SessionEngine> {
    const engine = memoryEngine()
    for (let index = 0; index < SWEEP_SIZE; index++) {
      await commitSession(engine, `session-${index}`, now, index % 2 === 0 ? 1_000 : HOUR)
    }
    return engine
  }

  test(`deleteExpired sweeps ${SWEEP_SIZE.toLocaleString('en')} sessions and keeps the live ones`, async () => {
    const now = Date.now()
    const engine = await engineWithHalfExpired(now)
    expect(await engine.deleteExpired(now + 2_000)).toBe(SWEEP_SIZE / 2)
    // Counting at the earlier time proves the expired ones are gone, not just hidden.
    expect(await engine.count(now)).toBe(SWEEP_SIZE / 2)
    expect(await engine.load('session-1', now + 2_000)).not.toBeNull()
  }, 30_000)

  test(`deleteExpired lets other work run while it sweeps ${SWEEP_SIZE.toLocaleString('en')} sessions`, async () => {
    const now = Date.now()
    const engine = await engineWithHalfExpired(now)
    let otherWorkRan = false
    setImmediate(() => {
      otherWorkRan = true
    })
    const sweep = engine.deleteExpired(now + 2_000).then((deleted) => ({ deleted, otherWorkRan }))
    expect(await sweep).toEqual({ deleted: SWEEP_SIZE / 2, otherWorkRan: true })
  }, 30_000)
})

describe('memoryEngine owner index at scale', () => {
  test('listing an owner with 5 sessions among 100,000 others costs at most twice what it costs among 1,000', async () => {
    const now = Date.now()
    const small = memoryEngine()
    const large = memoryEngine()
    await fillOwnedStore(small, { count: 995, owned: 5, owner: 'alice', now })
    await fillOwnedStore(large, { count: 100_000, owned: 5, owner: 'alice', now })
    expect(await small.listByOwner?.('alice', now)).toHaveLength(5)
    expect(await large.listByOwner?.('alice', now)).toHaveLength(5)
    expect(await listingCostRatio(small, large, 'alice')).toBeLessThanOrEqual(2)
  }, 60_000)
})
