/** Thrown when an engine's server has not answered within the engine's `operationTimeout`. */
export class EngineTimeoutError extends Error {
  override readonly name = 'EngineTimeoutError'
}

/** Something `Deadlines` watches: a call that must finish by its deadline. */
export interface Watched {
  /** The `performance.now()` time at which it times out unless it has finished. */
  readonly deadline: number
  /** Whether it has finished; a finished one never expires. */
  readonly finished: boolean
  /** Called once, when its deadline has passed while it was unfinished. */
  expire(): void
}

/**
 * Times out any number of calls with one timer instead of one per call. The timer waits only for the earliest
 * unfinished deadline, and is stopped while nothing is unfinished, so it never holds an idle process open. Calls with one
 * time limit are watched in the order their deadlines come, so adding one is an append; an earlier one is put in its
 * place.
 */
export class Deadlines {
  #watched: Watched[] = []
  // The ones before this index have finished or expired.
  #head = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  // The deadline the timer was set for.
  #armedFor = Number.POSITIVE_INFINITY

  /** Watches `call` until it finishes (tell with `finished()`) or its deadline passes (then `call.expire()` runs). */
  watch(call: Watched): void {
    const watched = this.#watched
    const last = watched[watched.length - 1]
    if (last === undefined || watched.length === this.#head || last.deadline <= call.deadline) watched.push(call)
    else watched.splice(this.#placeOf(call.deadline), 0, call)
    if (call.deadline < this.#armedFor) this.#arm(call.deadline)
  }

  /** Tells that a watched call finished, so the finished ones in front are let go. */
  finished(): void {
    const watched = this.#watched
    let head = this.#head
    while (head < watched.length && (watched[head] as Watched).finished) head++
    this.#head = head
    if (head === watched.length) this.#clear()
    else if (head > 1_024 && head * 2 > watched.length) {
      // Under steady load some call is always unfinished: the finished ones in front go now and then, not each time.
      this.#watched = watched.slice(head)
      this.#head = 0
    }
  }

  /** The index before which every watched deadline is no later than `deadline`. */
  #placeOf(deadline: number): number {
    let low = this.#head
    let high = this.#watched.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((this.#watched[middle] as Watched).deadline <= deadline) low = middle + 1
      else high = middle
    }
    return low
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#armedFor = deadline
    // A timer may fire a little early: the deadline is checked again when it does.
    this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(deadline - performance.now())))
  }

  #clear(): void {
    this.#watched = []
    this.#head = 0
    this.#armedFor = Number.POSITIVE_INFINITY
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#armedFor = Number.POSITIVE_INFINITY
    const now = performance.now()
    const watched = this.#watched
    const expired: Watched[] = []
    let head = this.#head
    for (; head < watched.length; head++) {
      const call = watched[head] as Watched
      if (call.finished) continue
      if (call.deadline > now) break
      expired.push(call)
    }
    this.#head = head
    if (head < watched.length) this.#arm((watched[head] as Watched).deadline)
    else this.#clear()
    // Last, so that calls watched or finished meanwhile find the list in order.
    for (const call of expired) call.expire()
  }
}

/** The one timer that times out the calls of every engine in this process. */
export const engineDeadlines = new Deadlines()

/**
 * A call that `engineDeadlines` watches from the moment it is made, and that settles once: by its answer, with `resolve` or `reject`, or when its
 * deadline passes, with `expire`, which each kind of call defines through `expireWith`. Whatever comes later is
 * ignored: nobody waits for an answer that arrives after the deadline.
 */
export abstract class WatchedCall<T> implements Watched {
  finished = false
  readonly #settle: (value: T) => void
  readonly #fail: (error: unknown) => void

  constructor(
    readonly deadline: number,
    settle: (value: T) => void,
    fail: (error: unknown) => void,
  ) {
    this.#settle = settle
    this.#fail = fail
    engineDeadlines.watch(this)
  }

  resolve(value: T): void {
    if (this.#finish()) this.#settle(value)
  }

  reject(error: unknown): void {
    if (this.#finish()) this.#fail(error)
  }

  abstract expire(): void

  /** Rejects with the error `abandon` returns, after it has abandoned the call's work, unless the call has settled. */
  protected expireWith(abandon: () => unknown): void {
    if (this.#finish()) this.#fail(abandon())
  }

  #finish(): boolean {
    if (this.finished) return false
    this.finished = true
    engineDeadlines.finished()
    return true
  }
}

/** Work run by `withinDeadline`, from its start until it settles or times out. */
class TimeLimitedWork<T> extends WatchedCall<T> {
  readonly controller = new AbortController()

  constructor(
    deadline: number,
    readonly what: string,
    readonly statedLimit: number,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
  ) {
    super(deadline, resolve, reject)
  }

  expire(): void {
    this.expireWith(() => {
      const error = new EngineTimeoutError(`${this.what} got no answer within ${this.statedLimit} ms`)
      // Aborted before the caller hears of it, so the work's abort listeners drop its connection first.
      this.controller.abort(error)
      return error
    })
  }
}

/**
 * Runs `work` and settles as it does, or rejects with an `EngineTimeoutError` once `timeout` ms have passed, so a
 * request never waits on a server that stopped answering. At that moment, before the caller hears of it, `signal`
 * aborts with that error as its reason: the work is abandoned, and must send, retry or commit nothing more. Abort
 * listeners drop the connection the work was waiting on, so nothing it already sent can take effect later. The error
 * names `statedLimit`: the time limit the caller set, of which a call that waited first has only `timeout` left.
 */
export function withinDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  timeout: number,
  what: string,
  statedLimit = timeout,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const call = new TimeLimitedWork<T>(performance.now() + timeout, what, statedLimit, resolve, reject)
    let running: Promise<T>
    try {
      running = Promise.resolve(work(call.controller.signal))
    } catch (error) {
      // A work function that throws at once settles the call like one that rejects.
      running = Promise.reject(error)
    }
    running.then(
      (value) => call.resolve(value),
      (error: unknown) => call.reject(error),
    )
  })
}
