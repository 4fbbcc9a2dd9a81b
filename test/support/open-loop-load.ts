/** One request an open-loop load started, and how it was answered. */
export interface LoadRequest {
  /** Its number, from 0 in the order the requests were started. */
  readonly seq: number
  /** The `performance.now()` time it was started at. */
  readonly startedAt: number
  /** How many requests had been started and not yet answered when this one started. */
  readonly inFlightAtStart: number
  /** When it was answered (its body read), or undefined while it is in flight. */
  answeredAt: number | undefined
  /** The answer's status; 0 when the app threw instead of answering. */
  status: number
  body: string
}

/** A load that starts requests at a fixed rate, whether or not the earlier ones were answered. */
export interface OpenLoopLoad {
  /** Every request started so far, by `seq`. */
  readonly requests: readonly LoadRequest[]
  /** How many requests have been started and not yet answered. */
  readonly inFlight: number
  /** Starts no more requests, waits up to `drainLimit` ms for those in flight, and resolves to how many are left. */
  stop(drainLimit: number): Promise<number>
}

/**
 * Starts request number `seq` with `send(seq)` every `interval` ms. The schedule is kept against the clock, so a timer
 * that fires late starts every request that fell due meanwhile: a closed loop of clients would wait for answers
 * instead and never show a queue that grows.
 */
export function startOpenLoopLoad(interval: number, send: (seq: number) => Promise<Response>): OpenLoopLoad {
  const requests: LoadRequest[] = []
  const startedAt = performance.now()
  let inFlight = 0
  let stopped = false
  let drained: (() => void) | undefined

  const start = (seq: number) => {
    const request: LoadRequest = {
      seq,
      startedAt: performance.now(),
      inFlightAtStart: inFlight,
      answeredAt: undefined,
      status: 0,
      body: '',
    }
    requests.push(request)
    inFlight++
    const answered = async () => {
      try {
        const response = await send(seq)
        request.status = response.status
        request.body = await response.text()
      } catch (error) {
        request.body = String(error)
      }
      request.answeredAt = performance.now()
      inFlight--
      if (inFlight === 0) drained?.()
    }
    void answered()
  }

  const loop = async () => {
    while (!stopped) {
      const due = Math.floor((performance.now() - startedAt) / interval)
      while (requests.length <= due) start(requests.length)
      await Bun.sleep(1)
    }
  }
  void loop()

  return {
    requests,
    get inFlight() {
      return inFlight
    },
    async stop(drainLimit) {
      stopped = true
      if (inFlight > 0) {
        const { promise, resolve } = Promise.withResolvers<void>()
        drained = resolve
        const timer = setTimeout(resolve, drainLimit)
        await promise
        clearTimeout(timer)
      }
      return inFlight
    },
  }
}
