import { EngineTimeoutError, WatchedCall } from '../deadlines.js'
import type { QueuedCall, TurnQueue } from '../turn-queue.js'

/**
 * One load or commit, from the moment it is made until it settles: it waits in a turn queue for a group, runs in one,
 * and may be given back to wait for the next. While it waits, its deadline is watched here; while its group runs, the
 * group's own time limit, which ends no later than this call's deadline, covers it.
 */
export class GroupedCall<Input, Output> extends WatchedCall<Output> implements QueuedCall {
  /** Whether a group is running it. */
  inGroup = false

  constructor(
    readonly input: Input,
    deadline: number,
    readonly timeoutMessage: string,
    resolve: (value: Output) => void,
    reject: (error: unknown) => void,
  ) {
    super(deadline, resolve, reject)
  }

  expire(): void {
    if (!this.inGroup) this.expireWith(() => new EngineTimeoutError(this.timeoutMessage))
  }
}

/**
 * Makes a call of `input` that times out `timeout` ms from now with an `EngineTimeoutError` of `timeoutMessage`, adds
 * it to `queue`, and resolves to its answer.
 */
export function addGroupedCall<Input, Output>(
  queue: TurnQueue<GroupedCall<Input, Output>>,
  input: Input,
  timeout: number,
  timeoutMessage: string,
): Promise<Output> {
  const { promise, resolve, reject } = Promise.withResolvers<Output>()
  const call = new GroupedCall<Input, Output>(input, performance.now() + timeout, timeoutMessage, resolve, reject)
  queue.add(call)
  return promise
}

/** Marks `calls` as run by a group, so their own deadlines leave them to the group's time limit. */
export function takeIntoGroup(calls: readonly { inGroup: boolean }[]): void {
  for (const call of calls) call.inGroup = true
}

/**
 * Gives back to `queue` the calls of a group that failed with `error` through no fault of theirs (it ran out of time,
 * or its connection hung): those whose own deadline has passed reject with it, the others join the next group.
 */
export function giveBackUnlessLate<Input, Output>(
  queue: TurnQueue<GroupedCall<Input, Output>>,
  calls: readonly GroupedCall<Input, Output>[],
  error: unknown,
): void {
  const now = performance.now()
  const again = calls.filter((call) => {
    call.inGroup = false
    if (call.deadline > now) return true
    call.reject(error)
    return false
  })
  if (again.length > 0) queue.giveBack(again)
}

/** The time left to the earliest deadline among `calls`, in ms. */
export function timeLeftOf(calls: readonly { readonly deadline: number }[]): number {
  let earliest = Number.POSITIVE_INFINITY
  for (const { deadline } of calls) earliest = Math.min(earliest, deadline)
  return earliest - performance.now()
}
