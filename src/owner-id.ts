import type { SessionEngine } from './engine.js'
import { describeValue } from './value-types.js'

/** The longest owner id, in UTF-16 code units (JavaScript's `length`). */
export const MAX_OWNER_ID_LENGTH = 256

/** Throws a TypeError unless `ownerId` is a non-empty string of at most `MAX_OWNER_ID_LENGTH` code units. */
export function checkOwnerId(ownerId: unknown, call: string): asserts ownerId is string {
  if (typeof ownerId !== 'string' || ownerId.length === 0 || ownerId.length > MAX_OWNER_ID_LENGTH) {
    const got = typeof ownerId === 'string' ? `a string of length ${ownerId.length}` : describeValue(ownerId)
    throw new TypeError(
      `${call} needs an owner id: a non-empty string of at most ${MAX_OWNER_ID_LENGTH} characters, got ${got}`,
    )
  }
}

/** An engine that keeps an owner index. */
export type OwnerIndexEngine = SessionEngine & Required<Pick<SessionEngine, 'listByOwner' | 'deleteByOwner'>>

/** Whether `engine` declares `capabilities.owners` and implements both owner methods. */
export function hasOwnerIndex(engine: SessionEngine): engine is OwnerIndexEngine {
  return (
    engine.capabilities?.owners === true &&
    typeof engine.listByOwner === 'function' &&
    typeof engine.deleteByOwner === 'function'
  )
}
