import type { SessionEntry, StoredSession } from './engine.js'
import { callEngine, SessionEngineError } from './errors.js'
import { OWNER_KEY } from './internal-keys.js'
import { hasOutlived } from './lifetime.js'
import { checkOwnerId, hasOwnerIndex } from './owner-id.js'
import type { PluginCore } from './plugin-core.js'
import { Session } from './session.js'
import { isSessionId } from './session-id.js'
import type { SessionFields, UntypedFields } from './session-schema.js'
import { SessionState } from './session-state.js'

/** How many sessions `each` and `all` fetch from the engine at a time. */
const BATCH_SIZE = 500

/** Options of `sessions.destroyByOwner`. */
export interface DestroyByOwnerOptions {
  /** The id, or ids, of sessions to keep: `{ except: session.id }` logs out everywhere but here. */
  readonly except?: string | readonly string[]
}

/**
 * The admin side of one `session(...)` plugin (kemal-session's class methods), decorated into every handler as
 * `sessions`: find, list, count and destroy any session, run GC, and close the engine.
 *
 * @example
 * app.post('/admin/logout-everyone', async ({ sessions }) => {
 *   await sessions.destroyAll()
 *   return 'done'
 * })
 */
export class Sessions<Fields extends SessionFields = UntypedFields> {
  readonly #core: PluginCore

  /** The admin API over `core`; the plugin makes one for each `session(...)`. */
  constructor(core: PluginCore) {
    this.#core = core
  }

  /**
   * The session with this raw id, or `null` when it is unknown, expired or past its `absoluteTimeout` (then deleted,
   * as a request would). Change it and `save()` to persist.
   */
  async get(id: string): Promise<Session<Fields> | null> {
    if (typeof id !== 'string' || !isSessionId(id)) return null
    const { runtime } = this.#core
    const now = runtime.now()
    const stored = await this.#core.callEngine('load a session', (engine) => engine.load(id, now))
    if (!stored) return null
    if (hasOutlived(runtime, stored.data, now)) {
      await this.#core.deleteOutlived(id)
      return null
    }
    return this.#detached(id, stored)
  }

  /**
   * Calls `fn` for every live session, fetching them in batches and awaiting `fn` each time. Sessions past their
   * `absoluteTimeout` are skipped.
   */
  async each(fn: (session: Session<Fields>) => unknown): Promise<void> {
    const { runtime } = this.#core
    const now = runtime.now()
    let batches: AsyncIterator<readonly SessionEntry[]>
    try {
      batches = runtime.engine.entries(now, { batchSize: BATCH_SIZE })[Symbol.asyncIterator]()
    } catch (error) {
      throw new SessionEngineError('list sessions', error)
    }
    try {
      for (;;) {
        const step = await batches.next().catch((error: unknown) => {
          throw new SessionEngineError('list sessions', error)
        })
        if (step.done) return
        for (const { id, data, expiresAt } of step.value) {
          if (hasOutlived(runtime, data, now)) continue
          await fn(this.#detached(id, { data, expiresAt }))
        }
      }
    } finally {
      // A failure to close the iterator must not hide the error that ended the loop.
      await batches.return?.()?.catch(() => undefined)
    }
  }

  /** Every live session at once. Holds them all in memory: prefer `each` for large stores. */
  async all(): Promise<Session<Fields>[]> {
    const found: Session<Fields>[] = []
    await this.each((session) => {
      found.push(session)
    })
    return found
  }

  /**
   * How many sessions are alive, as the engine counts them: a session stored before `absoluteTimeout` was set or
   * lowered may be counted past its absolute end, until it is next loaded or its idle end.
   */
  count(): Promise<number> {
    return this.#core.callEngine('count sessions', (engine, now) => engine.count(now))
  }

  /** Deletes one session; an unknown id is a no-op. Its user gets a fresh session on the next request. */
  async destroy(id: string): Promise<void> {
    if (typeof id !== 'string') return
    await this.#core.callEngine('delete a session', (engine) => engine.delete(id))
  }

  /**
   * The live sessions bound to `ownerId` by `session.owner(ownerId)`, as `get(id)` returns them; never expired ones,
   * nor ones past their `absoluteTimeout`. An engine with an owner index reads only that owner's sessions; on another
   * engine this reads every session (and warns once). An invalid owner id is a TypeError.
   *
   * @example
   * app.get('/devices', async ({ session, sessions, status }) => {
   *   const owner = session.owner()
   *   if (owner === null) return status(401)
   *   return (await sessions.listByOwner(owner)).map((each) => ({ since: each.createdAt, until: each.expiresAt }))
   * })
   */
  async listByOwner(ownerId: string): Promise<Session<Fields>[]> {
    checkOwnerId(ownerId, 'sessions.listByOwner(ownerId)')
    const { runtime } = this.#core
    const engine = runtime.engine
    if (!hasOwnerIndex(engine)) {
      this.#core.warnOfOwnerScan()
      const found: Session<Fields>[] = []
      await this.each((session) => {
        if (session.owner() === ownerId) found.push(session)
      })
      return found
    }
    const now = runtime.now()
    const entries = await callEngine('list the sessions of an owner', () => engine.listByOwner(ownerId, now))
    const found: Session<Fields>[] = []
    for (const { id, data, expiresAt } of entries) {
      // The data is the truth: an index that lags behind it never hands out another owner's session.
      if (data[OWNER_KEY] !== ownerId) continue
      if (hasOutlived(runtime, data, now)) await this.#core.deleteOutlived(id)
      else found.push(this.#detached(id, { data, expiresAt }))
    }
    return found
  }

  /**
   * Destroys the live sessions bound to `ownerId`, except those whose id is in `options.except`, and resolves to how
   * many it destroyed; their users get a fresh session on their next request, and a request that loaded one before
   * cannot bring it back. Costs as `listByOwner` does. An invalid owner id is a TypeError.
   *
   * @example
   * app.post('/logout-everywhere-else', async ({ session, sessions }) => {
   *   const owner = session.owner()
   *   return owner === null ? 0 : sessions.destroyByOwner(owner, { except: session.id })
   * })
   */
  async destroyByOwner(ownerId: string, options: DestroyByOwnerOptions = {}): Promise<number> {
    checkOwnerId(ownerId, 'sessions.destroyByOwner(ownerId)')
    const except = exceptedIds(options)
    const engine = this.#core.runtime.engine
    if (hasOwnerIndex(engine)) {
      // Listing first deletes the sessions past their absolute lifetime, which the engine would count as live.
      if (this.#core.runtime.absoluteTimeout !== undefined) await this.listByOwner(ownerId)
      const now = this.#core.runtime.now()
      return callEngine('delete the sessions of an owner', () => engine.deleteByOwner(ownerId, except, now))
    }
    const kept = new Set(except)
    const doomed = (await this.listByOwner(ownerId)).map((session) => session.id).filter((id) => !kept.has(id))
    for (const id of doomed) await this.#core.callEngine('delete a session', (engine) => engine.delete(id))
    return doomed.length
  }

  /** A session of the admin API: it keeps its stored expiry when saved. */
  #detached(id: string, stored: StoredSession): Session<Fields> {
    return new Session<Fields>(new SessionState(this.#core.runtime, id, stored, 'detached'), this.#core.rules)
  }

  /** Deletes every session of this engine. */
  async destroyAll(): Promise<void> {
    await this.#core.callEngine('delete all sessions', (engine) => engine.deleteAll())
  }

  /**
   * Sweeps expired sessions now, after any sweep in progress; resolves to how many were removed once it is complete,
   * or rejects when `close()` cuts it short.
   */
  gc(): Promise<number> {
    return this.#core.gc()
  }

  /** Stops GC and closes the engine. The app calls it on stop; calling it again is a no-op. */
  close(): Promise<void> {
    return this.#core.close()
  }
}

/** The ids `destroyByOwner` keeps; a TypeError unless `except` is absent, a string or an array of strings. */
function exceptedIds(options: DestroyByOwnerOptions): readonly string[] {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('sessions.destroyByOwner(ownerId, options) needs an options object such as { except: id }')
  }
  const { except } = options
  if (except === undefined) return []
  if (typeof except === 'string') return [except]
  if (Array.isArray(except) && except.every((id) => typeof id === 'string')) return except
  throw new TypeError('sessions.destroyByOwner(ownerId, { except }) needs a session id or an array of session ids')
}
