/**
 * The entry of the SQLite engine's checkpoint worker: opens the engine's WAL database on a connection of its own and,
 * when the main thread asks, copies the WAL into the database with a PASSIVE checkpoint, which never blocks readers or
 * writers. The serving connection's own checkpoints then find little left to copy, and most file writes and fsyncs
 * happen on this thread.
 */
import { Database } from 'bun:sqlite'
import { isBusy } from './connection.js'
import { type CheckpointWorkerCommand, type CheckpointWorkerReport, serializeError } from './worker-protocol.js'

declare const self: Worker

let connection: Database | undefined

function report(message: CheckpointWorkerReport): void {
  self.postMessage(message)
}

function open(path: string): void {
  try {
    connection = new Database(path, { readwrite: true, create: false, strict: true })
    // A checkpoint syncs as its connection's synchronous setting says: NORMAL, as on the serving connection.
    connection.run('PRAGMA synchronous = NORMAL')
    report({ type: 'ready' })
  } catch (error) {
    connection?.close()
    report({ type: 'open-failed', error: serializeError(error) })
    self.onmessage = null
  }
}

function checkpoint(): void {
  try {
    if (!connection) throw new Error('The checkpoint worker has no open connection')
    connection.run('PRAGMA wal_checkpoint(PASSIVE)')
    report({ type: 'checkpointed' })
  } catch (error) {
    // Another connection's checkpoint was running: the next one copies what this one would have.
    if (isBusy(error)) report({ type: 'checkpointed' })
    else report({ type: 'checkpoint-failed', error: serializeError(error) })
  }
}

function stop(): void {
  // Without a message handler nothing keeps the worker alive, so it ends after this.
  self.onmessage = null
  connection?.close()
}

self.onmessage = (event: MessageEvent<CheckpointWorkerCommand>) => {
  const command = event.data
  if (command.type === 'open') open(command.path)
  else if (command.type === 'checkpoint') checkpoint()
  else stop()
}
