import { describe, expect, test } from 'bun:test'
import { SessionConfigError, type SessionData, type SessionEngine, type SessionValue } from 'elysia-sessions'
import { memoryEngine } from 'elysia-sessions/engines/memory'
import { runEngineConformance } from 'elysia-sessions/testing'
import { HOT_SESSIONS } from '../src/engines/hot-sessions.js'
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

  test('a session evicted while decoded for reuse is gone', async () => {
    const engine = await engineHoldingABC()
    for (const id of ['a', 'b', 'c']) expect(await engine.load(id, now)).not.toBeNull()
    await commitSession(engine, 'd', now)
    expect(await storedIds(engine, now)).toEqual(['b', 'c', 'd'])
    expect(await engine.load('a', now)).toBeNull()
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

describe('memoryEngine decoded sessions', () => {
  const now = Date.now()

  test(`sessions past the ${HOT_SESSIONS.toLocaleString('en')} kept decoded keep every change once encoded`, async () => {
    const engine = memoryEngine()
    const total = 2 * HOT_SESSIONS + 7
    const idOf = (index: number) => `session-${index}`
    for (let index = 0; index < total; index++) {
      await engine.commit(
        idOf(index),
        { set: { n: index, 'string:id': idOf(index) }, deleted: [], expiresAt: now + HOUR },
        now,
      )
    }
    // Loading every one decodes each and encodes the oldest back, unchanged.
    for (let index = 0; index < total; index++) {
      expect(await engine.load(idOf(index), now)).toEqual({
        data: { n: index, 'string:id': idOf(index) },
        expiresAt: now + HOUR,
      })
    }
    // The last ones are changed while decoded, the first ones while encoded; the next loads encode the changed ones.
    for (let index = 0; index < total; index++) {
      const changes = {
        set: { n: total - index },
        deleted: ['string:id'],
        expiresAt: now + HOUR + index,
        existingOnly: true,
      }
      expect(await engine.commit(idOf(index), changes, now)).toBe(true)
      if (index % 3 === 0) expect(await engine.touch(idOf(index), now + 2 * HOUR, now)).toBe(true)
    }
    for (let round = 0; round < 2; round++) {
      for (let index = 0; index < total; index++) {
        const expiresAt = index % 3 === 0 ? now + 2 * HOUR : now + HOUR + index
        expect(await engine.load(idOf(index), now)).toEqual({ data: { n: total - index }, expiresAt })
      }
    }
    expect(await engine.count(now)).toBe(total)
    expect(await engine.count(now + 2 * HOUR)).toBe(0)
  }, 30_000)

  test('a value written to a decoded session is stored as JSON stores it, as in an encoded one', async () => {
    const nested = { list: [1, { x: 2 }] }
    const set = {
      nested,
      zero: -0,
      notANumber: Number.NaN,
      date: new Date(0),
      gone: undefined,
      array: [-0, undefined],
    } as unknown as SessionData
    const storedBy = async (decodedFirst: boolean) => {
      const engine = memoryEngine()
      await engine.commit('id', { set: { kept: 'yes', removed: 1 }, deleted: [], expiresAt: now + HOUR }, now)
      if (decodedFirst) await engine.load('id', now)
      await engine.commit('id', { set, deleted: ['removed'], expiresAt: now + HOUR, existingOnly: true }, now)
      return engine
    }
    const expected = JSON.parse(JSON.stringify({ kept: 'yes', ...set }))
    const decoded = await storedBy(true)
    const encoded = await storedBy(false)
    // Changing what was written, once the commit has resolved, changes nothing stored.
    nested.list.push(3)
    for (const engine of [decoded, encoded]) {
      const loaded = await engine.load('id', now)
      expect(loaded?.data).toEqual(expected)
      expect(Object.is(loaded?.data['zero'], 0)).toBe(true)
      expect(Object.keys(loaded?.data ?? {})).toEqual(['kept', 'nested', 'zero', 'notANumber', 'date', 'array'])
    }
    expect(await decoded.load('id', now)).toEqual(await encoded.load('id', now))
    const value: SessionValue | undefined = (await decoded.load('id', now))?.data['nested']
    expect(value).toEqual({ list: [1, { x: 2 }] })
  })
})

describe('memoryEngine decoded sessions, once removed or cooled', () => {
  const now = Date.now()

  /** Loads `HOT_SESSIONS` other sessions, so that every session decoded before them is encoded back. */
  async function coolEverySession(engine: SessionEngine): Promise<void> {
    for (let index = 0; index < HOT_SESSIONS; index++) {
      await commitSession(engine, `filler-${index}`, now)
      expect(await engine.load(`filler-${index}`, now)).not.toBeNull()
    }
  }

  /** Commits and loads each id (so it is decoded), and holds what the load returned only weakly. */
  async function loadWeakly(
    engine: SessionEngine,
    ids: readonly string[],
    { owner, lifetime = HOUR }: { owner?: string; lifetime?: number } = {},
  ): Promise<WeakRef<object>[]> {
    const held: WeakRef<object>[] = []
    for (const id of ids) {
      const set = { 'string:id': id, ...(owner === undefined ? {} : { 'meta:owner': owner }) }
      await engine.commit(id, { set, deleted: [], expiresAt: now + lifetime, owner }, now)
      const loaded = await engine.load(id, now)
      if (loaded === null) throw new Error(`${id} was not stored`)
      held.push(new WeakRef(loaded.data))
    }
    return held
  }

  /** How many of `held` are still referenced after a full collection. */
  async function stillReferenced(held: readonly WeakRef<object>[]): Promise<number> {
    // A WeakRef keeps its target until the job that made it has ended.
    await Bun.sleep(0)
    Bun.gc(true)
    return held.filter((ref) => ref.deref() !== undefined).length
  }

  const idsOf = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${index}`)

  // The engine must let go of every removed one; the allowance is for a stray pointer the collector cannot rule out.
  const STRAY = 10

  test('a decoded session that is deleted, swept or deleted by owner is no longer held in memory', async () => {
    const engine = memoryEngine()
    const kept = await loadWeakly(engine, idsOf('kept', 50))
    const deleted = await loadWeakly(engine, idsOf('deleted', 50))
    const owned = await loadWeakly(engine, idsOf('owned', 50), { owner: 'alice' })
    const expiring = await loadWeakly(engine, idsOf('expiring', 50), { lifetime: 1_000 })
    for (const id of idsOf('deleted', 50)) await engine.delete(id)
    expect(await engine.deleteByOwner?.('alice', [], now)).toBe(50)
    expect(await engine.deleteExpired(now + 2_000)).toBe(50)
    expect(await engine.count(now)).toBe(50)
    expect(await stillReferenced(kept)).toBe(50)
    expect(await stillReferenced([...deleted, ...owned, ...expiring])).toBeLessThanOrEqual(STRAY)
  })

  test('a decoded session evicted by maxSessions is no longer held in memory', async () => {
    const engine = memoryEngine({ maxSessions: 50 })
    const evicted = await loadWeakly(engine, idsOf('evicted', 500))
    const kept = await loadWeakly(engine, idsOf('kept', 50))
    expect(await storedIds(engine, now)).toEqual(idsOf('kept', 50).sort())
    expect(await stillReferenced(kept)).toBe(50)
    expect(await stillReferenced(evicted)).toBeLessThanOrEqual(STRAY)
  })

  test('with maxSessions, the sessions kept decoded are at most the last maxSessions loaded', async () => {
    const engine = memoryEngine({ maxSessions: 50 })
    const early = await loadWeakly(engine, idsOf('early', 25))
    // Every early session stays in use, so it stays stored, while 50 later ones are loaded after it.
    for (const id of idsOf('later', 50)) {
      await loadWeakly(engine, [id])
      for (const earlyId of idsOf('early', 25)) expect(await engine.load(earlyId, now)).not.toBeNull()
    }
    expect(await stillReferenced(early)).toBeLessThanOrEqual(STRAY)
    expect(await engine.load('early-0', now)).toEqual({ data: { 'string:id': 'early-0' }, expiresAt: now + HOUR })
  })

  test(`a decoded session deleted stays deleted, or created anew, once ${HOT_SESSIONS.toLocaleString('en')} loads encode the rest`, async () => {
    const engine = memoryEngine()
    for (const id of ['deleted', 'created again']) {
      await commitSession(engine, id, now)
      expect(await engine.load(id, now)).not.toBeNull()
      await engine.delete(id)
    }
    const createdAgain = { set: { n: 2 }, deleted: [], expiresAt: now + 2 * HOUR }
    expect(await engine.commit('created again', createdAgain, now)).toBe(true)
    await coolEverySession(engine)
    expect(await engine.load('deleted', now)).toBeNull()
    expect(await engine.load('created again', now)).toEqual({ data: { n: 2 }, expiresAt: now + 2 * HOUR })
    expect(await engine.count(now)).toBe(HOT_SESSIONS + 1)
  }, 30_000)

  test('a touch of a decoded session that was not written keeps its expiry once encoded', async () => {
    const engine = memoryEngine()
    await commitSession(engine, 'touched', now)
    expect(await engine.load('touched', now)).not.toBeNull()
    expect(await engine.touch('touched', now + 2 * HOUR, now)).toBe(true)
    await coolEverySession(engine)
    expect(await engine.load('touched', now + HOUR)).toEqual({
      data: { 'string:id': 'touched' },
      expiresAt: now + 2 * HOUR,
    })
  }, 30_000)

  test('with maxSessions, a load, commit or touch of a decoded session counts as use', async () => {
    const uses: Record<string, (engine: SessionEngine) => Promise<unknown>> = {
      load: (engine) => engine.load('a', now),
      commit: (engine) => commitSession(engine, 'a', now),
      touch: (engine) => engine.touch('a', now + 2 * HOUR, now),
    }
    for (const [name, use] of Object.entries(uses)) {
      const engine = memoryEngine({ maxSessions: 3 })
      for (const id of ['a', 'b', 'c']) await commitSession(engine, id, now)
      for (const id of ['a', 'b', 'c']) expect(await engine.load(id, now)).not.toBeNull()
      await use(engine)
      await commitSession(engine, 'd', now)
      expect({ name, ids: await storedIds(engine, now) }).toEqual({ name, ids: ['a', 'c', 'd'] })
    }
  })

  /** The expiry `write` leaves on a session that is decoded (loaded first) or still encoded, as `load` returns it. */
  async function expiryAfter(
    write: (engine: SessionEngine) => Promise<boolean>,
    at: number,
  ): Promise<{ decoded: number | undefined; encoded: number | undefined }> {
    const expiryIn = async (decodedFirst: boolean) => {
      const engine = memoryEngine()
      await commitSession(engine, 'id', at)
      if (decodedFirst) expect(await engine.load('id', at)).not.toBeNull()
      expect(await write(engine)).toBe(true)
      return (await engine.load('id', at))?.expiresAt
    }
    return { decoded: await expiryIn(true), encoded: await expiryIn(false) }
  }

  test('an expiry of -0 is stored as 0, in a decoded session as in an encoded one', async () => {
    // Only a clock before 1970 leaves a session expiring at -0 alive.
    const before1970 = -HOUR
    const changes = { set: {}, deleted: [], expiresAt: -0, existingOnly: true }
    for (const write of [
      (engine: SessionEngine) => engine.commit('id', changes, before1970),
      (engine: SessionEngine) => engine.touch('id', -0, before1970),
    ]) {
      const { decoded, encoded } = await expiryAfter(write, before1970)
      expect(Object.is(decoded, 0)).toBe(true)
      expect(Object.is(encoded, 0)).toBe(true)
    }
  })

  test('an expiry JSON cannot write leaves the session expired, in a decoded session as in an encoded one', async () => {
    for (const expiresAt of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const changes = { set: {}, deleted: [], expiresAt, existingOnly: true }
      for (const write of [
        (engine: SessionEngine) => engine.commit('id', changes, now),
        (engine: SessionEngine) => engine.touch('id', expiresAt, now),
      ]) {
        expect(await expiryAfter(write, now)).toEqual({ decoded: undefined, encoded: undefined })
      }
    }
  })
})
