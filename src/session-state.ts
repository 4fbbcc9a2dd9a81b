import type {
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionValue,
  StoredSession,
  SynchronousCalls,
} from './engine.js'
import { callEngine, callEngineNow, SessionEngineError, SessionSizeError } from './errors.js'
import { CREATED_AT_KEY, OWNER_KEY } from './internal-keys.js'
import { absoluteEndOf, asCreatedAt, cappedExpiry, expiryAt, type Lifetimes } from './lifetime.js'
import { generateSessionId } from './session-id.js'
import { dataBytes, entryBytes } from './session-size.js'

/** What a session needs from the app it belongs to. */
export interface SessionRuntime extends Lifetimes {
  readonly engine: SessionEngine
  /** How long after the last recorded activity a read moves the expiry again, in ms. */
  readonly touchInterval: number
  readonly now: () => number
  /** The most a session may hold, in bytes of the JSON of its data; absent or `0` means no limit. */
  readonly maxSize?: number
}

/**
 * Where a session lives: `request` sessions belong to a request and slide their expiry; `detached` ones come from the
 * admin API and keep their stored expiry; `disabled` ones stand in on routes with `session: false` and refuse use;
 * `unavailable` ones stand in, empty, for a session the engine failed to load, and refuse changes.
 */
export type SessionMode = 'request' | 'detached' | 'disabled' | 'unavailable'

/**
 * What the engine saw of a session during its request: `unmodified` (nothing committed), `modified` (changes
 * committed) or `destroyed` (its record, if any, deleted and nothing committed since).
 */
export type SessionStatus = 'unmodified' | 'modified' | 'destroyed'

/**
 * What the request's session cookie was: `none` (absent or empty), `current` (names the loaded session, signed with
 * the current secret), `old-secret` (names it, signed with an older secret), `names-no-session` (tampered, unknown,
 * expired or destroyed).
 */
export type IncomingCookie = 'none' | 'current' | 'old-secret' | 'names-no-session'

/** What happened to a session during its request, as far as its cookie is concerned. */
export interface SessionReport {
  readonly status: SessionStatus
  /** A commit stored the session under an id the incoming cookie does not carry: a new session or a new id. */
  readonly idChanged: boolean
  /** The stored expiry moved (a touch, or a save that slid it), so the cookie's lifetime is out of date. */
  readonly expiryMoved: boolean
  readonly incomingCookie: IncomingCookie
}

/**
 * The mutable core of one session: its data, what changed since it was loaded, and whether a record exists in the
 * engine. `Session` is the typed face over it; as a `SessionReport` it tells the plugin what its cookie needs.
 */
export class SessionState implements SessionReport {
  /** Null until someone asks: a new session that is never written needs no id. */
  #id: string | null
  /** The data as loaded; never changed in place, as an engine may hand it out frozen. */
  #loaded: SessionData | undefined
  /** Changes saved since the load, over `#loaded`: kept as they were sent rather than merged into a copy. */
  #saved: Changes | undefined
  /** Unsaved changes over both, made on the first one: most requests only read. */
  #changes: Changes | undefined
  #stored: boolean
  #expiresAt: number | null
  #closed = false
  #status: SessionStatus = 'unmodified'
  #idChanged = false
  #expiryMoved = false
  #startedOver = 0
  /**
   * The size the session would be stored at (see `session-size.ts`), measured on the first write under a `maxSize` and
   * then kept up to date by each write and removal; `undefined` until measured, and again after anything else changes
   * the data.
   */
  #size: number | undefined
  /** Keys whose stored values are no longer valid, removed by the next save that writes (set by a schema view). */
  staleKeys: (() => readonly string[]) | undefined

  /**
   * @param id the session id, or `null` for a new session that gets a fresh one
   * @param stored what the engine holds under `id`, or `null` when nothing is stored yet
   * @param incomingCookie what the request's cookie was, for a request session
   * @param loadFailure why an `unavailable` session could not be loaded, for the errors its changes throw
   */
  constructor(
    readonly runtime: SessionRuntime,
    id: string | null,
    stored: StoredSession | null,
    readonly mode: SessionMode = 'request',
    readonly incomingCookie: IncomingCookie = 'none',
    readonly loadFailure?: SessionEngineError,
  ) {
    this.#id = id
    this.#stored = stored !== null
    this.#expiresAt = stored?.expiresAt ?? null
    this.#loaded = stored?.data
  }

  get id(): string {
    this.#id ??= generateSessionId()
    return this.#id
  }

  /** A copy of every key and value of the session, with this request's changes. */
  get data(): Map<string, SessionValue> {
    const data = new Map(this.#loaded ? Object.entries(this.#loaded) : undefined)
    for (const changes of [this.#saved, this.#changes]) {
      for (const [key, value] of changes ?? []) {
        if (value === REMOVED) data.delete(key)
        else data.set(key, value)
      }
    }
    return data
  }

  /** The value under `key`, or `undefined`; reading never copies the data. */
  read(key: string): SessionValue | undefined {
    // Values are never undefined, so undefined means the key is not among the changes.
    let change = this.#changes?.get(key)
    if (change === undefined) change = this.#saved?.get(key)
    if (change !== undefined) return change === REMOVED ? undefined : change
    const loaded = this.#loaded
    return loaded !== undefined && Object.hasOwn(loaded, key) ? loaded[key] : undefined
  }

  /**
   * Every key of the session that starts with `prefix`, with this request's changes, found across the loaded data,
   * the saved changes and the pending ones without copying the data. Returns one shared empty array when none does.
   */
  keysWithPrefix(prefix: string): readonly string[] {
    const loaded = this.#loaded
    const saved = this.#saved
    const changes = this.#changes
    let found: string[] | undefined
    // Each key is taken from the newest layer that holds it, so none is listed twice and a removal hides older values.
    if (loaded !== undefined) {
      for (const key in loaded) {
        if (key.startsWith(prefix) && Object.hasOwn(loaded, key) && !saved?.has(key) && !changes?.has(key)) {
          found = appended(found, key)
        }
      }
    }
    if (saved !== undefined) {
      for (const [key, change] of saved) {
        if (change !== REMOVED && key.startsWith(prefix) && !changes?.has(key)) found = appended(found, key)
      }
    }
    if (changes !== undefined) {
      for (const [key, change] of changes) {
        if (change !== REMOVED && key.startsWith(prefix)) found = appended(found, key)
      }
    }
    return found ?? NO_KEYS
  }

  /** How many times `deleteAndStartOver` ran: a view that remembers the session's data knows it is out of date. */
  get startedOver(): number {
    return this.#startedOver
  }

  get status(): SessionStatus {
    return this.#status
  }

  get idChanged(): boolean {
    return this.#idChanged
  }

  get expiryMoved(): boolean {
    return this.#expiryMoved
  }

  /** When the stored record expires, or `null` when nothing is stored. */
  get expiresAt(): number | null {
    return this.#expiresAt
  }

  /**
   * When the session was first saved (epoch ms), or `null` before that; also `null` for a session stored before
   * creation times were recorded, until its next save.
   */
  get createdAt(): number | null {
    return asCreatedAt(this.read(CREATED_AT_KEY))
  }

  /** Whether a save would write: a value was set, or a key removed from a stored session. */
  get hasChanges(): boolean {
    const changes = this.#changes
    if (changes === undefined || changes.size === 0) return false
    if (this.#stored) return true
    for (const change of changes.values()) if (change !== REMOVED) return true
    return false
  }

  /** Called once the plugin has saved the session for its request: later changes could reach no response. */
  close(): void {
    this.#closed = true
  }

  /**
   * Sets `key` to `value`. Throws a `SessionSizeError`, changing nothing, when the session would then be over
   * `maxSize` and larger than before.
   */
  write(key: string, value: SessionValue): void {
    this.#checkOpen()
    const limit = this.runtime.maxSize
    if (limit) {
      const before = this.#size ?? this.#measure()
      const previous = this.read(key)
      const after = before - (previous === undefined ? 0 : entryBytes(key, previous)) + entryBytes(key, value)
      this.#size = before
      if (after > limit && after > before) throw new SessionSizeError(limit, after)
      this.#size = after
    }
    this.#changesToMake().set(key, value)
  }

  /** Removes a key; removing one this session does not hold changes nothing and writes nothing. */
  remove(key: string): void {
    this.#checkOpen()
    const previous = this.read(key)
    if (previous === undefined) return
    if (this.#size !== undefined) this.#size -= entryBytes(key, previous)
    this.#changesToMake().set(key, REMOVED)
  }

  /**
   * The size of the session's data with this request's changes, in bytes. A session that was never saved gets its
   * creation time at its first save, so that counts too: the size is what the engine would store.
   */
  #measure(): number {
    const loaded = this.#loaded
    let size: number
    if (this.#saved !== undefined || this.#changes !== undefined) size = dataBytes(Object.fromEntries(this.data))
    else size = loaded === undefined ? 2 : dataBytes(loaded)
    if (this.read(CREATED_AT_KEY) !== undefined) return size
    // The first key of an empty object, `{}`, takes the place of the closing brace's share.
    return size + entryBytes(CREATED_AT_KEY, this.runtime.now()) - (size === 2 ? 1 : 0)
  }

  /**
   * Writes the pending changes, if any, with the creation time when the session holds none yet. A request session's
   * expiry slides when `touchInterval` has passed since its last activity (as a read's would), so the stored expiry
   * and the cookie's stay in step and most writes need no new cookie; a detached one keeps its own. Neither goes past
   * the absolute end. When the stored session was destroyed meanwhile, a request session starts over under a new id
   * with just these changes and a new creation time (never reviving the old id), and a detached one is left deleted.
   */
  async save(): Promise<void> {
    const save = this.#startSave()
    if (save === undefined) return
    let written = await this.#commit(save)
    if (!written) {
      if (!this.#startOver(save)) return
      written = await this.#commit(save)
    }
    this.#endSave(save, written)
  }

  /** `save` through an engine's synchronous calls: the same steps, without waiting. */
  saveNow(calls: SynchronousCalls): void {
    const save = this.#startSave()
    if (save === undefined) return
    let written = this.#commitNow(calls, save)
    if (!written) {
      if (!this.#startOver(save)) return
      written = this.#commitNow(calls, save)
    }
    this.#endSave(save, written)
  }

  /** Takes the pending changes for a save, with the creation time and expiry it writes; `undefined` when none write. */
  #startSave(): PendingSave | undefined {
    const pending = this.#changes
    if (pending === undefined || !this.hasChanges) return
    for (const key of this.staleKeys?.() ?? NO_KEYS) pending.set(key, REMOVED)
    const now = this.runtime.now()
    if (this.read(CREATED_AT_KEY) === undefined) pending.set(CREATED_AT_KEY, now)
    const createdAt = this.createdAt
    const previousExpiry = this.#expiresAt
    let expiresAt: number
    if (previousExpiry === null || !this.#stored) expiresAt = expiryAt(this.runtime, createdAt, now)
    else if (this.mode === 'detached') expiresAt = cappedExpiry(this.runtime, createdAt, previousExpiry)
    else if (this.#touchDue(previousExpiry, createdAt, now)) expiresAt = expiryAt(this.runtime, createdAt, now)
    else expiresAt = previousExpiry
    const { set, deleted } = splitChanges(pending)
    this.#changes = undefined
    const changes = withOwner({ set, deleted, expiresAt, existingOnly: this.#stored })
    return { pending, set, changes, now, previousExpiry, idBefore: this.id, wasStored: this.#stored, retried: false }
  }

  /**
   * After a commit found the stored session destroyed: a request session starts over under a new id with just these
   * changes and a new creation time, so the next commit creates it; a detached one is left deleted (returns false).
   */
  #startOver(save: PendingSave): boolean {
    this.#stored = false
    this.#expiresAt = null
    this.#loaded = undefined
    this.#saved = undefined
    if (this.mode === 'detached') return false
    this.#id = generateSessionId()
    save.set[CREATED_AT_KEY] = save.now
    const expiresAt = expiryAt(this.runtime, save.now, save.now)
    save.changes = withOwner({ set: save.set, deleted: [], expiresAt, existingOnly: false })
    save.retried = true
    return true
  }

  #endSave(save: PendingSave, written: boolean): void {
    if (written) this.#recordSaved(save.retried ? new Map(Object.entries(save.set)) : save.pending)
    const { expiresAt } = save.changes
    this.#stored = written
    this.#expiresAt = written ? expiresAt : null
    // The save added a creation time and removed stale keys; a write made while the commit ran missed its changes.
    this.#size = undefined
    this.#status = 'modified'
    // A record that was not stored before is new to the browser even when its id was already drawn.
    if (!save.wasStored || this.id !== save.idBefore) this.#idChanged = true
    if (expiresAt !== save.previousExpiry) this.#expiryMoved = true
  }

  #recordSaved(changes: Changes): void {
    if (this.#saved === undefined) this.#saved = changes
    else for (const [key, change] of changes) this.#saved.set(key, change)
  }

  async #commit(save: PendingSave): Promise<boolean> {
    try {
      return await this.runtime.engine.commit(this.id, save.changes, save.now)
    } catch (error) {
      throw this.#commitFailed(save, error)
    }
  }

  #commitNow(calls: SynchronousCalls, save: PendingSave): boolean {
    try {
      return calls.commit(this.id, save.changes, save.now)
    } catch (error) {
      throw this.#commitFailed(save, error)
    }
  }

  #commitFailed(save: PendingSave, error: unknown): SessionEngineError {
    this.#restorePending(save.pending)
    return new SessionEngineError('commit a session', error)
  }

  /**
   * Slides the expiry of a stored, unchanged session once `touchInterval` has passed since its last activity.
   * Returns nothing, synchronously, when no touch is due. With `absoluteTimeout`, a session stored before creation
   * times were recorded gets one in place of its touch, so it cannot live forever on reads alone.
   */
  touchIfDue(): Promise<void> | undefined {
    const due = this.#dueTouch()
    if (due === undefined) return
    const { engine } = this.runtime
    if (due.recordCreatedAt) {
      return callEngine(RECORD_CREATED_AT, () => engine.commit(this.id, createdAtChanges(due), due.now)).then(
        (written) => this.#createdAtRecorded(due, written),
      )
    }
    return callEngine(TOUCH, () => engine.touch(this.id, due.expiresAt, due.now)).then((alive) =>
      this.#touched(due, alive),
    )
  }

  /** `touchIfDue` through an engine's synchronous calls. */
  touchIfDueNow(calls: SynchronousCalls): void {
    const due = this.#dueTouch()
    if (due === undefined) return
    if (due.recordCreatedAt) {
      const written = callEngineNow(RECORD_CREATED_AT, () => calls.commit(this.id, createdAtChanges(due), due.now))
      this.#createdAtRecorded(due, written)
    } else {
      this.#touched(
        due,
        callEngineNow(TOUCH, () => calls.touch(this.id, due.expiresAt, due.now)),
      )
    }
  }

  /** The touch a read is due, if any: a new expiry, or the creation time (as now) of a session stored without one. */
  #dueTouch(): DueTouch | undefined {
    if (!this.#stored || this.#expiresAt === null || this.mode !== 'request') return
    const now = this.runtime.now()
    // Without absoluteTimeout the creation time plays no part, and reads never look it up.
    const createdAt = this.runtime.absoluteTimeout === undefined ? null : this.createdAt
    if (!this.#touchDue(this.#expiresAt, createdAt, now)) return
    const recordCreatedAt = createdAt === null && this.runtime.absoluteTimeout !== undefined
    return { now, recordCreatedAt, expiresAt: expiryAt(this.runtime, recordCreatedAt ? now : createdAt, now) }
  }

  /**
   * Whether the expiry set to `expiresAt` must move at `now`: once `touchInterval` has passed since the last
   * activity, unless it already sits at the absolute end; at once when it lies past that end (the session was stored
   * before `absoluteTimeout` was set or lowered).
   */
  #touchDue(expiresAt: number, createdAt: number | null, now: number): boolean {
    const end = absoluteEndOf(this.runtime, createdAt)
    if (end !== null && expiresAt >= end) return expiresAt > end
    const lastActivity = expiresAt - this.runtime.timeout
    return now - lastActivity >= this.runtime.touchInterval
  }

  #touched(due: DueTouch, alive: boolean): void {
    if (!alive) return
    this.#expiresAt = due.expiresAt
    this.#expiryMoved = true
  }

  #createdAtRecorded(due: DueTouch, written: boolean): void {
    if (!written) return
    this.#recordSaved(new Map([[CREATED_AT_KEY, due.now]]))
    this.#size = undefined
    this.#expiresAt = due.expiresAt
    this.#expiryMoved = true
  }

  /** Deletes the stored record and starts over empty under a new id; the cookie is cleared unless a write follows. */
  async deleteAndStartOver(): Promise<void> {
    this.#checkOpen()
    if (this.#stored) await this.#deleteFromEngine(this.id)
    this.#id = null
    this.#stored = false
    this.#expiresAt = null
    this.#loaded = undefined
    this.#saved = undefined
    this.#changes = undefined
    this.#size = undefined
    this.#status = 'destroyed'
    this.#idChanged = false
    this.#expiryMoved = false
    this.#startedOver++
  }

  /**
   * Moves the data to a new id: written under the new id first, then removed from the old one. When the old session
   * was destroyed meanwhile, its data is not carried over: only this request's changes go to the new id. The old id is
   * checked after the new one is written, so a destroy that runs in between (`sessions.destroyByOwner`, say) also
   * finds the new one, or is seen here.
   */
  async regenerate(): Promise<void> {
    this.#checkOpen()
    const oldId = this.id
    if (!this.#stored) {
      this.#id = generateSessionId()
      return
    }
    const before = this.#snapshot()
    try {
      await this.#moveFrom(oldId)
    } catch (error) {
      // All or nothing: the session stays under its old id (so no cookie for a half-done move goes out), and a record
      // already written under the new id is removed if the engine lets us.
      if (this.#id !== null && this.#id !== oldId) await this.runtime.engine.delete(this.#id).catch(() => undefined)
      this.#restore(before)
      throw error
    }
  }

  async #moveFrom(oldId: string): Promise<void> {
    const now = this.runtime.now()
    const expiresAt =
      this.mode === 'detached' && this.#expiresAt !== null
        ? this.#expiresAt
        : expiryAt(this.runtime, this.createdAt, now)
    const writes = new Map([...(this.#changes ?? [])].filter(isWrite))
    this.#startUnder(generateSessionId(), this.data)
    await this.save()
    const alive = await callEngine(TOUCH, () => this.runtime.engine.touch(oldId, expiresAt, now))
    if (alive) {
      await this.#deleteFromEngine(oldId)
      return
    }
    await this.#deleteFromEngine(this.id)
    this.#startUnder(generateSessionId(), writes)
    this.#expiresAt = null
    await this.save()
  }

  #snapshot(): StateSnapshot {
    return {
      id: this.#id,
      loaded: this.#loaded,
      saved: this.#saved,
      changes: this.#changes && new Map(this.#changes),
      stored: this.#stored,
      expiresAt: this.#expiresAt,
      status: this.#status,
      idChanged: this.#idChanged,
      expiryMoved: this.#expiryMoved,
    }
  }

  #restore(snapshot: StateSnapshot): void {
    this.#id = snapshot.id
    this.#loaded = snapshot.loaded
    this.#saved = snapshot.saved
    this.#changes = snapshot.changes
    this.#size = undefined
    this.#stored = snapshot.stored
    this.#expiresAt = snapshot.expiresAt
    this.#status = snapshot.status
    this.#idChanged = snapshot.idChanged
    this.#expiryMoved = snapshot.expiryMoved
  }

  /** Makes everything in `changes` the whole of a session not yet stored under `id`. */
  #startUnder(id: string, changes: Map<string, SessionValue>): void {
    this.#id = id
    this.#stored = false
    this.#loaded = undefined
    this.#saved = undefined
    this.#changes = new Map(changes)
    this.#size = undefined
  }

  #checkOpen(): void {
    if (this.mode === 'unavailable') {
      // Refused rather than dropped: the change could only be lost, or overwrite data the engine still holds.
      throw new SessionEngineError('load this session, so it cannot be changed', this.loadFailure)
    }
    if (this.#closed) {
      throw new Error(
        'The session was already saved for this request, so this change would be lost: change it in the handler or in a hook that runs before the response is sent (not in a streaming generator)',
      )
    }
  }

  async #deleteFromEngine(id: string): Promise<void> {
    await callEngine('delete a session', () => this.runtime.engine.delete(id))
  }

  /** Puts back changes whose commit failed, unless the key was changed again meanwhile. */
  #restorePending(pending: Changes): void {
    this.#size = undefined
    const changes = this.#changesToMake()
    for (const [key, change] of pending) if (!changes.has(key)) changes.set(key, change)
  }

  #changesToMake(): Changes {
    this.#changes ??= new Map()
    return this.#changes
  }
}

/** Marks a key removed in a session's changes. */
const REMOVED: unique symbol = Symbol('removed')

/** What `keysWithPrefix` returns when no key matches, shared so that finding nothing allocates nothing. */
const NO_KEYS: readonly string[] = Object.freeze([])

/** `list` with `key` added, made on the first key: a scan that finds nothing allocates nothing. */
function appended(list: string[] | undefined, key: string): string[] {
  if (list === undefined) return [key]
  list.push(key)
  return list
}

/** What `regenerate` puts back when it fails half-way. */
interface StateSnapshot {
  readonly id: string | null
  readonly loaded: SessionData | undefined
  readonly saved: Changes | undefined
  readonly changes: Changes | undefined
  readonly stored: boolean
  readonly expiresAt: number | null
  readonly status: SessionStatus
  readonly idChanged: boolean
  readonly expiryMoved: boolean
}

/** Changes over a session's data: a value written under a key, or `REMOVED`. */
type Changes = Map<string, SessionValue | typeof REMOVED>

function isWrite(entry: [string, SessionValue | typeof REMOVED]): entry is [string, SessionValue] {
  return entry[1] !== REMOVED
}

/** Pending changes as an engine takes them; a null-prototype `set`, so a key named "__proto__" stays data. */
function splitChanges(changes: Changes): { set: Record<string, SessionValue>; deleted: string[] } {
  const set: Record<string, SessionValue> = Object.create(null)
  const deleted: string[] = []
  for (const [key, change] of changes) {
    if (change === REMOVED) deleted.push(key)
    else set[key] = change
  }
  return { set, deleted }
}

/** A save between taking its changes and committing them; a retry under a new id replaces `changes`. */
interface PendingSave {
  /** The changes taken, put back if the commit fails. */
  readonly pending: Changes
  readonly set: Record<string, SessionValue>
  changes: SessionChanges
  readonly now: number
  readonly previousExpiry: number | null
  readonly idBefore: string
  readonly wasStored: boolean
  retried: boolean
}

/** A touch that is due: the new expiry, and whether it records the creation time (as `now`) instead. */
interface DueTouch {
  readonly now: number
  readonly expiresAt: number
  readonly recordCreatedAt: boolean
}

const TOUCH = 'touch a session'
const RECORD_CREATED_AT = 'record the creation time of a session'

/** The commit that records the creation time of a session stored without one, in place of a touch. */
function createdAtChanges(due: DueTouch): SessionChanges {
  return { set: { [CREATED_AT_KEY]: due.now }, deleted: [], expiresAt: due.expiresAt, existingOnly: true }
}

/** `changes` with the owner change an engine with an owner index reads, when it sets or removes the owner. */
function withOwner(changes: SessionChanges): SessionChanges {
  const owner = ownerChangeIn(changes)
  return owner === undefined ? changes : { ...changes, owner }
}

/** The owner a commit sets (`null` when it removes the owner), or `undefined` when it leaves the owner alone. */
function ownerChangeIn(changes: SessionChanges): string | null | undefined {
  if (Object.hasOwn(changes.set, OWNER_KEY)) {
    const owner = changes.set[OWNER_KEY]
    return typeof owner === 'string' ? owner : null
  }
  return changes.deleted.includes(OWNER_KEY) ? null : undefined
}
