import type { SessionEntry } from './engine.js'
import { SessionEngineError } from './errors.js'
import { hasOutlived } from './lifetime.js'
import type { PluginCore } from './plugin-core.js'
import { Session } from './session.js'
import { isSessionId } from './session-id.js'
import { SessionState } from './session-state.js'

/** How many sessions `each` and `all` fetch from the engine at a time. */
const BATCH_SIZE = 500

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
export class Sessions {
  readonly #core: PluginCore

  /** The admin API over `core`; the plugin makes one for each `session(...)`. */
  constructor(core: PluginCore) {
    this.#core = core
  }

  /**
   * The session with this raw id, or `null` when it is unknown, expired or past its `absoluteTimeout` (then deleted,
   * as a request would). Change it and `save()` to persist.
   */
  async get(id: string): Promise<Session | null> {
    if (typeof id !== 'string' || !isSessionId(id)) return null
    const { runtime } = this.#core
    const now = runtime.now()
    const stored = await this.#core.callEngine('load a session', (engine) => engine.load(id, now))
    if (!stored) return null
    if (hasOutlived(runtime, stored.data, now)) {
      await this.#core.deleteOutlived(id)
      return null
    }
    return new Session(new SessionState(runtime, id, stored, 'detached'))
  }

  /**
   * Calls `fn` for every live session, fetching them in batches and awaiting `fn` each time. Sessions past their
   * `absoluteTimeout` are skipped.
   */
  async each(fn: (session: Session) => unknown): Promise<void> {
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
          await fn(new Session(new SessionState(runtime, id, { data, expiresAt }, 'detached')))
        }
      }
    } finally {
      // A failure to close the iterator must not hide the error that ended the loop.
      await batches.return?.()?.catch(() => undefined)
    }
  }

  /** Every live session at once. Holds them all in memory: prefer `each` for large stores. */
  async all(): Promise<Session[]> {
    const found: Session[] = []
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
