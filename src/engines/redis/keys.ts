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
