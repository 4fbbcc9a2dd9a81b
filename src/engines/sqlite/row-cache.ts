/** A session row as this connection last read or wrote it. */
export interface CachedRow {
  /** The data column's JSON text. */
  readonly text: string
  readonly expiresAt: number
}

/**
 * The session rows one connection last read or wrote, valid while no other connection has written to the database:
 * SQLite's `PRAGMA data_version` changes exactly when another connection commits, so a batch that finds it unchanged
 * can answer reads from here instead of the file.
 */
export interface RowCache {
  get(id: string): CachedRow | undefined
  set(id: string, text: string, expiresAt: number): void
  delete(id: string): void
  clear(): void
  /** Forgets every row when `dataVersion` differs from the one seen last: another connection may have changed them. */
  checkVersion(dataVersion: number): void
}

/**
 * A row cache holding at most `maxRows` rows and `maxChars` characters of data; past either, the rows written or read
 * from the file longest ago go. A row larger than `maxChars` on its own is not kept.
 */
export function createRowCache(maxRows: number, maxChars: number): RowCache {
  const rows = new Map<string, CachedRow>()
  let chars = 0
  let seenVersion: number | undefined

  const remove = (id: string) => {
    const row = rows.get(id)
    if (row === undefined) return
    rows.delete(id)
    chars -= row.text.length
  }

  const forgetAll = () => {
    rows.clear()
    chars = 0
  }

  return {
    get: (id) => rows.get(id),
    set(id, text, expiresAt) {
      // Map order is insertion order: re-inserting moves the id to the newest end.
      remove(id)
      if (text.length > maxChars) return
      rows.set(id, { text, expiresAt })
      chars += text.length
      while (rows.size > maxRows || chars > maxChars) remove(rows.keys().next().value as string)
    },
    delete: remove,
    clear() {
      forgetAll()
      seenVersion = undefined
    },
    checkVersion(dataVersion) {
      if (dataVersion === seenVersion) return
      forgetAll()
      seenVersion = dataVersion
    },
  }
}
