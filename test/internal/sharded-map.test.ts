import { describe, expect, test } from 'bun:test'
import { ShardedMap } from '../../src/engines/sharded-map.js'
import { generateSessionId } from '../../src/session-id.js'

describe('ShardedMap', () => {
  test('keeps every key, including empty, one-character and non-ASCII keys', () => {
    const map = new ShardedMap<number>(4)
    const keys = ['', 'a', 'é', '\u{1F600}', '__proto__', ...Array.from({ length: 1_000 }, generateSessionId)]
    for (const [index, key] of keys.entries()) map.set(key, index)
    expect(map.size).toBe(keys.length)
    for (const [index, key] of keys.entries()) expect(map.get(key)).toBe(index)
    expect(new Map(map.entries())).toEqual(new Map(keys.map((key, index) => [key, index])))
  })

  test('set replaces, delete removes one key and says whether it was there, clear removes all', () => {
    const map = new ShardedMap<string>(2)
    map.set('key', 'old')
    map.set('key', 'new')
    map.set('other', 'kept')
    expect(map.get('key')).toBe('new')
    expect(map.delete('key')).toBe(true)
    expect(map.delete('key')).toBe(false)
    expect(map.get('key')).toBeUndefined()
    expect(map.get('other')).toBe('kept')
    map.clear()
    expect(map.size).toBe(0)
    expect([...map.entries()]).toEqual([])
  })
})
