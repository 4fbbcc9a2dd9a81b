import type { EngineReopener } from './engine.js'

/** An error as it crosses from the GC worker to the main thread. */
export interface SerializedError {
  readonly name: string
  readonly message: string
  readonly stack?: string
}

/** Messages the main thread sends the GC worker. */
export type GcWorkerCommand =
  | { readonly type: 'start'; readonly reopen: EngineReopener; readonly interval: number }
  | { readonly type: 'sweep'; readonly sweepId: number }
  | { readonly type: 'stop' }

/** Messages the GC worker sends back. */
export type GcWorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'start-failed'; readonly error: SerializedError }
  | { readonly type: 'swept'; readonly sweepId: number; readonly removed: number }
  /** `sweepId` is null for a failed sweep of the worker's own timer. */
  | { readonly type: 'sweep-failed'; readonly sweepId: number | null; readonly error: SerializedError }

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : ''
    return { name: error.name, message: error.message + cause, ...(error.stack && { stack: error.stack }) }
  }
  return { name: 'Error', message: String(error) }
}

export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message)
  error.name = serialized.name
  if (serialized.stack) error.stack = serialized.stack
  return error
}
