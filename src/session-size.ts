import type { SessionData, SessionValue } from './engine.js'

/**
 * How a session's size is counted for `maxSize`: the UTF-8 bytes of the JSON of all of its stored data. The JSON of an
 * object with at least one key is `{` followed by each `"key":value` and the comma or brace after it, so a key's share
 * can be added or taken away without serializing the rest.
 */

/** UTF-8 bytes of the JSON of `data`. */
export function dataBytes(data: SessionData): number {
  return Buffer.byteLength(JSON.stringify(data), 'utf8')
}

/** Bytes `key` and `value` add to the JSON of a session's data that holds other keys too: `"key":value,`. */
export function entryBytes(key: string, value: SessionValue): number {
  return Buffer.byteLength(JSON.stringify(key), 'utf8') + Buffer.byteLength(JSON.stringify(value), 'utf8') + 2
}
