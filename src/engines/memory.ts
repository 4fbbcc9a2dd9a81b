import type {
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  SessionValue,
  StoredSession,
  SynchronousCalls,
} from '../engine.js'
import { SessionConfigError } from '../errors.js'
import { deepFreeze } from '../frozen.js'
import { applyChanges } from './apply-changes.js'
import { HOT_SESSIONS, HotRing, HotSession } from './hot-sessions.js'
import { OwnerIndex } from './owner-index.js'
import { ShardedMap } from './sharded-map.js'

/** Options of `memoryEngine`. */
export interface MemoryEngineOptions {
  /**
   * The most sessions kept at once; past it the least recently used one is evicted. Unbounded when absent.
   * @default undefined
   */
  readonly maxSessions?: number
}

/**
 * A stored session as one JSON text, `[expiresAt,data]`: one flat string per session takes less heap than an object
 * per record (bench/README.md has the comparison).
 */
type MemoryRecord = string

/** What the engine keeps under a session id: its record, or the session decoded while it is hot. */
type Slot = MemoryRecord | HotSession<MemoryRecord>

/** The expiry at the head of a record, read without parsing its data. */
function expiryOf(record: MemoryRecord): number {
  return Number(record.slice(1, record.indexOf(',')))
}

function recordOf(expiresAt: number, data: SessionData): MemoryRecord {
  return JSON.stringify([expiresAt, data])
}

/** `record` with its expiry replaced, its data text kept as it is: what `recordOf` would write for the same data. */
function recordExpiringAt(record: MemoryRecord, expiresAt: number): MemoryRecord {
  return `[${JSON.stringify(expiresAt)}${record.slice(record.indexOf(','))}`
}

/** A record decoded into a private copy. */
function storedOf(record: MemoryRecord): StoredSession {
  const [expiresAt, data] = JSON.parse(record) as [number, SessionData]
  return { data, expiresAt }
}

/** A record decoded and frozen, so it can be handed out again and again. */
function frozenStoredOf(record: MemoryRecord): StoredSession {
  const [expiresAt, data] = JSON.parse(record) as [number, SessionData]
  return Object.freeze({ data: deepFreeze(data), expiresAt })
}

/**
 * A written value as a round trip through JSON would store it, frozen: -0 becomes 0, a number JSON cannot write
 * becomes null, and a value JSON leaves out of an object is undefined.
 */
function storedValueOf(value: SessionValue): SessionValue | undefined {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null
  const text = JSON.stringify(value) as string | undefined
  return text === undefined ? undefined : deepFreeze(JSON.parse(text) as SessionValue)
}

/**
 * An expiry as a round trip through JSON would store it: -0 becomes 0, and a number JSON cannot write becomes null,
 * which `expiryOf` reads back as NaN, never alive.
 */
function storedExpiryOf(expiresAt: number): number {
  return Number.isFinite(expiresAt) ? expiresAt + 0 : Number.NaN
}

function expiryOfSlot(slot: Slot): number {
  return typeof slot === 'string' ? expiryOf(slot) : slot.stored.expiresAt
}

function storedOfSlot(slot: Slot): StoredSession {
  return typeof slot === 'string' ? storedOf(slot) : slot.stored
}

/** The stored sessions, as the engine uses them: a plain Map or a `ShardedMap`. */
interface SlotMap {
  get(id: string): Slot | undefined
  set(id: string, slot: Slot): void
  delete(id: string): boolean
  clear(): void
  entries(): Iterable<[string, Slot]>
}

/**
 * Enough shards that each Map stays small for the GC at a million sessions, and few enough that their spare capacity
 * stays small too (bench/README.md has the comparison).
 */
const SHARD_BITS = 4

/** How many records a sweep checks before it lets other work run. */
const SWEEP_SLICE = 10_000

/**
 * Keeps sessions in this process's memory: fast, and gone on restart. The default engine. Expired sessions are
 * invisible at once and removed by GC; `maxSessions` bounds memory by evicting the least recently used. Keeps an
 * owner index, so listing one owner's sessions reads only that owner's.
 *
 * @example
 * app.use(session({ secret, engine: memoryEngine({ maxSessions: 100_000 }) }))
 */
export function memoryEngine(options: MemoryEngineOptions = {}): SessionEngine {
  const { maxSessions } = options
  if (maxSessions !== undefined && !(Number.isSafeInteger(maxSessions) && maxSessions > 0)) {
    throw new SessionConfigError(`memoryEngine({ maxSessions }) needs a positive integer, got ${String(maxSessions)}`)
  }
  // An LRU bound needs one Map's insertion order; without one, shards keep a big store cheap for the GC.
  const lru = maxSessions === undefined ? undefined : new Map<string, Slot>()
  const slots: SlotMap = lru ?? new ShardedMap<Slot>(SHARD_BITS)
  const owners = new OwnerIndex(SHARD_BITS)
  // No more hot sessions than stored ones, so the ring never holds more than maxSessions allows.
  const hot = new HotRing<MemoryRecord>(Math.min(HOT_SESSIONS, maxSessions ?? HOT_SESSIONS), (session) => {
    // A session deleted or replaced since it was heated is no longer in its slot: nothing to encode.
    if (slots.get(session.id) !== session) return
    const { data, expiresAt } = session.stored
    slots.set(session.id, session.record ?? recordOf(expiresAt, data))
  })

  const alive = (id: string, now: number): Slot | undefined => {
    const slot = slots.get(id)
    return slot !== undefined && expiryOfSlot(slot) > now ? slot : undefined
  }

  /** Stores `slot` under `id` as its most recent use. */
  const put = (id: string, slot: Slot) => {
    if (lru === undefined || maxSessions === undefined) {
      slots.set(id, slot)
      return
    }
    // Map order is insertion order: re-inserting moves the id to the most recently used end.
    lru.delete(id)
    lru.set(id, slot)
    if (lru.size > maxSessions) remove(lru.keys().next().value as string)
  }

  const remove = (id: string): boolean => {
    owners.unbind(id)
    // A hot session keeps its ring slot until it cools; its data need not stay that long.
    const slot = slots.get(id)
    if (typeof slot === 'object') slot.release()
    return slots.delete(id)
  }

  // The synchronous calls behind load, commit, touch and delete; the methods only wrap them in a promise.

  const load = (id: string, now: number): StoredSession | null => {
    const slot = alive(id, now)
    if (slot === undefined) return null
    if (typeof slot !== 'string') {
      if (lru !== undefined) put(id, slot)
      return slot.stored
    }
    const session = new HotSession(id, frozenStoredOf(slot), slot)
    hot.add(session)
    put(id, session)
    return session.stored
  }

  const commit = (id: string, changes: SessionChanges, now: number): boolean => {
    const slot = alive(id, now)
    if (slot === undefined && changes.existingOnly) return false
    // A session created from empty data has no owner yet, even if an expired one under this id had.
    if (slot === undefined) owners.unbind(id)
    if (changes.owner !== undefined) owners.bind(id, changes.owner)
    // A session stays encoded until it is loaded, so creating many costs no decoding. Bun keeps the JSON of the
    // null-prototype copy in less memory than that of `changes.set` itself.
    if (typeof slot !== 'object') {
      const stored = slot === undefined ? undefined : storedOf(slot).data
      put(id, recordOf(changes.expiresAt, applyChanges(stored, changes)))
    } else {
      const data = Object.freeze(applyChanges(slot.stored.data, changes, storedValueOf))
      slot.stored = Object.freeze({ data, expiresAt: storedExpiryOf(changes.expiresAt) })
      slot.record = undefined
      if (lru !== undefined) put(id, slot)
    }
    return true
  }

  const touch = (id: string, expiresAt: number, now: number): boolean => {
    const slot = alive(id, now)
    if (slot === undefined) return false
    if (typeof slot === 'string') put(id, recordExpiringAt(slot, expiresAt))
    else {
      slot.stored = Object.freeze({ data: slot.stored.data, expiresAt: storedExpiryOf(expiresAt) })
      slot.record = slot.record === undefined ? undefined : recordExpiringAt(slot.record, expiresAt)
      if (lru !== undefined) put(id, slot)
    }
    return true
  }

  const calls: SynchronousCalls = {
    get engine() {
      return engine
    },
    load,
    commit,
    touch,
    delete(id: string): void {
      remove(id)
    },
  }

  const engine: SessionEngine = {
    name: 'memory',

    capabilities: { owners: true },

    sync: calls,

    async load(id: string, now: number): Promise<StoredSession | null> {
      return load(id, now)
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      return commit(id, changes, now)
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      return touch(id, expiresAt, now)
    },

    async delete(id: string): Promise<void> {
      remove(id)
    },

    async deleteAll(): Promise<void> {
      slots.clear()
      owners.clear()
      hot.clear()
    },

    async count(now: number): Promise<number> {
      let count = 0
      for (const [, slot] of slots.entries()) if (expiryOfSlot(slot) > now) count++
      return count
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      let batch: SessionEntry[] = []
      for (const [id] of [...slots.entries()]) {
        const slot = alive(id, now)
        if (slot === undefined) continue
        batch.push({ id, ...storedOfSlot(slot) })
        if (batch.length >= batchSize) {
          yield batch
          batch = []
        }
      }
      if (batch.length > 0) yield batch
    },

    async listByOwner(owner: string, now: number): Promise<readonly SessionEntry[]> {
      const found: SessionEntry[] = []
      for (const id of owners.idsOf(owner)) {
        const slot = alive(id, now)
        if (slot !== undefined) found.push({ id, ...storedOfSlot(slot) })
      }
      return found
    },

    async deleteByOwner(owner: string, except: readonly string[], now: number): Promise<number> {
      const kept = new Set(except)
      let deleted = 0
      // A copy: removing a session changes the set being read.
      for (const id of [...owners.idsOf(owner)]) {
        if (kept.has(id)) continue
        // An expired one is removed too, but it was not alive, so it is not counted.
        if (alive(id, now) !== undefined) deleted++
        remove(id)
      }
      return deleted
    },

    async deleteExpired(now: number): Promise<number> {
      let deleted = 0
      let checked = 0
      for (const [id, slot] of slots.entries()) {
        if (expiryOfSlot(slot) <= now) {
          remove(id)
          deleted++
        }
        if (++checked % SWEEP_SLICE === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      return deleted
    },

    async close(): Promise<void> {},
  }
  return engine
}
