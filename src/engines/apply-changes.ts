import type { SessionChanges, SessionData, SessionValue } from '../engine.js'

/**
 * The data a commit stores: `stored` (empty when absent) with the keys in `changes.deleted` removed and those in
 * `changes.set` written. A null-prototype object, so a key named "__proto__" stays data.
 */
export function applyChanges(stored: SessionData | undefined, changes: SessionChanges): Record<string, SessionValue> {
  const data: Record<string, SessionValue> = Object.assign(Object.create(null), stored)
  for (const key of changes.deleted) delete data[key]
  for (const [key, value] of Object.entries(changes.set)) data[key] = value
  return data
}
