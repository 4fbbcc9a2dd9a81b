import { isSafeSessionId } from '../safe-id.js'

/** The characters Redis's glob-style MATCH patterns give a meaning to. */
const GLOB_SPECIAL = /[*?[\]\\]/g

/** `text` as a MATCH pattern that matches exactly `text`, with every glob character escaped. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&')
}

/** The MATCH pattern of every key under `prefix`, and nothing else. */
export function scanPatternOf(prefix: string): string {
  return `${escapeGlob(prefix)}*`
}

/**
 * The session id a key under `prefix` stands for, or undefined when the key is not a session of this engine: keys of
 * a nested prefix such as `sess:admin:` leave a remainder with a `:` in it, which no session id has.
 */
export function sessionIdOf(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined
  const id = key.slice(prefix.length)
  return isSafeSessionId(id) ? id : undefined
}

/**
 * The hash field that keeps a session alive when its data is empty (Redis deletes a hash without fields) and holds
 * the expiry the last commit or touch asked for.
 */
export const EXPIRY_FIELD = 'expiresAt'

/**
 * The hash field of a session key: its JSON text, which starts with `"` (so it never equals `EXPIRY_FIELD`) and
 * escapes lone surrogates, which would not survive Redis's UTF-8 otherwise.
 */
export function dataFieldOf(key: string): string {
  return JSON.stringify(key)
}

/** The session key a data field stands for; the inverse of `dataFieldOf`. */
export function keyOfDataField(field: string): string {
  return JSON.parse(field) as string
}

/** The hash field that holds the key of the owner set a session is in; absent when the session has no owner. */
export const OWNER_SET_FIELD = 'ownerSet'

/** What every owner set's key has after the prefix, before the owner's JSON text. */
const OWNER_SET_MARK = 'owner:'

/**
 * The key of the set that holds the session keys of `owner`: the prefix, `owner:` and the owner's JSON text. It ends
 * with `"`, which no session id has, and a `"` inside the JSON text is escaped, so it is never a session key nor an
 * owner set of a nested prefix; lone surrogates are escaped too, so every owner has a key of its own.
 */
export function ownerSetKeyOf(prefix: string, owner: string): string {
  return `${prefix}${OWNER_SET_MARK}${JSON.stringify(owner)}`
}

/** The MATCH pattern that finds the owner sets under `prefix` (and keys that only look like them). */
export function ownerSetPatternOf(prefix: string): string {
  return `${escapeGlob(`${prefix}${OWNER_SET_MARK}"`)}*`
}

/** Whether `key` is exactly what `ownerSetKeyOf(prefix, owner)` gives for some owner. */
export function isOwnerSetKey(prefix: string, key: string): boolean {
  if (!key.startsWith(`${prefix}${OWNER_SET_MARK}"`)) return false
  const text = key.slice(prefix.length + OWNER_SET_MARK.length)
  try {
    const owner: unknown = JSON.parse(text)
    return typeof owner === 'string' && JSON.stringify(owner) === text
  } catch {
    return false
  }
}
