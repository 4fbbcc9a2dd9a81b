import type { SessionEngine, SynchronousCalls } from './engine.js'
import { EngineFailureLog } from './engine-failure-log.js'
import { callEngine, callEngineNow, type SessionEngineError } from './errors.js'
import { createGcTimer, type GcTimer } from './gc.js'
import { type ResolvedSessionOptions, type SessionLogger, warnThrough } from './options.js'
import type { SchemaRules } from './schema-rules.js'
import type { SessionRuntime } from './session-state.js'

const DELETE_OUTLIVED = 'delete a session past its absoluteTimeout'

/**
 * What one `session(...)` plugin keeps to itself: the runtime its sessions share and the GC timer of its engine.
 * Handlers never see it; their `sessions` admin object is built on it.
 */
export class PluginCore {
  /** The engine, lifetimes and clock that every session of this plugin uses. */
  readonly runtime: SessionRuntime
  /** The compiled `schema` every session of this plugin checks its values with. */
  readonly rules: SchemaRules
  /** Where the engine failures of requests are logged, a burst at a time. */
  readonly failures: EngineFailureLog
  readonly #logger: SessionLogger
  readonly #gc: GcTimer
  #closed: Promise<void> | undefined
  #warnedOfOwnerScan = false

  constructor(options: ResolvedSessionOptions, rules: SchemaRules) {
    this.rules = rules
    this.runtime = {
      engine: options.engine,
      timeout: options.timeout,
      absoluteTimeout: options.absoluteTimeout,
      touchInterval: options.touchInterval,
      maxSize: options.maxSize,
      now: Date.now,
    }
    this.#logger = options.logger
    this.failures = new EngineFailureLog(options.logger)
    const sweep = () => this.callEngine('sweep expired sessions', (engine, now) => engine.deleteExpired(now))
    this.#gc = createGcTimer(sweep, options.gcInterval, options.logger)
  }

  /** Runs `call` on the engine at the runtime's now; a failure rejects with a `SessionEngineError` naming `operation`. */
  callEngine<T>(operation: string, call: (engine: SessionEngine, now: number) => Promise<T>): Promise<T> {
    return callEngine(operation, () => call(this.runtime.engine, this.runtime.now()))
  }

  /**
   * Deletes a session found past its absolute end, which is treated as gone: the caller goes on without it, so a
   * failure is only logged (the record still expires at its idle end).
   */
  async deleteOutlived(id: string): Promise<void> {
    try {
      await this.callEngine(DELETE_OUTLIVED, (engine) => engine.delete(id))
    } catch (error) {
      this.failures.report(error as SessionEngineError)
    }
  }

  /** `deleteOutlived` through the engine's synchronous calls. */
  deleteOutlivedNow(calls: SynchronousCalls, id: string): void {
    try {
      callEngineNow(DELETE_OUTLIVED, () => calls.delete(id))
    } catch (error) {
      this.failures.report(error as SessionEngineError)
    }
  }

  /**
   * Warns, once per plugin, that the engine keeps no owner index, so finding one owner's sessions reads every session.
   */
  warnOfOwnerScan(): void {
    if (this.#warnedOfOwnerScan) return
    this.#warnedOfOwnerScan = true
    warnThrough(
      this.#logger,
      `elysia-sessions: the ${this.runtime.engine.name} engine keeps no owner index (capabilities.owners), so sessions.listByOwner and sessions.destroyByOwner read every session; use an engine with an owner index for large stores`,
    )
  }

  /** Starts the periodic GC; a no-op once started, after `close()`, or with a `gcInterval` of 0. */
  startGc(): void {
    this.#gc.start()
  }

  /** Sweeps expired sessions now, after any sweep in progress; resolves to how many were removed. */
  gc(): Promise<number> {
    return this.#gc.runNow()
  }

  /**
   * Stops GC and closes the engine, then waits for a sweep in progress, which the engine's close ends early (a long
   * sweep never holds up shutdown); calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const sweepEnded = this.#gc.stop()
      this.failures.flush()
      try {
        await this.callEngine('close', (engine) => engine.close())
      } finally {
        await sweepEnded
      }
    })()
    return this.#closed
  }
}
