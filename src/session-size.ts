import type { SessionData, SessionValue } from './engine.js'

/**
 * How a session's size is counted for `maxSize`: the UTF-8 bytes of the JSON of all of its stored data. The JSON of an
 * object with at least one key is `{` followed by each `"key":value` and the comma or brace after it, so a key's share
 * can be added or taken away without counting the rest. Keys and scalar values, the common case, are counted without
 * serializing them: the first write of a request counts the whole session.
 */

/** UTF-8 bytes of the JSON of `data`. */
export function dataBytes(data: SessionData): number {
  let size = 1
  let keys = 0
  for (const key in data) {
    if (!Object.hasOwn(data, key)) continue
    size += entryBytes(key, data[key] as SessionValue)
    keys++
  }
  return keys === 0 ? 2 : size
}

/** Bytes `key` and `value` add to the JSON of a session's data that holds other keys too: `"key":value,`. */
export function entryBytes(key: string, value: SessionValue): number {
  return stringBytes(key) + valueBytes(value) + 2
}

/** UTF-8 bytes of the JSON of `value`; scalars, the common case, are counted without serializing them. */
function valueBytes(value: SessionValue): number {
  if (typeof value === 'string') return stringBytes(value)
  if (typeof value === 'number') return numberBytes(value)
  if (typeof value === 'boolean') return value ? 4 : 5
  if (value === null) return 4
  return Buffer.byteLength(JSON.stringify(value), 'utf8')
}

/**
 * Below this, an integer's JSON is its plain digits and every power of ten up to it is exact, so comparisons count its
 * digits without formatting it.
 */
const PLAIN_INTEGER_LIMIT = 1e15

/** Characters in the JSON of a finite number, as String(value) writes them; integers are counted without formatting. */
function numberBytes(value: number): number {
  if (!Number.isInteger(value) || value >= PLAIN_INTEGER_LIMIT || value <= -PLAIN_INTEGER_LIMIT) {
    return String(value).length
  }
  // -0 is written "0", and `-0 < 0` is false.
  if (value < 0) return digitsOf(-value) + 1
  return digitsOf(value)
}

/** Decimal digits of a non-negative integer below PLAIN_INTEGER_LIMIT. */
function digitsOf(integer: number): number {
  let digits = 1
  for (let bound = 10; integer >= bound; bound *= 10) digits++
  return digits
}

/** UTF-8 bytes of the JSON of `text`: its length and quotes for printable ASCII without `"` or `\`, else serialized. */
function stringBytes(text: string): number {
  const size = text.length + 2
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code >= 0x20 && code < 0x7f && code !== 0x22 && code !== 0x5c) continue
    // An escape, a character past ASCII or a lone surrogate: JSON.stringify knows how each is written.
    return Buffer.byteLength(JSON.stringify(text), 'utf8')
  }
  return size
}
