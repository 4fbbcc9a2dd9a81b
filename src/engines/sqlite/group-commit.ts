/** Commits grouped into shared transactions. */
export interface GroupCommit<Item> {
  /** Resolves to the item's result once the group it joined has been written. */
  commit(item: Item): Promise<boolean>
  /** Writes the waiting group now, for example before the connection closes. */
  flushNow(): void
}

/** One commit waiting for the next group. */
interface Waiting<Item> {
  readonly item: Item
  readonly done: ReturnType<typeof Promise.withResolvers<boolean>>
}

/**
 * Collects the commits asked for during one turn of the event loop and writes them in one transaction: a SQLite
 * transaction costs far more than the few statements of one session's read-merge-write, so concurrent requests share
 * it. `writeGroup` runs the items in order in one transaction and returns each one's result. When a group fails, each
 * of its items is written again on its own, so one bad item fails only its own commit.
 */
export function createGroupCommit<Item>(writeGroup: (items: readonly Item[]) => boolean[]): GroupCommit<Item> {
  let waiting: Waiting<Item>[] = []

  const flush = () => {
    const group = waiting
    if (group.length === 0) return
    waiting = []
    try {
      const results = writeGroup(group.map((entry) => entry.item))
      for (const [index, entry] of group.entries()) entry.done.resolve(results[index] ?? false)
    } catch (error) {
      if (group.length === 1) return group[0]!.done.reject(error)
      for (const entry of group) {
        try {
          entry.done.resolve(writeGroup([entry.item])[0] ?? false)
        } catch (itemError) {
          entry.done.reject(itemError)
        }
      }
    }
  }

  return {
    commit(item) {
      const done = Promise.withResolvers<boolean>()
      if (waiting.length === 0) setImmediate(flush)
      waiting.push({ item, done })
      return done.promise
    },
    flushNow: flush,
  }
}
