import type { SessionChanges } from '../engine.js'
import { ownerDigest } from './owner-digest.js'

/** A surrogate that is not part of a pair: in a `u` regular expression a surrogate class matches no other. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** Starts the column value of an owner that is not stored as itself; no owner stored as itself starts with it. */
const HASHED_OWNER = '\u0001'

/**
 * What a SQL engine's owner column holds for `owner`: the owner itself, or, for one that UTF-8 text cannot hold as it
 * is (PostgreSQL refuses U+0000; a lone surrogate would become U+FFFD, making two owners one) or that starts with
 * `HASHED_OWNER`, that mark and its `ownerDigest`. Distinct owners get distinct values either way.
 */
export function ownerColumnValue(owner: string): string {
  if (!owner.startsWith(HASHED_OWNER) && !owner.includes('\u0000') && !LONE_SURROGATE.test(owner)) return owner
  return HASHED_OWNER + ownerDigest(owner)
}

/**
 * What a commit leaves in a session's owner column (see `ownerColumnValue`), given whether the session was alive before it: the owner the
 * commit sets, `null` when it removes the owner or creates the session anew without one (an expired row's owner went
 * with its data), or `undefined` when the column keeps what it holds.
 */
export function ownerColumnAfter(changes: SessionChanges, alive: boolean): string | null | undefined {
  const { owner } = changes
  if (owner !== undefined) return owner === null ? null : ownerColumnValue(owner)
  return alive ? undefined : null
}
