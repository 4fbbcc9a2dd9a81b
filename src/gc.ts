import { isEngineClosed } from './engines/closed-error.js'
import { failureReason } from './errors.js'
import type { SessionLogger } from './options.js'

/** Runs `sweep` every `interval` ms and on demand, one sweep at a time. */
export interface GcTimer {
  /** Starts the timer; does nothing when it runs already, was stopped, or `interval` is 0. */
  start(): void
  /** A sweep now, after any sweep in progress; resolves to what it removed. */
  runNow(): Promise<number>
  /** Stops the timer; resolves once a sweep in progress has settled, whatever its outcome. */
  stop(): Promise<void>
}

/**
 * A GC timer whose ticks never overlap (a tick is skipped while a sweep runs), whose failures are logged without
 * stopping later ticks, and which never keeps the process alive.
 */
export function createGcTimer(sweep: () => Promise<number>, interval: number, logger: SessionLogger): GcTimer {
  let timer: ReturnType<typeof setInterval> | undefined
  let stopped = false
  let current: Promise<number> | undefined

  const run = (): Promise<number> => {
    const previous = current
    const sweeping = (async () => {
      await previous?.catch(() => undefined)
      return sweep()
    })()
    current = sweeping
    void sweeping
      .finally(() => {
        if (current === sweeping) current = undefined
      })
      .catch(() => undefined)
    return sweeping
  }

  return {
    start() {
      if (timer !== undefined || stopped || interval === 0) return
      timer = setInterval(function sessionGcTick() {
        if (current) return
        run().catch((error: unknown) => {
          // A sweep that the engine's close cut short after stop() is no failure; anything else is.
          if (!(stopped && isEngineClosed(error)))
            logger.error(
              `elysia-sessions: GC sweep failed (${failureReason(error)}); the next tick will try again`,
              error,
            )
        })
      }, interval)
      timer.unref()
    },
    runNow: run,
    async stop() {
      stopped = true
      clearInterval(timer)
      timer = undefined
      await current?.catch(() => undefined)
    },
  }
}
