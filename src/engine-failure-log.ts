import { failureReason, SessionEngineError } from './errors.js'
import type { SessionLogger } from './options.js'

/** How long one burst of engine failures lasts: its first failure is logged at once, the rest as one count. */
const BURST_MS = 10_000

/** Errors already logged, by any plugin. */
const reported = new WeakSet<SessionEngineError>()

/**
 * Logs session engine failures without flooding the logger during an outage: the first failure of a burst in full
 * (with its cause), then one line with how many more came before the burst ended. Each error is logged at most once,
 * however many hooks see it.
 */
export class EngineFailureLog {
  readonly #logger: SessionLogger
  readonly #now: () => number
  #burstEnd = 0
  #more = 0
  #last: SessionEngineError | undefined
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(logger: SessionLogger, now: () => number = Date.now) {
    this.#logger = logger
    this.#now = now
  }

  report(error: SessionEngineError): void {
    // One failure, one report: the same error seen by another plugin's hooks, or a change refused because of it.
    const cause: unknown = error.cause
    if (reported.has(error) || (cause instanceof SessionEngineError && reported.has(cause))) return
    reported.add(error)
    const now = this.#now()
    if (now >= this.#burstEnd) {
      this.flush()
      this.#burstEnd = now + BURST_MS
      this.#log(
        `elysia-sessions: ${lowerFirst(failureReason(error))} (more failures in the next 10 s are counted, not logged)`,
        error.cause,
      )
      return
    }
    this.#more++
    this.#last = error
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#burstEnd - now)
      this.#timer.unref()
    }
  }

  /** Logs the count of failures held back, if any; the timer calls it when a burst ends, and `close` on shutdown. */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const more = this.#more
    const last = this.#last
    this.#more = 0
    this.#last = undefined
    if (more === 0 || last === undefined) return
    const count =
      more === 1 ? '1 more session engine failure' : `${more.toLocaleString('en')} more session engine failures`
    this.#log(`elysia-sessions: ${count} in the same burst; the last: ${lowerFirst(failureReason(last))}`, last.cause)
  }

  #log(message: string, cause: unknown): void {
    try {
      this.#logger.error(message, cause)
    } catch {
      // A logger that throws must not turn an engine failure into a different one.
    }
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1)
}
