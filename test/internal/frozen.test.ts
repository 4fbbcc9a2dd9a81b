import { describe, expect, test } from 'bun:test'
import { z } from 'zod'
import { deepFreeze } from '../../src/frozen.js'

describe('deepFreeze', () => {
  test('freezes plain objects and arrays at every depth and hands back the same value', () => {
    const value = { cart: [{ sku: 'a', tags: ['x'] }] }
    expect(deepFreeze(value)).toBe(value)
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.cart)).toBe(true)
    expect(Object.isFrozen(value.cart[0])).toBe(true)
    expect(Object.isFrozen(value.cart[0]?.tags)).toBe(true)
  })

  test('walks into an object frozen only at its top, as a validator may hand one out', () => {
    const output = z
      .object({ items: z.array(z.string()) })
      .readonly()
      .parse({ items: ['a'] })
    expect(Object.isFrozen(output)).toBe(true)
    expect(Object.isFrozen(output.items)).toBe(false)
    deepFreeze(output)
    expect(Object.isFrozen(output.items)).toBe(true)
  })

  test('leaves class instances as they are, and survives a cycle', () => {
    const at = new Date(0)
    const cyclic: { self?: unknown; at: Date } = { at }
    cyclic.self = cyclic
    deepFreeze(cyclic)
    expect(Object.isFrozen(cyclic)).toBe(true)
    expect(Object.isFrozen(at)).toBe(false)
  })

  test('primitives pass through', () => {
    expect(deepFreeze(1)).toBe(1)
    expect(deepFreeze(null)).toBe(null)
    expect(deepFreeze('a')).toBe('a')
  })
})
