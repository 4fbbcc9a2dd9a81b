import { describe, expect, test } from 'bun:test'
import { jsonSafeCopy } from '../../src/json-safe.js'

describe('jsonSafeCopy', () => {
  test('returns a deep copy that JSON round-trips to itself', () => {
    const value = { text: 'x', list: [1, null, true, { deep: 'y' }], empty: {} }
    const copy = jsonSafeCopy(value, 'flash.set', 'k')
    expect(copy).toEqual(value)
    expect(copy).not.toBe(value)
    expect((copy as { list: unknown[] }).list).not.toBe(value.list)
    expect(JSON.parse(JSON.stringify(copy))).toEqual(copy)
  })

  test('keeps a key named "__proto__" as data and accepts null-prototype objects', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}') as object
    const copy = jsonSafeCopy(value, 'flash.set', 'k') as Record<string, unknown>
    expect(Object.hasOwn(copy, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    const bare = Object.assign(Object.create(null), { a: 1 })
    expect(jsonSafeCopy(bare, 'flash.set', 'k')).toEqual({ a: 1 })
  })

  test('names the call, the key and the path in its TypeError', () => {
    expect(() => jsonSafeCopy({ 'a b': [0, () => 1] }, 'flash.now', 'x"y')).toThrow(
      new TypeError(
        'flash.now("x\\"y", value) needs a JSON-safe value (a string, finite number, boolean, null, array or plain object), got a function (anonymous) at value["a b"][1]',
      ),
    )
  })
})
