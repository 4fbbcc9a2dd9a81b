import { FLASH_KEY_PREFIX } from './internal-keys.js'

/** Base36 digits of the time (epoch ms): enough until the year 5188. */
const TIME_DIGITS = 9
/** Base36 digits of a counter that orders the stamps this process makes within one millisecond; it wraps. */
const SEQUENCE_DIGITS = 4
/** Random base36 digits, so that two processes stamping in the same millisecond still differ. */
const RANDOM_DIGITS = 4
const SEQUENCE_LIMIT = 36 ** SEQUENCE_DIGITS
const RANDOM_LIMIT = 36 ** RANDOM_DIGITS

/** How many characters a stamp has: fixed, so comparing storage keys compares their stamps first. */
export const FLASH_STAMP_LENGTH = TIME_DIGITS + SEQUENCE_DIGITS + RANDOM_DIGITS

/** Where the message's key starts in its storage key, after the prefix, the stamp and a ':'. */
const KEY_START = FLASH_KEY_PREFIX.length + FLASH_STAMP_LENGTH + 1

let sequence = 0

/**
 * A new storage key for the message under `key`, `flash:<stamp>:<key>`, unique to that message; storage keys sort in
 * the order they were made (within one process; across processes, by the millisecond).
 */
export function newFlashStorageKey(key: string): string {
  sequence = (sequence + 1) % SEQUENCE_LIMIT
  const stamp =
    base36(Date.now(), TIME_DIGITS) +
    base36(sequence, SEQUENCE_DIGITS) +
    base36(Math.floor(Math.random() * RANDOM_LIMIT), RANDOM_DIGITS)
  return `${FLASH_KEY_PREFIX}${stamp}:${key}`
}

/** The message's key in a storage key made by `newFlashStorageKey`. */
export function flashKeyOf(storageKey: string): string {
  return storageKey.slice(KEY_START)
}

function base36(value: number, digits: number): string {
  return value.toString(36).padStart(digits, '0')
}
