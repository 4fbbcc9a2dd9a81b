import type { SessionChanges } from 'elysia-sessions'
import { OWNER_KEY } from '../../src/internal-keys.js'

const HOUR = 3_600_000

/** A commit's changes that bind the session to `owner` (null removes it), with one key of data, alive for an hour. */
export function owning(owner: string | null, now: number, extra: Partial<SessionChanges> = {}): SessionChanges {
  return {
    set: { 'string:k': 'v', ...(owner !== null && { [OWNER_KEY]: owner }) },
    deleted: owner === null ? [OWNER_KEY] : [],
    expiresAt: now + HOUR,
    owner,
    ...extra,
  }
}
