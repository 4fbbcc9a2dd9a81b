import { describe, expect, test } from 'bun:test'
import { type TSchema, Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { SessionConfigError } from '../../src/errors.js'
import { type CheckResult, issuePath } from '../../src/key-validator.js'
import { withDefault } from '../../src/session-schema.js'
import { typeBoxValidator } from '../../src/typebox-validator.js'

const accepts = (schema: TSchema, value: unknown) => typeBoxValidator('k', schema).check(value as never).ok

/** The JSON pointer of each issue a refused value got. */
function pathsOf(result: CheckResult): string[] {
  if (result.ok) throw new Error('the value was accepted')
  return result.issues.map(issuePath)
}

describe('typeBoxValidator', () => {
  test.each([
    ['t.Integer()', t.Integer(), [5, -3, 0], ['5', 5.5, null, true]],
    ['t.Integer({ minimum: 1 })', t.Integer({ minimum: 1 }), [1, 9], [0, '1']],
    ['t.Numeric()', t.Numeric(), [1.5, 2], ['1.5', null]],
    ['t.Numeric({ minimum: 1 })', t.Numeric({ minimum: 1 }), [1], [0.5]],
    ['t.BooleanString()', t.BooleanString(), [true, false], ['true', 1]],
    ['t.ObjectString(...)', t.ObjectString({ a: t.Number() }), [{ a: 1 }], ['{"a":1}', { a: '1' }]],
    ['t.ArrayString(...)', t.ArrayString(t.Number()), [[1, 2], []], ['[1,2]', ['1']]],
  ])("Elysia's %s is checked as the type it converts to, never as a string", (_, schema, good, bad) => {
    for (const value of good) expect(accepts(schema, value)).toBe(true)
    for (const value of bad) expect(accepts(schema, value)).toBe(false)
  })

  test('request-parsing types inside objects, arrays and optional properties are checked as their target type', () => {
    const schema = t.Object({
      items: t.Array(t.Object({ qty: t.Integer({ minimum: 1 }) })),
      page: t.Optional(t.Numeric()),
    })
    expect(accepts(schema, { items: [{ qty: 2 }] })).toBe(true)
    expect(accepts(schema, { items: [{ qty: 2 }], page: 3 })).toBe(true)
    expect(accepts(schema, { items: [{ qty: '2' }] })).toBe(false)
    expect(accepts(schema, { items: [], page: '3' })).toBe(false)
  })

  test('the schema given is left as it was', () => {
    const schema = t.Object({ qty: t.Integer() })
    const before = JSON.stringify(schema)
    typeBoxValidator('k', schema)
    expect(JSON.stringify(schema)).toBe(before)
  })

  test('a refused value reports each issue with its path as a JSON pointer, escaping "~" and "/"', () => {
    const validator = typeBoxValidator('k', t.Object({ 'a/b': t.Array(t.Object({ 'c~d': t.Number() })) }))
    const result = validator.check({ 'a/b': [{ 'c~d': 1 }, { 'c~d': 'x' }] })
    expect(pathsOf(result)).toContain('/a~1b/1/c~0d')
    if (result.ok) return
    expect(result.issues[0]?.path).toEqual(['a/b', '1', 'c~d'])
    expect(pathsOf(typeBoxValidator('k', t.Number()).check('x'))).toContain('')
  })

  test('an accepted value is returned as it is', () => {
    const value = { a: [1] }
    expect(typeBoxValidator('k', t.Object({ a: t.Array(t.Number()) })).check(value)).toEqual({ ok: true, value })
  })

  test.each([
    ['the default option', t.Number({ default: 4 }), 4],
    ['withDefault', withDefault(t.Integer(), 7), 7],
    ['withDefault on t.Numeric', withDefault(t.Numeric(), 1.5), 1.5],
    ['a default on t.Integer', t.Integer({ default: 3 }), 3],
    ['no default', t.Number(), undefined],
  ])('an absent key reads as its default with %s', (_, schema, expected) => {
    expect(typeBoxValidator('k', schema).absent()).toBe(expected)
  })

  test('an object default is a frozen copy, so no request can change it for the next', () => {
    const fallback = { tags: ['a'] }
    const absent = typeBoxValidator('k', withDefault(t.Object({ tags: t.Array(t.String()) }), fallback)).absent()
    expect(absent).toEqual(fallback)
    expect(absent).not.toBe(fallback)
    expect(Object.isFrozen(absent)).toBe(true)
    expect(Object.isFrozen((absent as typeof fallback).tags)).toBe(true)
    expect(Object.isFrozen(fallback)).toBe(false)
  })

  test.each([
    ['t.Date()', t.Date()],
    ['Type.Date()', Type.Date()],
    ['Type.Uint8Array()', Type.Uint8Array()],
    ['Type.BigInt()', Type.BigInt()],
    ['Type.Function(...)', Type.Function([], Type.Void())],
    ['Type.Symbol()', Type.Symbol()],
    ['Type.Promise(...)', Type.Promise(Type.Number())],
    ['t.File()', t.File()],
    ['t.Files()', t.Files()],
    ['an optional t.Date() property', t.Object({ at: t.Optional(t.Date()) })],
    ['a Date in a record', t.Record(t.String(), Type.Date())],
    [
      'a custom transform',
      Type.Transform(Type.Number())
        .Decode((n) => n * 2)
        .Encode((n) => n / 2),
    ],
  ])('%s is a SessionConfigError naming the key', (_, schema) => {
    expect(() => typeBoxValidator('when', schema)).toThrow(SessionConfigError)
    expect(() => typeBoxValidator('when', schema)).toThrow(/^schema\.when /)
  })

  test('a default that fails its schema, or that JSON cannot hold, is a SessionConfigError naming the key', () => {
    expect(() => typeBoxValidator('n', t.Number({ default: '0' }))).toThrow(
      new SessionConfigError('schema.n has a default that does not match its schema'),
    )
    expect(() => typeBoxValidator('n', t.Integer({ default: 0.5 }))).toThrow(SessionConfigError)
    expect(() => typeBoxValidator('n', t.Any({ default: new Map() }))).toThrow(SessionConfigError)
    expect(() => typeBoxValidator('n', t.Any({ default: new Map() }))).toThrow(/schema\.n/)
  })

  test("t.NumericEnum keeps its enum: a number outside it is refused, though the type's union says only number", () => {
    enum Level {
      Low = 1,
      High = 2,
    }
    const validator = typeBoxValidator('level', t.NumericEnum(Level))
    expect(validator.check(Level.High).ok).toBe(true)
    expect(validator.check(99).ok).toBe(false)
    expect(validator.check('1').ok).toBe(false)
  })

  test('withDefault replaces a default the schema already has', () => {
    const theme = t.Union([t.Literal('light'), t.Literal('dark')], { default: 'light' })
    expect(typeBoxValidator('theme', withDefault(theme, 'dark')).absent()).toBe('dark')
    expect(typeBoxValidator('theme', theme).absent()).toBe('light')
  })

  test('a value with thousands of issues reports the first ten, so a stale value costs little to report', () => {
    const cart = t.Array(t.Object({ sku: t.String(), qty: t.Integer({ minimum: 1 }) }))
    const stale = Array.from({ length: 5_000 }, () => ({ sku: 1, qty: 0 }))
    const result = typeBoxValidator('cart', cart).check(stale)
    if (result.ok) throw new Error('the stale cart was accepted')
    expect(result.issues).toHaveLength(10)
    expect(issuePath(result.issues[0]!)).toBe('/0/sku')
  })

  test.each([
    ['t.Undefined()', t.Undefined()],
    ['t.Void()', t.Void()],
    ['a union with t.Undefined()', t.Union([t.String(), t.Undefined()])],
    ['an undefined property', t.Object({ a: t.Undefined() })],
  ])('%s is a SessionConfigError: a session cannot store undefined', (_, schema) => {
    expect(() => typeBoxValidator('k', schema)).toThrow(/^schema\.k allows undefined/)
  })

  test('t.ArrayQuery, a transform of a plain string and an array, is a SessionConfigError naming it', () => {
    expect(() => typeBoxValidator('ids', t.ArrayQuery(t.Number()))).toThrow(
      /^schema\.ids uses a transform type \(.*t\.ArrayQuery/,
    )
  })
})
