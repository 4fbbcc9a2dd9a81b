import { afterEach, describe, expect, setSystemTime, test } from 'bun:test'
import { FLASH_STAMP_LENGTH, flashKeyOf, newFlashStorageKey } from '../../src/flash-storage-key.js'
import { FLASH_KEY_PREFIX } from '../../src/internal-keys.js'

afterEach(() => {
  setSystemTime()
})

describe('flash storage keys', () => {
  test('have the shape flash:<stamp>:<key>, with a fixed-width stamp without ":", and give their key back', () => {
    for (const key of ['notice', 'string:name', '', '__proto__']) {
      const storageKey = newFlashStorageKey(key)
      expect(storageKey).toMatch(new RegExp(`^${FLASH_KEY_PREFIX}[0-9a-z]{${FLASH_STAMP_LENGTH}}:`))
      expect(flashKeyOf(storageKey)).toBe(key)
    }
  })

  test('made in the same millisecond, they differ and sort in the order they were made', () => {
    setSystemTime(new Date('2030-01-01T00:00:00Z'))
    const made = Array.from({ length: 50 }, () => newFlashStorageKey('notice'))
    expect(new Set(made).size).toBe(made.length)
    expect(made.toSorted()).toEqual(made)
  })

  test('a later millisecond sorts later, also where the time needs one more digit', () => {
    for (const [earlier, later] of [
      ['2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.001Z'],
      ['2001-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z'],
    ] as const) {
      setSystemTime(new Date(earlier))
      const first = newFlashStorageKey('notice')
      setSystemTime(new Date(later))
      const second = newFlashStorageKey('notice')
      expect(first < second).toBe(true)
      expect(first).toHaveLength(second.length)
    }
  })
})
