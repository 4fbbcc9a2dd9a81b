/** Runs async tasks one after another per key, so tasks on one key never overlap. */
export interface KeyedQueue {
  /** Runs `task` once every task queued before it on `key` has settled; resolves or rejects as `task` does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T>
  /** How many keys have a task queued or running; idle keys are forgotten, so this drops back to 0. */
  readonly size: number
}

/** A queue per key, each a promise chain, forgotten as soon as its last task settles. */
export function createKeyedQueue(): KeyedQueue {
  const tails = new Map<string, Promise<void>>()
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const result = (tails.get(key) ?? Promise.resolve()).then(task)
      const forgetIfLast = () => {
        if (tails.get(key) === tail) tails.delete(key)
      }
      // The tail never rejects, so one failed task does not fail the tasks queued after it.
      const tail: Promise<void> = result.then(forgetIfLast, forgetIfLast)
      tails.set(key, tail)
      return result
    },
    get size() {
      return tails.size
    },
  }
}

/**
 * The queue of every file engine in this process, keyed by absolute session file path: two engines on one folder
 * share it, so their writes to one session never interleave.
 */
export const sessionFileQueue: KeyedQueue = createKeyedQueue()
