/**
 * A flag in memory shared by the serving thread and the GC worker, raised while a sweep batch runs. The worker sweeps at
 * the lowest CPU priority, so on a core kept busy a batch that holds the write lock goes on only while the serving
 * thread waits: a write that found the lock taken and came back a moment later would find it still held, again and
 * again. Waiting on the flag instead gives the batch the core it needs to finish.
 */
export interface SweepBatchFlag {
  /** The memory the flag lives in, to send to the other thread. */
  readonly buffer: SharedArrayBuffer
  /** Raises the flag once a sweep batch holds the write lock: a thread waiting on it waits for that lock. */
  raise(): void
  /**
   * Blocks the calling thread while the flag is raised, for at most `timeout` ms, and says whether it is down now (a
   * lock the batch held is then free). A batch waited for in vain is not waited for again: it holds the core longer
   * than a request should wait.
   */
  waitUntilLowered(timeout: number): boolean
  /**
   * Lowers the flag and wakes a waiting thread, once the batch has committed or rolled back; also for a worker that was
   * ended during a batch and never will.
   */
  lower(): void
}

/**
 * A flag in new shared memory, or in `buffer`, the memory the other thread's flag lives in. The memory holds a count of
 * the times the flag went up or down: odd while raised, so a waiter can tell one batch from the next.
 */
export function sweepBatchFlag(buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)): SweepBatchFlag {
  const changes = new Int32Array(buffer)
  const isRaised = (count: number) => count % 2 !== 0
  /** The count while raised for the batch this thread last stopped waiting for. */
  let waitedInVain: number | undefined

  /** Moves the count from odd to even or back, unless the other thread moved it first. */
  const turn = (raised: boolean) => {
    const count = Atomics.load(changes, 0)
    if (isRaised(count) !== raised) Atomics.compareExchange(changes, 0, count, count + 1)
  }
  const lower = () => {
    turn(false)
    Atomics.notify(changes, 0)
  }
  return {
    buffer,
    raise: () => turn(true),
    waitUntilLowered(timeout) {
      const count = Atomics.load(changes, 0)
      if (!isRaised(count)) return true
      if (count === waitedInVain) return false
      if (Atomics.wait(changes, 0, count, timeout) !== 'timed-out') return true
      waitedInVain = count
      return false
    },
    lower,
  }
}
