import type { EngineReopener } from './engine.js'
import { SessionEngineError } from './errors.js'
import { createGcTimer, type GcTimer } from './gc.js'
import { deserializeError, type GcWorkerCommand, type GcWorkerReport } from './gc-worker-protocol.js'
import type { SessionLogger } from './options.js'
import { siblingModule } from './sibling-module.js'

const WORKER_ENTRY = siblingModule('gc-worker-entry', import.meta.url)

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
  let started: ReturnType<typeof Promise.withResolvers<boolean>> | undefined
  let stopped = false

  const failPending = (error: Error) => {
    for (const sweep of pending.values()) sweep.reject(error)
    pending.clear()
  }

  const fallBack = (reason: string, cause: unknown) => {
    const failed = worker
    worker = undefined
    failed?.terminate()
    started?.resolve(false)
    failPending(new SessionEngineError(SWEEP, cause))
    if (stopped) return
    logger.error(`elysia-sessions: ${reason}; GC sweeps on the main thread from now on`, cause)
    mainThread.start()
  }

  const onReport = (message: GcWorkerReport) => {
    if (message.type === 'ready') {
      started?.resolve(true)
    } else if (message.type === 'start-failed') {
      fallBack('the GC worker could not reopen the engine', deserializeError(message.error))
    } else if (message.type === 'swept') {
      pending.get(message.sweepId)?.resolve(message.removed)
      pending.delete(message.sweepId)
    } else if (message.sweepId === null) {
      const error = new SessionEngineError(SWEEP, deserializeError(message.error))
      logger.error('elysia-sessions: GC sweep failed; the next tick will try again', error)
    } else {
      pending.get(message.sweepId)?.reject(new SessionEngineError(SWEEP, deserializeError(message.error)))
      pending.delete(message.sweepId)
    }
  }

  const launch = () => {
    started = Promise.withResolvers<boolean>()
    try {
      const gcWorker = new Worker(WORKER_ENTRY)
      worker = gcWorker
      // GC must never keep the process alive.
      gcWorker.unref()
      gcWorker.onmessage = (event: MessageEvent<GcWorkerReport>) => onReport(event.data)
      gcWorker.onerror = (event: ErrorEvent) =>
        fallBack('the GC worker failed', event.error ?? new Error(event.message))
      gcWorker.addEventListener('close', () => {
        if (worker === gcWorker && !stopped) fallBack('the GC worker exited', new Error('the GC worker exited'))
      })
      gcWorker.postMessage({ type: 'start', reopen, interval } satisfies GcWorkerCommand)
    } catch (error) {
      fallBack('the GC worker could not start', error)
    }
  }

  const sweepInWorker = async (ready: Promise<boolean>): Promise<number> => {
    const inWorker = await ready
    if (stopped) throw new SessionEngineError(SWEEP, new Error('GC was stopped'))
    if (!inWorker || !worker) return mainThread.runNow()
    const sweepId = nextSweepId++
    const sweep = Promise.withResolvers<number>()
    pending.set(sweepId, sweep)
    worker.postMessage({ type: 'sweep', sweepId } satisfies GcWorkerCommand)
    return sweep.promise
  }

  const stopWorker = async (gcWorker: Worker) => {
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
  }

  return {
    start() {
      if (started || stopped || interval === 0) return
      launch()
    },
    runNow() {
      return started && worker ? sweepInWorker(started.promise) : mainThread.runNow()
    },
    async stop() {
      stopped = true
      started?.resolve(false)
      await mainThread.stop()
      const gcWorker = worker
      worker = undefined
      if (gcWorker) await stopWorker(gcWorker)
      failPending(new SessionEngineError(SWEEP, new Error('GC was stopped')))
    },
  }
}
