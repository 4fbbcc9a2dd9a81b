import { describe, expect, test } from 'bun:test'
import { CREATED_AT_KEY } from '../../src/internal-keys.js'
import { absoluteEndOf, cappedExpiry, cookieMaxAge, createdAtOf, expiryAt, hasOutlived } from '../../src/lifetime.js'
import { CREATED_AT_KEY as SUPPORT_CREATED_AT_KEY } from '../support/http.js'

const NOW = 1_000_000
const idleOnly = { timeout: 60_000 }
const both = { timeout: 60_000, absoluteTimeout: 150_000 }

test("the public tests' creation-time key is the plugin's", () => {
  expect(SUPPORT_CREATED_AT_KEY).toBe(CREATED_AT_KEY)
})

describe('expiryAt', () => {
  test('is now + timeout without absoluteTimeout or without a creation time', () => {
    expect(expiryAt(idleOnly, NOW - 500_000, NOW)).toBe(NOW + 60_000)
    expect(expiryAt(both, null, NOW)).toBe(NOW + 60_000)
  })

  test('is now + timeout while the absolute end is further away', () => {
    expect(expiryAt(both, NOW - 90_000, NOW)).toBe(NOW + 60_000)
  })

  test('is the absolute end once that comes first', () => {
    expect(expiryAt(both, NOW - 90_001, NOW)).toBe(NOW + 59_999)
    expect(expiryAt(both, NOW - 149_000, NOW)).toBe(NOW + 1_000)
  })

  test('with absoluteTimeout shorter than timeout, a new session gets absoluteTimeout', () => {
    expect(expiryAt({ timeout: 60_000, absoluteTimeout: 30_000 }, NOW, NOW)).toBe(NOW + 30_000)
  })
})

describe('cappedExpiry and absoluteEndOf', () => {
  test('cappedExpiry lowers an expiry past the absolute end to it, and keeps any other', () => {
    expect(cappedExpiry(both, NOW, NOW + 200_000)).toBe(NOW + 150_000)
    expect(cappedExpiry(both, NOW, NOW + 100_000)).toBe(NOW + 100_000)
    expect(cappedExpiry(idleOnly, NOW, NOW + 200_000)).toBe(NOW + 200_000)
  })

  test('absoluteEndOf is null without absoluteTimeout or a creation time', () => {
    expect(absoluteEndOf(idleOnly, NOW)).toBeNull()
    expect(absoluteEndOf(both, null)).toBeNull()
    expect(absoluteEndOf(both, NOW)).toBe(NOW + 150_000)
  })
})

describe('createdAtOf and hasOutlived', () => {
  test('createdAtOf reads a numeric creation time and nothing else', () => {
    expect(createdAtOf({ [CREATED_AT_KEY]: NOW })).toBe(NOW)
    expect(createdAtOf({})).toBeNull()
    expect(createdAtOf(undefined)).toBeNull()
    expect(createdAtOf({ [CREATED_AT_KEY]: 'yesterday' })).toBeNull()
  })

  test('a session has outlived absoluteTimeout from its absolute end on, and never without one', () => {
    const data = { [CREATED_AT_KEY]: NOW }
    expect(hasOutlived(both, data, NOW + 149_999)).toBe(false)
    expect(hasOutlived(both, data, NOW + 150_000)).toBe(true)
    expect(hasOutlived(idleOnly, data, NOW + 10_000_000)).toBe(false)
    expect(hasOutlived(both, {}, NOW + 10_000_000)).toBe(false)
  })
})

describe('cookieMaxAge', () => {
  test('is the time to the expiry in seconds, rounded up', () => {
    expect(cookieMaxAge(NOW + 3_600_000, NOW)).toBe(3600)
    expect(cookieMaxAge(NOW + 1_500, NOW)).toBe(2)
    expect(cookieMaxAge(NOW + 2_000, NOW)).toBe(2)
    expect(cookieMaxAge(NOW + 2_001, NOW)).toBe(3)
  })

  test('is at least 1, never 0 (which would delete the cookie), even at or past the expiry', () => {
    expect(cookieMaxAge(NOW + 1, NOW)).toBe(1)
    expect(cookieMaxAge(NOW, NOW)).toBe(1)
    expect(cookieMaxAge(NOW - 5_000, NOW)).toBe(1)
  })
})
