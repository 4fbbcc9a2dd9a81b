import { createTurnQueue } from '../turn-queue.js'

/** One piece of work waiting for the next batch: a few statements that must not be split. */
export interface BatchedWork {
  /** Runs the work's statements; called inside the batch's transaction. */
  readonly run: () => unknown
  /** Whether the work writes, which makes its batch take the write lock before its first read. */
  readonly writes: boolean
}

/** Work of one event-loop turn, run together in shared transactions. */
export interface TransactionBatches {
  /** Resolves to what `work.run` returned once the batch it joined has run (rejects with what it threw). */
  add<T>(work: BatchedWork & { readonly run: () => T }): Promise<T>
  /**
   * Runs the waiting batch now; work locked out even then, and work added from now on, fails with `reason` instead.
   */
  close(reason: Error): void
}

/**
 * Runs `works` in order in one transaction (a write transaction when `writes`) and returns each one's result; it must
 * roll the whole transaction back when one of them throws.
 */
export type RunTogether = (works: readonly BatchedWork[], writes: boolean) => unknown[]

/** Retrying writes that found the database locked, later and without blocking the event loop. */
export interface BusyRetry {
  /** Whether a failure means another connection held a lock, so that nothing ran and the work may simply run again. */
  readonly isBusy: (error: unknown) => boolean
  /** How long, in ms, a work keeps being retried before it fails with the busy error. */
  readonly budget: number
}

/** How long locked-out writes wait before they try again, in ms: about as long as a sweep batch holds the lock. */
const BUSY_PAUSE = 1

/** One piece of work with the promise its caller waits on. */
class WaitingWork {
  finished = false
  /** When the work first found the database locked, or undefined while it has not. */
  lockedOutSince: number | undefined

  constructor(
    readonly work: BatchedWork,
    readonly settleWith: (value: unknown) => void,
    readonly rejectWith: (reason: unknown) => void,
  ) {}

  resolve(value: unknown): void {
    this.finished = true
    this.settleWith(value)
  }

  reject(reason: unknown): void {
    this.finished = true
    this.rejectWith(reason)
  }
}

/**
 * Collects the work asked for during one turn of the event loop and runs it, in the order it was asked for, in one
 * transaction: starting and ending a SQLite transaction costs more than a point read (file locks, the WAL index), so
 * the requests of one turn share it. The batch writes when any of its works does. When a batch fails, each of its works
 * runs again on its own, so one bad work fails only its own caller.
 *
 * With `busyRetry`, writes that find the database locked are given back to the queue, in their order, and run again
 * a moment later while the event loop serves other requests; the reads of their batch are answered at once, as reads
 * in WAL mode never need the write lock.
 */
export function createTransactionBatches(runTogether: RunTogether, busyRetry?: BusyRetry): TransactionBatches {
  /** Whether the error is a lock-out the entries may wait out: busy, and none has waited past the budget. */
  const canWait = (entries: readonly WaitingWork[], error: unknown): boolean => {
    if (!busyRetry?.isBusy(error)) return false
    const now = performance.now()
    for (const entry of entries) entry.lockedOutSince ??= now
    return entries.every((entry) => now - (entry.lockedOutSince as number) < busyRetry.budget)
  }

  /** Runs `entries` (in order, each alone) and settles them; from the first lock-out on, the writes wait untried. */
  const settleEachAlone = (entries: readonly WaitingWork[]) => {
    const lockedOut: WaitingWork[] = []
    for (const entry of entries) {
      if (lockedOut.length > 0 && entry.work.writes) {
        lockedOut.push(entry)
        continue
      }
      try {
        entry.resolve(runTogether([entry.work], entry.work.writes)[0])
      } catch (error) {
        if (canWait([entry], error)) lockedOut.push(entry)
        else entry.reject(error)
      }
    }
    if (lockedOut.length > 0) queue.giveBack(lockedOut, BUSY_PAUSE)
  }

  /** Runs read-only `entries` together (each alone if that fails) and settles them. */
  const settleTogether = (entries: readonly WaitingWork[]) => {
    try {
      const results = runTogether(
        entries.map((entry) => entry.work),
        false,
      )
      for (let index = 0; index < entries.length; index++) (entries[index] as WaitingWork).resolve(results[index])
    } catch {
      settleEachAlone(entries)
    }
  }

  const runBatch = (batch: WaitingWork[]): undefined => {
    if (batch.length === 1) {
      settleEachAlone(batch)
      return
    }
    const writes = batch.some((entry) => entry.work.writes)
    let results: unknown[]
    try {
      results = runTogether(
        batch.map((entry) => entry.work),
        writes,
      )
    } catch (error) {
      const batchWrites = batch.filter((entry) => entry.work.writes)
      if (writes && canWait(batchWrites, error)) {
        // Nothing ran: answer the reads now, and let the writes wait for the lock.
        const reads = batch.filter((entry) => !entry.work.writes)
        if (reads.length > 0) settleTogether(reads)
        queue.giveBack(batchWrites, BUSY_PAUSE)
        return
      }
      settleEachAlone(batch)
      return
    }
    for (let index = 0; index < batch.length; index++) (batch[index] as WaitingWork).resolve(results[index])
  }

  const queue = createTurnQueue(runBatch)

  return {
    add<T>(work: BatchedWork & { readonly run: () => T }): Promise<T> {
      const { promise, resolve, reject } = Promise.withResolvers<T>()
      queue.add(new WaitingWork(work, resolve as (value: unknown) => void, reject))
      return promise
    },
    close(reason) {
      queue.runNow()
      queue.refuse(() => reason)
    },
  }
}
