/** A call as a `TurnQueue` holds it. */
export interface QueuedCall {
  /** Whether it has settled already (it timed out while waiting, say): the queue then drops it unrun. */
  readonly finished: boolean
  /** Settles it with `error`: used for the calls the queue refuses. */
  reject(error: unknown): void
}

/** How the batches of a `TurnQueue` form. */
export interface TurnQueueLimits {
  /** How many batches run at once at most; a batch runs until the promise its runner returned settles. */
  readonly batchesAtOnce: number
  /** How many calls one batch holds at most. */
  readonly callsPerBatch: number
}

/**
 * Runs one batch: settles each of its calls, or hands some back with `giveBack`. A runner that returns a promise keeps
 * its batch running until it settles; one that returns nothing has run its batch when it returns.
 */
export type BatchRunner<Call> = (calls: Call[]) => Promise<void> | undefined

/** Calls collected over one event-loop turn and run together at its end. */
export interface TurnQueue<Call extends QueuedCall> {
  /** Adds `call` to the batch that runs at the end of this turn (or once a running batch makes room). */
  add(call: Call): void
  /**
   * Hands back `calls` that could not run yet: they run again ahead of the calls added since, at the end of this turn,
   * or after `pause` ms, until which nothing in the queue runs. Once the queue refuses calls, they are refused.
   */
  giveBack(calls: readonly Call[], pause?: number): void
  /** Runs the waiting calls now, without waiting for the end of the turn or a pause. */
  runNow(): void
  /**
   * Rejects every waiting call, and every call added or given back from now on, with `reasonFor(call)`; the batches
   * running go on.
   */
  refuse(reasonFor: (call: Call) => unknown): void
  /** Settles once no batch runs. */
  idle(): Promise<void>
}

/** No limits: every call of a turn joins one batch. */
const UNLIMITED: TurnQueueLimits = { batchesAtOnce: Number.POSITIVE_INFINITY, callsPerBatch: Number.POSITIVE_INFINITY }

/**
 * Makes a queue that gives `runBatch` the calls made in one event-loop turn together, in the order they were made, so
 * one round trip or one transaction serves many calls. While `limits.batchesAtOnce` batches run, calls wait and form
 * the next batch as soon as one ends.
 */
export function createTurnQueue<Call extends QueuedCall>(
  runBatch: BatchRunner<Call>,
  limits: TurnQueueLimits = UNLIMITED,
): TurnQueue<Call> {
  let waiting: Call[] = []
  const running = new Set<Promise<void>>()
  let scheduled = false
  let pause: ReturnType<typeof setTimeout> | undefined
  let refusal: ((call: Call) => unknown) | undefined

  const settleAfter = (calls: Call[], error: unknown) => {
    // A runner settles its calls itself; this only keeps a bug in one from leaving them hanging.
    for (const call of calls) if (!call.finished) call.reject(error)
  }

  const start = (calls: Call[]) => {
    let batch: Promise<void> | undefined
    try {
      batch = runBatch(calls)
    } catch (error) {
      settleAfter(calls, error)
      return
    }
    if (batch === undefined) return
    const tracked: Promise<void> = batch
      .catch((error: unknown) => settleAfter(calls, error))
      .finally(() => {
        running.delete(tracked)
        if (waiting.length > 0) schedule()
      })
    running.add(tracked)
  }

  const runWaiting = () => {
    scheduled = false
    if (pause !== undefined || waiting.length === 0) return
    if (waiting.length <= limits.callsPerBatch && running.size < limits.batchesAtOnce) {
      // All of it fits in one batch: taken whole.
      let batch = waiting
      waiting = []
      if (batch.some((call) => call.finished)) batch = batch.filter((call) => !call.finished)
      if (batch.length > 0) start(batch)
      return
    }
    const batches: Call[][] = []
    let batch: Call[] = []
    let next = 0
    for (; next < waiting.length && running.size + batches.length < limits.batchesAtOnce; next++) {
      const call = waiting[next] as Call
      if (call.finished) continue
      batch.push(call)
      if (batch.length === limits.callsPerBatch) {
        batches.push(batch)
        batch = []
      }
    }
    if (batch.length > 0) batches.push(batch)
    // Taken before any batch starts, so that calls a batch gives back go ahead of those still waiting.
    waiting = next === waiting.length ? [] : waiting.slice(next)
    for (const taken of batches) start(taken)
  }

  // Waits for the end of the turn, so the calls this turn's requests make join the same batch.
  const schedule = () => {
    if (scheduled || pause !== undefined || running.size >= limits.batchesAtOnce) return
    scheduled = true
    setImmediate(runWaiting)
  }

  const endPause = () => {
    if (pause === undefined) return
    clearTimeout(pause)
    pause = undefined
  }

  return {
    add(call) {
      if (refusal) return call.reject(refusal(call))
      waiting.push(call)
      schedule()
    },

    giveBack(calls, pauseFor) {
      if (refusal) {
        for (const call of calls) call.reject(refusal(call))
        return
      }
      // Ahead of the calls made since, which they were made before.
      waiting = [...calls, ...waiting]
      if (pauseFor === undefined) return schedule()
      pause ??= setTimeout(() => {
        pause = undefined
        runWaiting()
      }, pauseFor)
    },

    runNow() {
      endPause()
      runWaiting()
    },

    refuse(reasonFor) {
      refusal = reasonFor
      endPause()
      const refused = waiting
      waiting = []
      for (const call of refused) if (!call.finished) call.reject(reasonFor(call))
    },

    async idle() {
      while (running.size > 0) await Promise.all(running)
    },
  }
}
