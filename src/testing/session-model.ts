import type { SessionChanges, SessionData, SessionEntry, SessionValue, StoredSession } from '../engine.js'
import { OWNER_KEY } from '../internal-keys.js'

/** One session as the model keeps it, alive or expired and not yet swept. */
export interface ModelRecord {
  readonly data: SessionData
  readonly expiresAt: number
  /** An expired session `deleteByOwner` may or may not have removed: the contract leaves that open. */
  readonly maybeSwept?: boolean
}

/** What one commit makes of one session's record, and whether it wrote. */
export interface CommitOutcome {
  readonly record: ModelRecord | undefined
  readonly written: boolean
}

const isAlive = (record: ModelRecord | undefined, now: number): record is ModelRecord =>
  record !== undefined && record.expiresAt > now

/**
 * The contract's commit on one session's record: `set` written and `deleted` removed over the live data, or over empty
 * data when the session is unknown or expired at `now`, unless `existingOnly` says to write nothing then.
 */
export function applyCommit(record: ModelRecord | undefined, changes: SessionChanges, now: number): CommitOutcome {
  const alive = isAlive(record, now)
  if (!alive && changes.existingOnly === true) return { record, written: false }
  const data: Record<string, SessionValue> = alive ? { ...record.data } : {}
  for (const key of changes.deleted) delete data[key]
  for (const [key, value] of Object.entries(changes.set)) data[key] = structuredClone(value)
  return { record: { data, expiresAt: changes.expiresAt }, written: true }
}

/** What a session looks like through `load` at `now`: `null` unless it is alive. */
export function visibleAt(record: ModelRecord | undefined, now: number): StoredSession | null {
  return isAlive(record, now) ? { data: record.data, expiresAt: record.expiresAt } : null
}

/** The owner a session's data names under the reserved key, which every commit's `owner` mirrors. */
const ownerOf = (record: ModelRecord): SessionValue | undefined => record.data[OWNER_KEY]

/**
 * A reference model of one engine's store that follows `src/engine.ts` sentence by sentence, keeping expired sessions
 * until a sweep so that `deleteExpired` can be checked too.
 */
export class SessionModel {
  readonly #records = new Map<string, ModelRecord>()

  record(id: string): ModelRecord | undefined {
    return this.#records.get(id)
  }

  /** Replaces one session's record, as the outcome of commits the model has already judged. */
  put(id: string, record: ModelRecord | undefined): void {
    if (record === undefined) this.#records.delete(id)
    else this.#records.set(id, record)
  }

  load(id: string, now: number): StoredSession | null {
    return visibleAt(this.#records.get(id), now)
  }

  commit(id: string, changes: SessionChanges, now: number): boolean {
    const { record, written } = applyCommit(this.#records.get(id), changes, now)
    this.put(id, record)
    return written
  }

  touch(id: string, expiresAt: number, now: number): boolean {
    const record = this.#records.get(id)
    if (!isAlive(record, now)) return false
    this.#records.set(id, { data: record.data, expiresAt })
    return true
  }

  delete(id: string): void {
    this.#records.delete(id)
  }

  deleteAll(): void {
    this.#records.clear()
  }

  /** The sessions alive at `now`, sorted by id. */
  live(now: number): SessionEntry[] {
    return [...this.#records]
      .filter(([, record]) => isAlive(record, now))
      .map(([id, { data, expiresAt }]) => ({ id, data, expiresAt }))
      .sort(byId)
  }

  count(now: number): number {
    return this.live(now).length
  }

  listByOwner(owner: string, now: number): SessionEntry[] {
    return this.live(now).filter((entry) => entry.data[OWNER_KEY] === owner)
  }

  deleteByOwner(owner: string, except: readonly string[], now: number): number {
    let deleted = 0
    for (const [id, record] of [...this.#records]) {
      if (ownerOf(record) !== owner || except.includes(id)) continue
      if (record.expiresAt > now) {
        this.#records.delete(id)
        deleted++
      } else {
        this.#records.set(id, { ...record, maybeSwept: true })
      }
    }
    return deleted
  }

  /** Sweeps the sessions expired at `now`; resolves to the fewest and most the engine may report. */
  deleteExpired(now: number): { least: number; most: number } {
    let least = 0
    let most = 0
    for (const [id, record] of [...this.#records]) {
      if (record.expiresAt > now) continue
      this.#records.delete(id)
      most++
      if (record.maybeSwept !== true) least++
    }
    return { least, most }
  }
}

/** Orders entries by id, so two lists of sessions compare regardless of the order an engine yields them in. */
export function byId(first: { readonly id: string }, second: { readonly id: string }): number {
  return first.id < second.id ? -1 : first.id > second.id ? 1 : 0
}
