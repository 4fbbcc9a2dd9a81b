import type { SessionChanges } from '../engine.js'

/** A surrogate that is not part of a pair: in a `u` regular expression a surrogate class matches no other. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Whether `owner` round-trips through a SQL engine's owner column as UTF-8 text unchanged; engines treat any other
 * owner as unknown, and refuse to store it.
 */
export function isStorableOwner(owner: string): boolean {
  // PostgreSQL text refuses U+0000; UTF-8 turns a lone surrogate into U+FFFD, so two owners would become one.
  return !owner.includes('\u0000') && !LONE_SURROGATE.test(owner)
}

/** The error an engine's `commit` throws for an owner `isStorableOwner` refuses; the owner is never shown. */
export function unstorableOwnerError(engine: string): Error {
  return new Error(`${engine} cannot store an owner id that holds U+0000 or a lone surrogate`)
}

/**
 * What a commit leaves in a session's owner column, given whether the session was alive before it: the owner the
 * commit sets, `null` when it removes the owner or creates the session anew without one (an expired row's owner went
 * with its data), or `undefined` when the column keeps what it holds.
 */
export function ownerColumnAfter(changes: SessionChanges, alive: boolean): string | null | undefined {
  if (changes.owner !== undefined) return changes.owner
  return alive ? undefined : null
}
