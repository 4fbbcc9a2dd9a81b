/**
 * The entry of the SQLite engine's GC worker: opens the engine's file on a connection of its own and sweeps it when
 * the main thread asks, so deleting many expired sessions never blocks the main thread's requests.
 */
import { Database } from 'bun:sqlite'
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import type { SessionEngine } from '../../engine.js'
import { journalMode, setAutocheckpoint, setBusyTimeout, setPageCache } from './connection.js'
import { createSqliteEngine } from './engine.js'
import { sessionsTable } from './schema.js'
import { sweepBatchFlag } from './sweep-batch-flag.js'
import { type GcWorkerCommand, type GcWorkerReport, type GcWorkerStore, serializeError } from './worker-protocol.js'

declare const self: Worker

let engine: SessionEngine | undefined
/** Sweeps run one after another, in the order they were asked for. */
let sweeps: Promise<void> = Promise.resolve()

function report(message: GcWorkerReport): void {
  self.postMessage(message)
}

/**
 * Gives this thread the lowest CPU priority, where the OS has per-thread priorities (Linux): a sweep is background
 * work, so on a busy core the thread serving requests runs first. Elsewhere the thread keeps its priority.
 */
function yieldCpuToRequests(): void {
  try {
    // /proc/thread-self names the calling thread: "<pid>/task/<tid>".
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, 19)
  } catch {
    // No /proc, or not allowed: sweeping at normal priority still works.
  }
}

/**
 * An engine on the existing file: its own connection with the main one's busy timeout, no migrations, and the
 * journal mode left as the main connection set it. It raises `batchFlag` during each sweep batch and reports each one.
 */
function openEngine(store: GcWorkerStore, batchFlag: SharedArrayBuffer): SessionEngine {
  const connection = new Database(store.path, { readwrite: true, create: false, strict: true })
  try {
    setBusyTimeout(connection, store.busyTimeout)
    if (journalMode(connection) === 'wal') {
      // synchronous is per connection: match the main one's NORMAL, or every sweep batch would fsync under the lock.
      connection.run('PRAGMA synchronous = NORMAL')
      if (store.autocheckpointPages !== undefined) setAutocheckpoint(connection, store.autocheckpointPages)
    }
    // A sweep deletes rows whose ids are spread over the whole id index: cached, the write lock is held for less time.
    setPageCache(connection)
    return createSqliteEngine(connection, {
      table: sessionsTable(store.table),
      ownsConnection: true,
      sweepBatchFlag: sweepBatchFlag(batchFlag),
      // Each batch writes the WAL: the main thread asks its checkpoint worker to copy it, whatever the requests write.
      onSweepBatch: () => report({ type: 'batch-swept' }),
    })
  } catch (error) {
    connection.close()
    throw error
  }
}

function open(store: GcWorkerStore, batchFlag: SharedArrayBuffer): void {
  yieldCpuToRequests()
  try {
    engine = openEngine(store, batchFlag)
    report({ type: 'ready' })
  } catch (error) {
    report({ type: 'open-failed', error: serializeError(error) })
    self.onmessage = null
  }
}

function sweep(sweepId: number, now: number): void {
  sweeps = sweeps.then(async () => {
    try {
      if (!engine) throw new Error('The GC worker has no open engine')
      report({ type: 'swept', sweepId, removed: await engine.deleteExpired(now) })
    } catch (error) {
      report({ type: 'sweep-failed', sweepId, error: serializeError(error) })
    }
  })
}

async function stop(): Promise<void> {
  // Without a message handler nothing keeps the worker alive, so it ends after this.
  self.onmessage = null
  // Closing first ends a sweep in progress at its next batch.
  await engine?.close().catch(() => undefined)
  await sweeps
}

self.onmessage = (event: MessageEvent<GcWorkerCommand>) => {
  const command = event.data
  if (command.type === 'open') open(command.store, command.batchFlag)
  else if (command.type === 'sweep') sweep(command.sweepId, command.now)
  else void stop()
}
