import { describe, expect, test } from 'bun:test'
import type { SessionData, SessionValue } from '../engine.js'
import { type ConformanceHarness, collectBatches, commitFor, LONG_LIFETIME, newId } from './harness.js'

const contractTest = test.serial

/** Every UTF-16 code unit once, in order: lone surrogates of both kinds, control characters, noncharacters. */
const EVERY_CODE_UNIT = Array.from({ length: 0x10000 }, (_, unit) => String.fromCharCode(unit)).join('')

/** 256 KiB of text that does not repeat in short runs, so a truncated or shifted copy shows. */
const LARGE_STRING = Array.from({ length: 40_000 }, (_, index) => index.toString(36))
  .join(',')
  .slice(0, 256 * 1024)

/** Strings JSON round-trips exactly, which engines must keep code unit for code unit. */
const STRINGS: SessionData = {
  'string:empty': '',
  'string:nul': '\u0000',
  'string:embedded-nul': 'a\u0000b',
  'string:lone-high-surrogate': '\uD800',
  'string:lone-low-surrogate': '\uDFFF',
  'string:swapped-surrogates': '\uDFFF\uD800',
  'string:emoji': '😀 👩‍👩‍👧 🇫🇷',
  'string:quotes-and-backslashes': `"'\`\\"\\\\'\\u0041`,
  'string:control-characters': String.fromCharCode(...Array.from({ length: 32 }, (_, code) => code), 0x7f),
  'string:line-separators': '\u2028\u2029\r\n',
  'string:byte-order-mark': '\uFEFFtext',
  'string:decomposed': 'e\u0301',
  'string:composed': 'é',
  'string:template-and-sql': `\${x} %s {{y}} #{z} '; --`,
  'string:looks-like-json': '{"a":[1,2]}',
  'string:looks-like-number': '007',
  'string:bigint': '-123456789012345678901234567890',
}

/** Keys with characters that break naive paths, patterns and quoting; the plugin's keys are `type:` plus any string. */
const ODD_KEYS = [
  'int:a.b',
  'string:$x',
  'object:"q"',
  'string:\u0000',
  'string:',
  'string:a b',
  "string:'",
  'string:\\',
  'string:a/b',
  'string:[0]',
  'string:{}',
  'string:*',
  'string:%s',
  'string:a:b:c',
  'string:$.x',
  'string:ü',
  'string:😀',
  'string:\uD800',
  'string:__proto__',
  'int:constructor',
  'int:toString',
]

/** Numbers whose JSON text parses back to the same number. */
const NUMBERS: SessionData = {
  'int:zero': 0,
  'int:negative-zero': -0,
  'int:one': 1,
  'int:negative': -42,
  'int:max-safe': Number.MAX_SAFE_INTEGER,
  'int:min-safe': Number.MIN_SAFE_INTEGER,
  'float:tenth': 0.1,
  'float:sum': 0.1 + 0.2,
  'float:third': 1 / 3,
  'float:negative': -1.5,
  'float:tiny': 1e-7,
  'float:smallest': Number.MIN_VALUE,
  'float:largest': Number.MAX_VALUE,
  'float:big': 1e21,
  'float:beyond-safe': 2 ** 53 + 2,
}

/** Registers the round trips of every kind of value and key the plugin stores. */
export function registerValueTests(harness: ConformanceHarness): void {
  const roundTrip = async (data: SessionData): Promise<SessionData | undefined> => {
    const id = newId()
    await commitFor(harness, id, data)
    return (await harness.engine.load(id, harness.clock.now()))?.data
  }

  describe('commit and load', () => {
    contractTest('an encoded bigint round-trips unchanged', async () => {
      const data = {
        'bigint:negative': '-123456789012345678901234567890',
        'bigint:beyond-64-bits': '18446744073709551616',
        'bigint:zero': '0',
      }
      expect(await roundTrip(data)).toEqual(data)
    })

    contractTest('a storable object round-trips unchanged', async () => {
      const data = {
        'object:user': { type: 'User', object: { id: 1, nested: { a: [1, 2, { b: null }] } } },
        'object:empty': { type: 'Empty', object: {} },
        'object:list': { type: 'List', object: [[], [null], [{ deep: [true, 'x', 0.5] }]] },
      }
      expect(await roundTrip(data)).toEqual(data)
    })

    contractTest('booleans and null round-trip unchanged', async () => {
      const data = { 'bool:yes': true, 'bool:no': false, 'object:nothing': null }
      expect(await roundTrip(data)).toEqual(data)
    })

    contractTest('numbers round-trip as JSON does', async () => {
      const loaded = await roundTrip(NUMBERS)
      // JSON turns -0 into 0; an engine that keeps -0 keeps more than JSON, which is fine.
      const withoutNegativeZero = loaded && mapValues(loaded, (value) => (Object.is(value, -0) ? 0 : value))
      expect(withoutNegativeZero).toEqual(JSON.parse(JSON.stringify(NUMBERS)))
    })

    contractTest('strings of any characters round-trip unchanged', async () => {
      expect(await roundTrip(STRINGS)).toEqual(STRINGS)
    })

    contractTest('a string of every UTF-16 code unit round-trips unchanged', async () => {
      const loaded = await roundTrip({ 'string:every-code-unit': EVERY_CODE_UNIT })
      expect(firstDifference(loaded?.['string:every-code-unit'], EVERY_CODE_UNIT)).toBeNull()
    })

    contractTest('a 256 KiB value round-trips unchanged', async () => {
      const loaded = await roundTrip({ 'string:large': LARGE_STRING, 'int:after': 1 })
      expect(firstDifference(loaded?.['string:large'], LARGE_STRING)).toBeNull()
      expect(loaded?.['int:after']).toBe(1)
    })

    contractTest('keys of any characters round-trip unchanged and can be deleted', async () => {
      const id = newId()
      const data = Object.fromEntries(ODD_KEYS.map((key, index) => [key, index]))
      await commitFor(harness, id, data)
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual(data)
      const now = harness.clock.now()
      await harness.engine.commit(
        id,
        { set: { 'int:kept': 1 }, deleted: ODD_KEYS, expiresAt: now + LONG_LIFETIME },
        now,
      )
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'int:kept': 1 })
    })

    contractTest('entries yields the same values load returns', async () => {
      const id = newId()
      const data = { ...STRINGS, ...Object.fromEntries(ODD_KEYS.map((key, index) => [key, index])) }
      const expiresAt = await commitFor(harness, id, data)
      const entries = (await collectBatches(harness.engine, harness.clock.now(), 10)).flat()
      expect(entries).toEqual([{ id, data, expiresAt }])
    })
  })
}

function mapValues(data: SessionData, map: (value: SessionValue) => SessionValue): SessionData {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, map(value)]))
}

/** Where `actual` first differs from `expected`, readably escaped; `null` when equal. Keeps huge failures short. */
function firstDifference(actual: unknown, expected: string): string | null {
  if (actual === expected) return null
  if (typeof actual !== 'string') return `expected a string, got ${typeof actual}`
  let index = 0
  while (index < actual.length && actual[index] === expected[index]) index++
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, index - 8), index + 8))
  return `length ${actual.length} instead of ${expected.length}; first difference at code unit ${index}: ${around(actual)} instead of ${around(expected)}`
}
