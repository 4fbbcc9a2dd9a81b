import type { SessionChanges, SessionData, SessionValue } from '../engine.js'

/**
 * The data a commit stores: `stored` (empty when absent) with the keys in `changes.deleted` removed and those in
 * `changes.set` written. A null-prototype object, so a key named "__proto__" stays data. `copy`, when given, turns
 * each written value into the one stored; a key it turns into undefined is left out, as JSON leaves it out.
 */
export function applyChanges(
  stored: SessionData | undefined,
  changes: SessionChanges,
  copy?: (value: SessionValue) => SessionValue | undefined,
): Record<string, SessionValue> {
  const data: Record<string, SessionValue> = Object.create(null)
  // for...in with an own-key check reads the keys Object.assign and Object.entries would, without their overhead.
  for (const key in stored) if (Object.hasOwn(stored, key)) data[key] = stored[key] as SessionValue
  for (const key of changes.deleted) delete data[key]
  const set = changes.set
  for (const key in set) {
    if (!Object.hasOwn(set, key)) continue
    const value = set[key] as SessionValue
    if (copy === undefined) {
      data[key] = value
      continue
    }
    const kept = copy(value)
    if (kept === undefined) delete data[key]
    else data[key] = kept
  }
  return data
}
