import { expect, test } from 'bun:test'
import { generateSessionId, isSessionId, SESSION_ID_LENGTH } from '../../src/session-id.js'

test('ids are 32 base64url characters (192 random bits)', () => {
  expect(SESSION_ID_LENGTH).toBe(32)
  for (let index = 0; index < 100; index++) expect(generateSessionId()).toMatch(/^[A-Za-z0-9_-]{32}$/)
})

test('ids never repeat, across many refills of the random pool', () => {
  const ids = new Set(Array.from({ length: 20_000 }, generateSessionId))
  expect(ids.size).toBe(20_000)
})

test('every id has fresh random bytes: no two ids share a run of bytes, as they would if the pool were reused', () => {
  const decoded = Array.from({ length: 2_000 }, () => Buffer.from(generateSessionId(), 'base64url').toString('hex'))
  const halves = new Set(decoded.map((hex) => hex.slice(0, 24)))
  expect(halves.size).toBe(decoded.length)
})

test('isSessionId accepts exactly the shape generateSessionId makes', () => {
  expect(isSessionId(generateSessionId())).toBe(true)
  for (const id of ['', 'a'.repeat(31), 'a'.repeat(33), `${'a'.repeat(31)}.`, `${'a'.repeat(31)}=`]) {
    expect(isSessionId(id)).toBe(false)
  }
})
