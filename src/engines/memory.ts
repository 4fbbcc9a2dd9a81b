import type {
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  StoredSession,
  SynchronousCalls,
} from '../engine.js'
import { SessionConfigError } from '../errors.js'
import { applyChanges } from './apply-changes.js'
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
 * A stored session as one JSON text, `[expiresAt,data]`: every load hands out a private copy, and one flat string per
 * session takes less heap than an object per record (bench/README.md has the comparison).
 */
type MemoryRecord = string

/** The expiry at the head of a record, read without parsing its data. */
function expiryOf(record: MemoryRecord): number {
  return Number(record.slice(1, record.indexOf(',')))
}

function recordOf(expiresAt: number, data: SessionData): MemoryRecord {
  return JSON.stringify([expiresAt, data])
}

function storedOf(record: MemoryRecord): StoredSession {
  const [expiresAt, data] = JSON.parse(record) as [number, SessionData]
  return { data, expiresAt }
}

/** The stored sessions, as the engine uses them: a plain Map or a `ShardedMap`. */
interface RecordMap {
  get(id: string): MemoryRecord | undefined
  set(id: string, record: MemoryRecord): void
  delete(id: string): boolean
  clear(): void
  entries(): Iterable<[string, MemoryRecord]>
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
  const lru = maxSessions === undefined ? undefined : new Map<string, MemoryRecord>()
  const records: RecordMap = lru ?? new ShardedMap<MemoryRecord>(SHARD_BITS)
  const owners = new OwnerIndex(SHARD_BITS)

  const alive = (id: string, now: number): MemoryRecord | undefined => {
    const record = records.get(id)
    return record !== undefined && expiryOf(record) > now ? record : undefined
  }

  const put = (id: string, record: MemoryRecord) => {
    if (lru === undefined || maxSessions === undefined) {
      records.set(id, record)
      return
    }
    // Map order is insertion order: re-inserting moves the id to the most recently used end.
    lru.delete(id)
    lru.set(id, record)
    if (lru.size > maxSessions) remove(lru.keys().next().value as string)
  }

  const remove = (id: string): boolean => {
    owners.unbind(id)
    return records.delete(id)
  }

  const calls: SynchronousCalls = {
    get engine() {
      return engine
    },

    load(id: string, now: number): StoredSession | null {
      const record = alive(id, now)
      if (record === undefined) return null
      if (maxSessions !== undefined) put(id, record)
      return storedOf(record)
    },

    commit(id: string, changes: SessionChanges, now: number): boolean {
      const record = alive(id, now)
      if (record === undefined && changes.existingOnly) return false
      // A session created from empty data has no owner yet, even if an expired one under this id had.
      if (record === undefined) owners.unbind(id)
      if (changes.owner !== undefined) owners.bind(id, changes.owner)
      put(
        id,
        recordOf(changes.expiresAt, applyChanges(record === undefined ? undefined : storedOf(record).data, changes)),
      )
      return true
    },

    touch(id: string, expiresAt: number, now: number): boolean {
      const record = alive(id, now)
      if (record === undefined) return false
      put(id, recordOf(expiresAt, storedOf(record).data))
      return true
    },

    delete(id: string): void {
      remove(id)
    },
  }

  const engine: SessionEngine = {
    name: 'memory',

    capabilities: { owners: true },

    sync: calls,

    async load(id: string, now: number): Promise<StoredSession | null> {
      return calls.load(id, now)
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      return calls.commit(id, changes, now)
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      return calls.touch(id, expiresAt, now)
    },

    async delete(id: string): Promise<void> {
      calls.delete(id)
    },

    async deleteAll(): Promise<void> {
      records.clear()
      owners.clear()
    },

    async count(now: number): Promise<number> {
      let count = 0
      for (const [, record] of records.entries()) if (expiryOf(record) > now) count++
      return count
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      let batch: SessionEntry[] = []
      for (const [id] of [...records.entries()]) {
        const record = alive(id, now)
        if (record === undefined) continue
        batch.push({ id, ...storedOf(record) })
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
        const record = alive(id, now)
        if (record !== undefined) found.push({ id, ...storedOf(record) })
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
      for (const [id, record] of records.entries()) {
        if (expiryOf(record) <= now) {
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
