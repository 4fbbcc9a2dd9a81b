import { EngineTimeoutError } from '../time-limit.js'

/** One call as a group runs it. */
export interface GroupedCall<Input, Output> {
  readonly input: Input
  /** The `performance.now()` time at which the call times out. */
  readonly deadline: number
  resolve(value: Output): void
  reject(error: unknown): void
}

/**
 * Runs one group: settles every call in it, or gives calls back to run again, and settles itself no later than the
 * earliest deadline among them.
 */
export type GroupRunner<Input, Output> = (calls: readonly GroupedCall<Input, Output>[]) => Promise<void>

/** How groups form. */
export interface GroupLimits {
  /** How many groups run at once at most. */
  readonly running: number
  /** How many calls one group holds at most. */
  readonly size: number
}

/** Calls of one kind, run in groups. */
export interface CallGroups<Input, Output> {
  /** Adds a call to the next group; it rejects with an `EngineTimeoutError` if no group ran it by its deadline. */
  add(input: Input): Promise<Output>
  /**
   * Takes back the calls of a group that failed with `error` through no fault of theirs (it ran out of time, or its
   * connection hung): those whose own deadline has passed reject with it, the others join the next group.
   */
  giveBack(calls: readonly GroupedCall<Input, Output>[], error: unknown): void
  /**
   * Rejects with `error` every call still waiting for a group, and every call added or given back from now on; the
   * groups running go on.
   */
  refuse(error: Error): void
  /** Settles once no group runs. */
  idle(): Promise<void>
}

/**
 * Runs calls in groups, so a server round trip serves many calls instead of one: the calls made in one event-loop turn
 * form a group, unless `limits.running` groups already run, in which case the calls wait and form the next group as
 * soon as one ends. `timeout` is each call's time limit from the moment it is made; a call still waiting at its
 * deadline rejects with an `EngineTimeoutError` naming `what` when the next group forms.
 */
export function callGroups<Input, Output>(
  run: GroupRunner<Input, Output>,
  limits: GroupLimits,
  timeout: number,
  what: string,
): CallGroups<Input, Output> {
  let waiting: GroupedCall<Input, Output>[] = []
  const running = new Set<Promise<void>>()
  let scheduled = false
  let refusal: Error | undefined

  const timeoutError = () => new EngineTimeoutError(`${what} got no answer within ${timeout} ms`)

  const start = (calls: GroupedCall<Input, Output>[]) => {
    const group: Promise<void> = run(calls)
      .catch((error: unknown) => {
        // A runner settles its calls itself; this only keeps a bug in one from leaving them hanging.
        for (const call of calls) call.reject(error)
      })
      .finally(() => {
        running.delete(group)
        if (waiting.length > 0) schedule()
      })
    running.add(group)
  }

  const startWaiting = () => {
    scheduled = false
    const now = performance.now()
    let group: GroupedCall<Input, Output>[] = []
    let next = 0
    for (; next < waiting.length && running.size < limits.running; next++) {
      const call = waiting[next] as GroupedCall<Input, Output>
      if (call.deadline <= now) {
        call.reject(timeoutError())
        continue
      }
      group.push(call)
      if (group.length === limits.size) {
        start(group)
        group = []
      }
    }
    if (group.length > 0) start(group)
    waiting = waiting.slice(next)
  }

  // Waits for the end of the turn, so the calls this turn's requests make join the same group.
  const schedule = () => {
    if (scheduled || running.size >= limits.running) return
    scheduled = true
    setImmediate(startWaiting)
  }

  return {
    add(input: Input): Promise<Output> {
      if (refusal) return Promise.reject(refusal)
      const { promise, resolve, reject } = Promise.withResolvers<Output>()
      waiting.push({ input, deadline: performance.now() + timeout, resolve, reject })
      schedule()
      return promise
    },

    giveBack(calls, error): void {
      const now = performance.now()
      const again = calls.filter((call) => {
        if (call.deadline > now && !refusal) return true
        call.reject(refusal ?? error)
        return false
      })
      if (again.length === 0) return
      // Ahead of the calls made since, which they were made before.
      waiting = [...again, ...waiting]
      schedule()
    },

    refuse(error: Error): void {
      refusal = error
      const refused = waiting
      waiting = []
      for (const call of refused) call.reject(error)
    },

    async idle(): Promise<void> {
      while (running.size > 0) await Promise.all(running)
    },
  }
}
