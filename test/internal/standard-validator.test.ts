import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { z } from 'zod'
import { issuePath } from '../../src/key-validator.js'
import type { StandardResult, StandardSchemaV1 } from '../../src/standard-schema.js'
import { isStandardSchema } from '../../src/standard-schema.js'
import { standardValidator } from '../../src/standard-validator.js'

/** A hand-written Standard Schema around `validate`. */
function handWritten(validate: (value: unknown) => StandardResult<unknown> | Promise<StandardResult<unknown>>) {
  return { '~standard': { version: 1, vendor: 'test', validate } } satisfies StandardSchemaV1
}

/** Collects unhandled rejections while `run` runs, and a little after. */
async function rejectionsDuring(run: () => void): Promise<unknown[]> {
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => rejections.push(reason)
  process.on('unhandledRejection', onRejection)
  try {
    run()
    await Bun.sleep(10)
  } finally {
    process.off('unhandledRejection', onRejection)
  }
  return rejections
}

describe('standardValidator', () => {
  test("an accepted value reads as the schema's output, a refused one gives its issues", () => {
    const validator = standardValidator(
      'k',
      z.string().transform((text) => text.length),
    )
    expect(validator.check('abc')).toEqual({ ok: true, value: 3 })
    const refused = validator.check(3)
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.issues.length).toBeGreaterThan(0)
  })

  test('a validator that throws refuses the value instead of throwing', () => {
    const validator = standardValidator(
      'k',
      handWritten(() => {
        throw new Error('broken')
      }),
    )
    expect(validator.check(1)).toEqual({ ok: false, issues: [{ message: 'broken' }] })
    expect(validator.absent()).toBeUndefined()
  })

  test('a Promise result is a TypeError naming the key, for a check and for an absent key, with no unhandled rejection', async () => {
    const validator = standardValidator(
      'later',
      handWritten(async () => {
        throw new Error('rejected')
      }),
    )
    const rejections = await rejectionsDuring(() => {
      expect(() => validator.check(1)).toThrow(TypeError)
      expect(() => validator.check(1)).toThrow(/^schema\.later validates asynchronously/)
      expect(() => validator.absent()).toThrow(/schema\.later/)
    })
    expect(rejections).toEqual([])
  })

  test.each([
    ['zod .default(0)', z.number().default(0), 0],
    ['zod .optional()', z.number().optional(), undefined],
    ['zod without a default', z.number(), undefined],
    ['valibot v.optional(v.number(), 5)', v.optional(v.number(), 5), 5],
    ['valibot without a default', v.number(), undefined],
  ])('an absent key reads as what %s returns for undefined', (_, schema, expected) => {
    expect(standardValidator('k', schema).absent()).toBe(expected)
  })

  test('issue paths become JSON pointers, whether segments are keys or { key } objects', () => {
    const zod = standardValidator('k', z.object({ cart: z.array(z.object({ qty: z.number() })) })).check({
      cart: [{ qty: 1 }, { qty: 'x' }],
    })
    const valibot = standardValidator('k', v.object({ 'a/b': v.array(v.object({ 'c~d': v.number() })) })).check({
      'a/b': [{ 'c~d': 'x' }],
    })
    if (zod.ok || valibot.ok) throw new Error('a value was accepted')
    expect(zod.issues.map(issuePath)).toEqual(['/cart/1/qty'])
    expect(valibot.issues.map(issuePath)).toEqual(['/a~1b/0/c~0d'])
    expect(issuePath({ message: 'top' })).toBe('')
    expect(issuePath({ message: 'x', path: [{ key: 0 }, 'b', Symbol.for('s')] })).toBe('/0/b/Symbol(s)')
  })
})

describe('isStandardSchema', () => {
  test('recognizes version 1 schemas with a validate function, and nothing else', () => {
    expect(isStandardSchema(z.number())).toBe(true)
    expect(isStandardSchema(v.number())).toBe(true)
    expect(isStandardSchema(handWritten(() => ({ value: 1 })))).toBe(true)
    expect(isStandardSchema({ '~standard': { version: 2, validate: () => ({ value: 1 }) } })).toBe(false)
    expect(isStandardSchema({ '~standard': { version: 1 } })).toBe(false)
    expect(isStandardSchema({ '~standard': null })).toBe(false)
    expect(isStandardSchema(null)).toBe(false)
    expect(isStandardSchema('schema')).toBe(false)
  })
})
