/** The SQLite engine's file, as the GC worker opens it on a connection of its own. */
export interface GcWorkerStore {
  /** The database file. */
  readonly path: string
  /** The sessions table's name. */
  readonly table: string
  /** The main connection's busy timeout, in ms. */
  readonly busyTimeout: number
  /**
   * After how many WAL pages a commit of the worker's connection checkpoints (its `wal_autocheckpoint`), when not
   * SQLite's own setting.
   */
  readonly autocheckpointPages?: number
}

/** An error as it crosses from a worker to the main thread. */
export interface SerializedError {
  readonly name: string
  readonly message: string
  readonly stack?: string
}

/** Messages the main thread sends the GC worker. */
export type GcWorkerCommand =
  | { readonly type: 'open'; readonly store: GcWorkerStore; readonly batchFlag: SharedArrayBuffer }
  | { readonly type: 'sweep'; readonly sweepId: number; readonly now: number }
  | { readonly type: 'stop' }

/** Messages the GC worker sends back. */
export type GcWorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: SerializedError }
  | { readonly type: 'batch-swept' }
  | { readonly type: 'swept'; readonly sweepId: number; readonly removed: number }
  | { readonly type: 'sweep-failed'; readonly sweepId: number; readonly error: SerializedError }

/** Messages the main thread sends the checkpoint worker. */
export type CheckpointWorkerCommand =
  | { readonly type: 'open'; readonly path: string }
  | { readonly type: 'checkpoint' }
  | { readonly type: 'stop' }

/** Messages the checkpoint worker sends back. */
export type CheckpointWorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: SerializedError }
  | { readonly type: 'checkpointed' }
  | { readonly type: 'checkpoint-failed'; readonly error: SerializedError }

/** `error` as plain data that survives postMessage, with its cause's message appended. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : ''
    return { name: error.name, message: error.message + cause, ...(error.stack && { stack: error.stack }) }
  }
  return { name: 'Error', message: String(error) }
}

/** An Error rebuilt from what `serializeError` sent. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message)
  error.name = serialized.name
  if (serialized.stack) error.stack = serialized.stack
  return error
}
