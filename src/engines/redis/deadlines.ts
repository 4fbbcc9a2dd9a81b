/** A call with a time limit, as `Deadlines` tracks it. */
export interface TimeLimited {
  /** The `performance.now()` time at which the call times out unless it has finished. */
  readonly deadline: number
  /** Whether the call has settled, by its answer or by timing out. */
  readonly finished: boolean
}

/**
 * Times out calls that all have the same time limit with one timer instead of one per call. Calls are added in the
 * order they start, so their deadlines come in that order too: the timer only ever waits for the oldest unfinished
 * call, and is stopped while no call is unfinished, so it never holds the process open.
 */
export class Deadlines<Call extends TimeLimited> {
  readonly #expire: (call: Call) => void
  #calls: Call[] = []
  // Calls before this index have finished.
  #head = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  /** `expire` is given each call that reaches its deadline unfinished, oldest first; it must finish the call. */
  constructor(expire: (call: Call) => void) {
    this.#expire = expire
  }

  /** Tracks `call`, whose deadline is no earlier than that of any call added before. */
  add(call: Call): void {
    this.#calls.push(call)
    if (this.#timer === undefined) this.#arm(call.deadline)
  }

  /** Tells that a call finished, so the calls finished at the front are let go. */
  finished(): void {
    const calls = this.#calls
    let head = this.#head
    while (head < calls.length && (calls[head] as Call).finished) head++
    this.#head = head
    if (head === calls.length) this.#clear()
    else if (head > 1_024 && head * 2 > calls.length) {
      // Under steady load some call is always unfinished: the finished ones in front go now and then, not each time.
      this.#calls = calls.slice(head)
      this.#head = 0
    }
  }

  #arm(deadline: number): void {
    // A timer may fire a little early: the deadline is checked again when it does.
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(deadline - performance.now())))
  }

  #clear(): void {
    this.#calls = []
    this.#head = 0
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    const now = performance.now()
    const calls = this.#calls
    const expired: Call[] = []
    let head = this.#head
    for (; head < calls.length; head++) {
      const call = calls[head] as Call
      if (call.finished) continue
      if (call.deadline > now) break
      expired.push(call)
    }
    this.#head = head
    if (head < calls.length) this.#arm((calls[head] as Call).deadline)
    else this.#clear()
    // Last, so that calls added or finished meanwhile find the queue in order.
    for (const call of expired) this.#expire(call)
  }
}
