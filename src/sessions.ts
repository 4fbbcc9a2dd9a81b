import type { SessionEngine, SessionEntry } from './engine.js'
import { callEngine, SessionEngineError } from './errors.js'
import { createGcTimer, type GcTimer } from './gc.js'
import { createWorkerGc } from './gc-worker-host.js'
import type { ResolvedSessionOptions } from './options.js'
import { Session } from './session.js'
import { isSessionId } from './session-id.js'
import { type SessionRuntime, SessionState } from './session-state.js'

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
  /** What request sessions of this plugin need; shared so every session sees the same engine and clock. */
  readonly runtime: SessionRuntime
  readonly #gc: GcTimer
  #closed: Promise<void> | undefined

  constructor(options: ResolvedSessionOptions) {
    this.runtime = {
      engine: options.engine,
      timeout: options.timeout,
      touchInterval: options.touchInterval,
      now: Date.now,
    }
    const { engine, gcInterval, logger } = options
    const sweepHere = () => this.#engineCall('sweep expired sessions', (engine, now) => engine.deleteExpired(now))
    // A store the engine can reopen is swept from a worker, so a big sweep never blocks requests.
    this.#gc =
      engine.reopen && gcInterval > 0
        ? createWorkerGc(engine.reopen, gcInterval, logger, sweepHere)
        : createGcTimer(sweepHere, gcInterval, logger)
  }

  /** The engine sessions are stored in. */
  get engine(): SessionEngine {
    return this.runtime.engine
  }

  /** The session with this raw id, or `null` when it is unknown or expired. Change it and `save()` to persist. */
  async get(id: string): Promise<Session | null> {
    if (typeof id !== 'string' || !isSessionId(id)) return null
    const stored = await this.#engineCall('load a session', (engine, now) => engine.load(id, now))
    return stored ? new Session(new SessionState(this.runtime, id, stored, 'detached')) : null
  }

  /** Calls `fn` for every live session, fetching them in batches and awaiting `fn` each time. */
  async each(fn: (session: Session) => unknown): Promise<void> {
    let batches: AsyncIterator<readonly SessionEntry[]>
    try {
      batches = this.engine.entries(this.runtime.now(), { batchSize: BATCH_SIZE })[Symbol.asyncIterator]()
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
          await fn(new Session(new SessionState(this.runtime, id, { data, expiresAt }, 'detached')))
        }
      }
    } finally {
      // A failure to close the iterator must not hide the error that ended the loop.
      await batches.return?.()?.catch(() => undefined)
    }
  }

  /** Every live session at once. Holds them all in memory: prefer `each` for large stores. */
  async all(): Promise<Session[]> {
    const sessions: Session[] = []
    await this.each((session) => {
      sessions.push(session)
    })
    return sessions
  }

  /** How many sessions are alive. */
  count(): Promise<number> {
    return this.#engineCall('count sessions', (engine, now) => engine.count(now))
  }

  /** Deletes one session; an unknown id is a no-op. Its user gets a fresh session on the next request. */
  async destroy(id: string): Promise<void> {
    if (typeof id !== 'string') return
    await this.#engineCall('delete a session', (engine) => engine.delete(id))
  }

  /** Deletes every session of this engine. */
  async destroyAll(): Promise<void> {
    await this.#engineCall('delete all sessions', (engine) => engine.deleteAll())
  }

  /**
   * Sweeps expired sessions now, in the GC worker when one runs, after any sweep in progress; resolves to how many
   * were removed once the sweep is complete.
   */
  gc(): Promise<number> {
    return this.#gc.runNow()
  }

  /** Starts the periodic GC; the plugin calls it when the app starts or serves its first request. */
  startGc(): void {
    this.#gc.start()
  }

  /** Stops GC and closes the engine. The app calls it on stop; calling it again is a no-op. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#gc.stop()
      await this.#engineCall('close', (engine) => engine.close())
    })()
    return this.#closed
  }

  #engineCall<T>(operation: string, call: (engine: SessionEngine, now: number) => Promise<T>): Promise<T> {
    return callEngine(operation, () => call(this.runtime.engine, this.runtime.now()))
  }
}
