import { extname } from 'node:path'
import type { EngineReopener } from './engine.js'
import { SessionEngineError } from './errors.js'
import { createGcTimer, type GcTimer } from './gc.js'
import { deserializeError, type GcWorkerCommand, type GcWorkerReport } from './gc-worker-protocol.js'
import type { SessionLogger } from './options.js'

/** The worker entry: `.ts` when running from source, `.js` from the package. */
const WORKER_ENTRY = new URL(`./gc-worker${extname(new URL(import.meta.url).pathname)}`, import.meta.url).href

/** How long `stop()` waits for the worker to close its engine before terminating it. */
const STOP_GRACE = 5_000

const SWEEP = 'sweep expired sessions'

/**
 * A GC timer whose sweeps run in a Bun Worker on an engine reopened from `reopen`. Until the worker is ready, and for
 * good if it cannot start or dies, sweeps run on the main thread through `sweepHere` instead.
 */
export function createWorkerGc(
  reopen: EngineReopener,
  interval: number,
  logger: SessionLogger,
  sweepHere: () => Promise<number>,
): GcTimer {
  const mainThread = createGcTimer(sweepHere, interval, logger)
  const pending = new Map<number, ReturnType<typeof Promise.withResolvers<number>>>()
  let nextSweepId = 0
  let worker: Worker | undefined
  let ready: Promise<boolean> | undefined
  let stopped = false

  const failPending = (error: Error) => {
    for (const sweep of pending.values()) sweep.reject(error)
    pending.clear()
  }

  const fallBack = (reason: string, cause: unknown) => {
    worker?.terminate()
    worker = undefined
    failPending(new SessionEngineError(SWEEP, cause))
    if (stopped) return
    logger.error(`elysia-sessions: ${reason}; GC sweeps on the main thread from now on`, cause)
    mainThread.start()
  }

  const launch = (): Promise<boolean> => {
    const started = Promise.withResolvers<boolean>()
    const gcWorker = new Worker(WORKER_ENTRY)
    worker = gcWorker
    // GC must never keep the process alive.
    gcWorker.unref()
    gcWorker.onmessage = (event: MessageEvent<GcWorkerReport>) => {
      const message = event.data
      if (message.type === 'ready') started.resolve(true)
      else if (message.type === 'start-failed') {
        fallBack('the GC worker could not reopen the engine', deserializeError(message.error))
        started.resolve(false)
      } else if (message.type === 'swept') {
        pending.get(message.sweepId)?.resolve(message.removed)
        pending.delete(message.sweepId)
      } else if (message.type === 'sweep-failed') {
        const error = new SessionEngineError(SWEEP, deserializeError(message.error))
        if (message.sweepId === null)
          logger.error('elysia-sessions: GC sweep failed; the next tick will try again', error)
        else pending.get(message.sweepId)?.reject(error)
        if (message.sweepId !== null) pending.delete(message.sweepId)
      }
    }
    gcWorker.onerror = (event: ErrorEvent) => {
      fallBack('the GC worker failed', event.error ?? new Error(event.message))
      started.resolve(false)
    }
    gcWorker.postMessage({ type: 'start', reopen, interval } satisfies GcWorkerCommand)
    return started.promise
  }

  const sweepInWorker = async (): Promise<number> => {
    if (!(await ready) || !worker) return mainThread.runNow()
    const sweepId = nextSweepId++
    const sweep = Promise.withResolvers<number>()
    pending.set(sweepId, sweep)
    worker.postMessage({ type: 'sweep', sweepId } satisfies GcWorkerCommand)
    return sweep.promise
  }

  return {
    start() {
      if (ready || stopped || interval === 0) return
      ready = launch()
    },
    runNow() {
      return ready && worker ? sweepInWorker() : mainThread.runNow()
    },
    async stop() {
      stopped = true
      await mainThread.stop()
      const gcWorker = worker
      if (!gcWorker) return
      worker = undefined
      // Referenced until it has closed its engine: an app that awaits close() on shutdown must not exit half-way.
      gcWorker.ref()
      const closed = new Promise<void>((resolve) => {
        const giveUp = setTimeout(() => {
          gcWorker.terminate()
          resolve()
        }, STOP_GRACE)
        gcWorker.addEventListener('close', () => {
          clearTimeout(giveUp)
          resolve()
        })
      })
      gcWorker.postMessage({ type: 'stop' } satisfies GcWorkerCommand)
      await closed
      failPending(new SessionEngineError(SWEEP, new Error('GC was stopped')))
    },
  }
}
