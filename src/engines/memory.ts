import type {
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  SessionValue,
  StoredSession,
} from '../engine.js'
import { SessionConfigError } from '../errors.js'
import { ShardedMap } from './sharded-map.js'

/** Options of `memoryEngine`. */
export interface MemoryEngineOptions {
  /**
   * The most sessions kept at once; past it the least recently used one is evicted. Unbounded when absent.
   * @default undefined
   */
  readonly maxSessions?: number
}

/** A stored session, deeply frozen: loads hand it out as is, and nothing can change it in place. */
type MemoryRecord = StoredSession

/** The stored sessions, as the engine uses them: a plain Map or a `ShardedMap`. */
interface RecordMap {
  get(id: string): MemoryRecord | undefined
  set(id: string, record: MemoryRecord): void
  delete(id: string): boolean
  clear(): void
  entries(): Iterable<[string, MemoryRecord]>
}

/** 256 shards: at a million sessions each holds about 4,000. */
const SHARD_BITS = 8

/** How many records a sweep checks before it lets other work run. */
const SWEEP_SLICE = 10_000

/**
 * Keeps sessions in this process's memory: fast, and gone on restart. The default engine. Expired sessions are
 * invisible at once and removed by GC; `maxSessions` bounds memory by evicting the least recently used.
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

  const alive = (id: string, now: number): MemoryRecord | undefined => {
    const record = records.get(id)
    return record && record.expiresAt > now ? record : undefined
  }

  const put = (id: string, record: MemoryRecord) => {
    if (lru === undefined || maxSessions === undefined) {
      records.set(id, record)
      return
    }
    // Map order is insertion order: re-inserting moves the id to the most recently used end.
    lru.delete(id)
    lru.set(id, record)
    if (lru.size > maxSessions) lru.delete(lru.keys().next().value as string)
  }

  return {
    name: 'memory',

    async load(id: string, now: number): Promise<StoredSession | null> {
      const record = alive(id, now)
      if (!record) return null
      if (maxSessions !== undefined) put(id, record)
      return record
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      const record = alive(id, now)
      if (!record && changes.existingOnly) return false
      put(id, Object.freeze({ data: frozenData(record?.data, changes), expiresAt: changes.expiresAt }))
      return true
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      const record = alive(id, now)
      if (!record) return false
      put(id, Object.freeze({ data: record.data, expiresAt }))
      return true
    },

    async delete(id: string): Promise<void> {
      records.delete(id)
    },

    async deleteAll(): Promise<void> {
      records.clear()
    },

    async count(now: number): Promise<number> {
      let count = 0
      for (const [, record] of records.entries()) if (record.expiresAt > now) count++
      return count
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      let batch: SessionEntry[] = []
      for (const [id] of [...records.entries()]) {
        const record = alive(id, now)
        if (!record) continue
        batch.push({ id, data: record.data, expiresAt: record.expiresAt })
        if (batch.length >= batchSize) {
          yield batch
          batch = []
        }
      }
      if (batch.length > 0) yield batch
    },

    async deleteExpired(now: number): Promise<number> {
      let deleted = 0
      let checked = 0
      for (const [id, record] of records.entries()) {
        if (record.expiresAt <= now) {
          records.delete(id)
          deleted++
        }
        if (++checked % SWEEP_SLICE === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      return deleted
    },

    async close(): Promise<void> {},
  }
}

/**
 * `stored` with `changes` applied, frozen all the way down. Values the caller passed in are copied first (objects
 * through JSON, as every other engine stores them), so changing them after the commit changes nothing stored.
 */
function frozenData(stored: SessionData | undefined, changes: SessionChanges): SessionData {
  const data: Record<string, SessionValue> = Object.assign(Object.create(null), stored)
  for (const key of changes.deleted) delete data[key]
  for (const key of Object.keys(changes.set)) {
    const value = changes.set[key] as SessionValue
    data[key] = typeof value === 'object' && value !== null ? deepFreeze(JSON.parse(JSON.stringify(value))) : value
  }
  return Object.freeze(data)
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
