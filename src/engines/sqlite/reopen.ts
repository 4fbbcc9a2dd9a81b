import { Database } from 'bun:sqlite'
import type { SessionEngine } from '../../engine.js'
import { journalMode, setBusyTimeout } from './connection.js'
import { createSqliteEngine } from './engine.js'
import { sessionsTable } from './schema.js'

/** What the GC worker needs to open a SQLite engine's file again. */
export interface ReopenSqliteOptions {
  readonly path: string
  readonly table: string
  readonly busyTimeout: number
}

/**
 * Opens a second engine on an existing sessions file, for the GC worker: its own connection with the same busy
 * timeout, no migrations, and the journal mode left as the main connection set it.
 */
export function reopenEngine(options: ReopenSqliteOptions): SessionEngine {
  const connection = new Database(options.path, { readwrite: true, create: false, strict: true })
  try {
    setBusyTimeout(connection, options.busyTimeout)
    // synchronous is per connection: match the main one's NORMAL, or every sweep batch would fsync under the lock.
    if (journalMode(connection) === 'wal') connection.run('PRAGMA synchronous = NORMAL')
    return createSqliteEngine(connection, { table: sessionsTable(options.table), ownsConnection: true })
  } catch (error) {
    connection.close()
    throw error
  }
}
