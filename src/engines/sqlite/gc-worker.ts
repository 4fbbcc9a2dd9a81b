import type { SessionLogger } from '../../options.js'
import { retireWorker, startWorker, stopWorker, workerEntry } from './background-worker.js'
import type { SweepBatchFlag } from './sweep-batch-flag.js'
import { deserializeError, type GcWorkerCommand, type GcWorkerReport, type GcWorkerStore } from './worker-protocol.js'

const WORKER_ENTRY = workerEntry('gc-worker-entry')

/** The SQLite engine's sweeps, run in a Bun Worker of their own. */
export interface GcWorker {
  /**
   * Deletes the sessions expired at `now` and resolves to how many it deleted. The first call starts the worker;
   * until it is ready the sweep waits, and once it cannot start or has died, sweeps run on the main thread.
   */
  sweep(now: number): Promise<number>
  /** Stops the worker, waiting for it to close its connection; sweeps not yet answered reject with `reason`. */
  stop(reason: Error): Promise<void>
}

/** What the GC worker shares with the engine that starts it. */
export interface GcWorkerHost {
  /** Sweeps on the main thread, once the worker cannot. */
  readonly sweepHere: (now: number) => Promise<number>
  /** Raised by the worker during each sweep batch. */
  readonly batchFlag: SweepBatchFlag
  /** Told each time a sweep batch in the worker has committed. */
  readonly onBatchSwept: () => void
}

/**
 * A GC worker for the file `store` describes. A worker that cannot start, fails or exits is logged through `logger`,
 * and from then on `host.sweepHere` sweeps on the main thread.
 */
export function createGcWorker(store: GcWorkerStore, logger: SessionLogger, host: GcWorkerHost): GcWorker {
  const { sweepHere, batchFlag, onBatchSwept } = host
  const pending = new Map<number, ReturnType<typeof Promise.withResolvers<number>>>()
  let nextSweepId = 0
  let worker: Worker | undefined
  let ready: ReturnType<typeof Promise.withResolvers<boolean>> | undefined
  let stopReason: Error | undefined
  /** How many sweeps are waiting for the worker. */
  let waiting = 0

  const failPending = (error: Error) => {
    for (const sweep of pending.values()) sweep.reject(error)
    pending.clear()
  }

  const fallBack = (reason: string, cause: unknown) => {
    if (worker) retireWorker(worker)
    worker = undefined
    batchFlag.lower()
    ready?.resolve(false)
    failPending(new Error(reason, { cause }))
    if (stopReason) return
    logger.error(`elysia-sessions: ${reason}; the SQLite engine sweeps on the main thread from now on`, cause)
  }

  const onReport = (message: GcWorkerReport) => {
    if (message.type === 'ready') {
      ready?.resolve(true)
    } else if (message.type === 'batch-swept') {
      onBatchSwept()
    } else if (message.type === 'open-failed') {
      fallBack(`the SQLite GC worker could not open ${store.path}`, deserializeError(message.error))
    } else {
      const sweep = pending.get(message.sweepId)
      pending.delete(message.sweepId)
      if (message.type === 'swept') sweep?.resolve(message.removed)
      else sweep?.reject(deserializeError(message.error))
    }
  }

  const launch = (): Promise<boolean> => {
    ready = Promise.withResolvers<boolean>()
    worker = startWorker<GcWorkerCommand, GcWorkerReport>(
      'the SQLite GC worker',
      WORKER_ENTRY,
      { type: 'open', store, batchFlag: batchFlag.buffer },
      { onReport, onFailure: fallBack },
    )
    return ready.promise
  }

  const sweepInWorker = (gcWorker: Worker, now: number): Promise<number> => {
    const sweepId = nextSweepId++
    const sweep = Promise.withResolvers<number>()
    pending.set(sweepId, sweep)
    gcWorker.postMessage({ type: 'sweep', sweepId, now } satisfies GcWorkerCommand)
    return sweep.promise
  }

  return {
    async sweep(now) {
      if (stopReason) throw stopReason
      const started = ready?.promise ?? launch()
      // Referenced while a sweep waits for it: code that awaits a sweep (or close(), which waits for one) outside a
      // top-level await must get its answer before the process may exit.
      if (waiting++ === 0) worker?.ref()
      try {
        const inWorker = await started
        if (stopReason) throw stopReason
        return inWorker && worker ? await sweepInWorker(worker, now) : await sweepHere(now)
      } finally {
        if (--waiting === 0 && !stopReason) worker?.unref()
      }
    },
    async stop(reason) {
      if (stopReason) return
      stopReason = reason
      ready?.resolve(false)
      failPending(reason)
      const gcWorker = worker
      worker = undefined
      if (gcWorker) await stopWorker<GcWorkerCommand>(gcWorker, { type: 'stop' })
      batchFlag.lower()
    },
  }
}
