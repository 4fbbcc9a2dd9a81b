import { expect, test } from 'bun:test'
import { createRowCache } from '../../src/engines/sqlite/row-cache.js'

test('the row cache drops the rows used longest ago once it holds too many rows', () => {
  const cache = createRowCache(2, 1_000)
  cache.set('a', '{}', 1)
  cache.set('b', '{}', 1)
  cache.set('a', '{"n":1}', 2)
  cache.set('c', '{}', 1)
  expect(cache.get('b')).toBeUndefined()
  expect(cache.get('a')).toEqual({ text: '{"n":1}', expiresAt: 2 })
  expect(cache.get('c')).toEqual({ text: '{}', expiresAt: 1 })
})

test('the row cache drops the oldest rows once their data passes its size limit, and never keeps a row too large', () => {
  const cache = createRowCache(100, 10)
  cache.set('a', 'x'.repeat(6), 1)
  cache.set('b', 'y'.repeat(6), 1)
  expect(cache.get('a')).toBeUndefined()
  expect(cache.get('b')?.text).toBe('yyyyyy')
  cache.set('huge', 'z'.repeat(11), 1)
  expect(cache.get('huge')).toBeUndefined()
  // Replacing a row with one too large forgets the old row rather than keeping stale data.
  cache.set('b', 'w'.repeat(11), 2)
  expect(cache.get('b')).toBeUndefined()
  cache.set('c', 'v'.repeat(10), 1)
  expect(cache.get('c')?.text).toBe('vvvvvvvvvv')
})

test('the row cache forgets every row when the database changed under it', () => {
  const cache = createRowCache(100, 1_000)
  cache.checkVersion(1)
  cache.set('a', '{}', 1)
  cache.checkVersion(1)
  expect(cache.get('a')).toBeDefined()
  cache.checkVersion(2)
  expect(cache.get('a')).toBeUndefined()
})
