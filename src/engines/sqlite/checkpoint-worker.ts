import type { Database } from 'bun:sqlite'
import type { SessionLogger } from '../../options.js'
import { retireWorker, startWorker, stopWorker, workerEntry } from './background-worker.js'
import { autocheckpointPages, setAutocheckpoint } from './connection.js'
import { type CheckpointWorkerCommand, type CheckpointWorkerReport, deserializeError } from './worker-protocol.js'

const WORKER_ENTRY = workerEntry('checkpoint-worker-entry')

/**
 * How many write transactions the serving connection commits before the worker starts: by then its WAL holds at least
 * as many frames as SQLite's own checkpoint waits for, and an engine that writes less never needs a thread.
 */
const START_AFTER_WRITES = 1_000

/**
 * How many write transactions the worker lets pass between checkpoints. Each writes a few pages (a session's row and
 * its index entries), so about a tenth of the 1,000 pages SQLite's own checkpoint waits for: this thread copies the
 * frames long before any connection's own checkpoint would, in runs long enough that each fsync covers many pages.
 * A sweep batch, which deletes rows all over the file, counts as this many.
 */
const WRITES_PER_CHECKPOINT = 32

/**
 * The automatic checkpoint (`wal_autocheckpoint`, in WAL pages) of the engine's connections while the worker copies
 * the WAL: a backstop, should the worker fall behind. At SQLite's own 1,000 a connection that commits while the WAL is
 * still long, as during a sweep, copies it into the file and syncs it before its caller gets an answer.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000

/**
 * The SQLite engine's WAL checkpoints, run in a Bun Worker of their own beside the serving connection's. Each
 * checkpoint writes the pages the WAL holds into the database file and fsyncs it: with many sessions stored, or while
 * the GC worker sweeps, those are pages all over the file, and the serving thread would wait for them. While the worker
 * runs, the serving connection's automatic checkpoint is only a backstop, should the worker fall behind; should the
 * worker fail, that checkpoint is back at its earlier setting and does all the work again, as without a worker.
 */
export interface CheckpointWorker {
  /** Says that the serving connection committed a write transaction; never throws. */
  wrote(): void
  /** Says that a sweep batch committed, on this connection or the GC worker's; never throws. */
  sweptBatch(): void
  /** Stops the worker, waiting for it to close its connection. */
  stop(): Promise<void>
}

/**
 * A checkpoint worker for the WAL database at `path`, beside the serving connection `serving`; a worker that fails is
 * logged through `logger`, once.
 */
export function createCheckpointWorker(path: string, serving: Database, logger: SessionLogger): CheckpointWorker {
  let writes = 0
  let worker: Worker | undefined
  let ready = false
  /** Whether the worker was asked to checkpoint and has not answered yet. */
  let checking = false
  /** Set once the worker failed or was stopped: it never starts again. */
  let done = false
  /** The serving connection's automatic checkpoint before the worker took over, given back should the worker fail. */
  let ownAutocheckpoint: number | undefined

  const fallBack = (reason: string, cause: unknown) => {
    if (worker) retireWorker(worker)
    worker = undefined
    if (done) return
    done = true
    try {
      if (ownAutocheckpoint !== undefined) setAutocheckpoint(serving, ownAutocheckpoint)
    } catch {
      // Called after a commit: a write that was made must not fail. SQLite then checkpoints at the backstop.
    }
    try {
      logger.error(
        `elysia-sessions: ${reason}; the SQLite engine checkpoints on the main thread alone from now on`,
        cause,
      )
    } catch {
      // Called after a commit: a logger that throws must not fail a write that was made.
    }
  }

  const onReport = (message: CheckpointWorkerReport) => {
    if (message.type === 'ready') {
      if (done) return
      ready = true
      try {
        ownAutocheckpoint = autocheckpointPages(serving)
        setAutocheckpoint(serving, BACKSTOP_AUTOCHECKPOINT_PAGES)
      } catch (error) {
        fallBack('the SQLite checkpoint worker could not take over the checkpoints', error)
      }
    } else if (message.type === 'checkpointed') checking = false
    else if (message.type === 'open-failed') {
      fallBack(`the SQLite checkpoint worker could not open ${path}`, deserializeError(message.error))
    } else fallBack('the SQLite checkpoint worker failed to checkpoint', deserializeError(message.error))
  }

  const launch = () => {
    worker = startWorker<CheckpointWorkerCommand, CheckpointWorkerReport>(
      'the SQLite checkpoint worker',
      WORKER_ENTRY,
      { type: 'open', path },
      { onReport, onFailure: fallBack },
    )
  }

  /** Counts `written` write transactions, starting the worker or asking it to checkpoint when they add up. */
  const count = (written: number) => {
    if (done) return
    writes += written
    if (!worker) {
      if (writes >= START_AFTER_WRITES) launch()
      return
    }
    if (!ready || checking || writes < WRITES_PER_CHECKPOINT) return
    writes = 0
    checking = true
    try {
      worker.postMessage({ type: 'checkpoint' } satisfies CheckpointWorkerCommand)
    } catch (error) {
      fallBack('the SQLite checkpoint worker could not be reached', error)
    }
  }

  return {
    wrote() {
      count(1)
    },
    sweptBatch() {
      count(WRITES_PER_CHECKPOINT)
    },
    async stop() {
      if (done) return
      done = true
      const running = worker
      worker = undefined
      if (running) await stopWorker<CheckpointWorkerCommand>(running, { type: 'stop' })
    },
  }
}
