import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { SessionData, SessionEngine, SessionValue } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { SessionEngineError, SessionSizeError } from '../../src/errors.js'
import { CREATED_AT_KEY } from '../../src/internal-keys.js'
import { dataBytes, entryBytes } from '../../src/session-size.js'
import { type SessionRuntime, SessionState } from '../../src/session-state.js'

const HOUR = 3_600_000
/** A fixed clock, so the creation time a save stores is the one a size counts for a session not yet saved. */
const NOW = 1_700_000_000_000

/** What `maxSize` counts for `data`: the JSON of it, with the creation time the next save adds when it has none. */
function sizeOf(data: ReadonlyMap<string, SessionValue>): number {
  const stored = Object.fromEntries(data)
  if (!data.has(CREATED_AT_KEY)) stored[CREATED_AT_KEY] = NOW
  return Buffer.byteLength(JSON.stringify(stored), 'utf8')
}

type Step =
  | { readonly op: 'write'; readonly key: string; readonly value: SessionValue }
  | { readonly op: 'remove'; readonly key: string }
  | { readonly op: 'save' | 'reload' | 'destroy' | 'regenerate' | 'failed regenerate' }

const keys = fc.constantFrom('a', 'b', '€', 'meta:owner', 'flash:0:x', '__proto__', '\ud800')
/** JSON values, and strings of characters whose JSON takes more than one byte each: multibyte, escaped, lone surrogates. */
const values = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: fc.constantFrom('a', 'ü', '€', '😀', '\ud800', '"', '\\', '\n', '\u0000'), maxLength: 40 }),
)
const steps: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      key: keys,
      value: values,
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), key: keys }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        'save' as const,
        'reload' as const,
        'destroy' as const,
        'regenerate' as const,
        'failed regenerate' as const,
      ),
    }),
    weight: 2,
  },
) as fc.Arbitrary<Step>

describe('counting bytes without building the JSON', () => {
  const utf8OfJson = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8')
  const anyText = fc.string({ unit: 'binary', maxLength: 12 })

  test('dataBytes is the UTF-8 length of JSON.stringify, for any keys and values', () => {
    const data = fc.dictionary(anyText, fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }), { maxKeys: 6 })
    fc.assert(
      fc.property(data, (each) => {
        expect(dataBytes(each as SessionData)).toBe(utf8OfJson(each))
      }),
      { numRuns: 400 },
    )
  })

  test('entryBytes is what a key and its value add to an object: `{` and the entry with its comma or brace', () => {
    fc.assert(
      fc.property(anyText, fc.jsonValue({ maxDepth: 1, stringUnit: 'binary' }), (key, value) => {
        expect(entryBytes(key, value as SessionValue)).toBe(utf8OfJson({ [key]: value }) - 1)
      }),
      { numRuns: 400 },
    )
  })

  test('a number counts as JSON.stringify writes it: integers of any size and sign, fractions, exponent forms', () => {
    const numbers = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.integer({ min: 0, max: 22 }).map((power) => 10 ** power - (power % 2)),
    )
    fc.assert(
      fc.property(numbers, (value) => {
        expect(entryBytes('n', value)).toBe(utf8OfJson({ n: value }) - 1)
      }),
      { numRuns: 2_000 },
    )
    // Each power of ten up to where JSON switches to exponents, one below it, and their negatives.
    for (let power = 0; power <= 22; power++) {
      for (const value of [10 ** power, 10 ** power - 1, -(10 ** power), 1 - 10 ** power, -0]) {
        expect(entryBytes('n', value)).toBe(utf8OfJson({ n: value }) - 1)
      }
    }
  })

  test('escapes, characters past ASCII and surrogates count as JSON writes them', () => {
    for (const text of [
      '"',
      '\\',
      '\u0000',
      '\b\t\n\f\r',
      '\u001f',
      '\u007f',
      'é',
      '€',
      '\u2028',
      '😀',
      '\ud800',
      '\udc00\ud800',
      '',
    ]) {
      expect(entryBytes(text, text)).toBe(utf8OfJson({ [text]: text }) - 1)
      expect(dataBytes({ [text]: [text, -0, 1e21, 5e-7, true, null] })).toBe(
        utf8OfJson({ [text]: [text, -0, 1e21, 5e-7, true, null] }),
      )
    }
  })
})

describe('SessionState size under maxSize', () => {
  test('every write is refused exactly when the session would grow past the limit, and refused writes change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(steps, { maxLength: 30 }), fc.integer({ min: 1, max: 400 }), async (plan, maxSize) => {
        const engine = memoryEngine()
        // Fails the next commit while set, so a regenerate that fails half-way can be tried.
        let failing = false
        const failingEngine: SessionEngine = {
          ...engine,
          name: engine.name,
          load: (id, now) => engine.load(id, now),
          commit: (id, changes, now) => (failing ? Promise.reject(new Error('down')) : engine.commit(id, changes, now)),
          touch: (id, expiresAt, now) => engine.touch(id, expiresAt, now),
          delete: (id) => engine.delete(id),
          close: () => engine.close(),
        }
        const runtime: SessionRuntime = {
          engine: failingEngine,
          timeout: HOUR,
          touchInterval: HOUR,
          now: () => NOW,
          maxSize,
        }
        let state = new SessionState(runtime, null, null)
        for (const step of plan) {
          const before = state.data
          if (step.op === 'write') {
            const after = new Map(before).set(step.key, step.value as SessionValue)
            const refused = sizeOf(after) > maxSize && sizeOf(after) > sizeOf(before)
            let thrown: unknown
            try {
              state.write(step.key, step.value as SessionValue)
            } catch (error) {
              thrown = error
            }
            if (refused) {
              expect(thrown).toBeInstanceOf(SessionSizeError)
              expect(thrown).toMatchObject({ limit: maxSize, size: sizeOf(after) })
              expect(state.data).toEqual(before)
            } else {
              expect(thrown).toBeUndefined()
              expect(state.data).toEqual(after)
            }
          } else if (step.op === 'remove') state.remove(step.key)
          else if (step.op === 'save') await state.save()
          else if (step.op === 'destroy') await state.deleteAndStartOver()
          else if (step.op === 'regenerate') await state.regenerate()
          else if (step.op === 'failed regenerate') {
            failing = true
            const stored = state.expiresAt !== null
            await state.regenerate().then(
              () => expect(stored).toBe(false),
              (error) => expect(error).toBeInstanceOf(SessionEngineError),
            )
            failing = false
            expect(state.data).toEqual(before)
          } else {
            await state.save()
            const id = state.id
            state = new SessionState(runtime, id, await runtime.engine.load(id, NOW))
          }
        }
        await state.save()
        const stored = await runtime.engine.load(state.id, NOW)
        if (stored) expect(Buffer.byteLength(JSON.stringify(stored.data), 'utf8')).toBe(sizeOf(state.data))
        await runtime.engine.close()
      }),
      { numRuns: 300 },
    )
  })
})
