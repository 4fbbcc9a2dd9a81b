import { expect, test } from 'bun:test'
import { generateSessionId, SESSION_ID_LENGTH } from '../src/session-id.js'

const ID_COUNT = 1_000_000
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * The 99.9th percentile of the chi-square distribution with 63 degrees of freedom (64 characters, minus one because
 * the counts must add up to the total). A uniform source exceeds it in one run out of 1,000, so a statistic below it
 * means p > 0.001. Computed with scipy's `chi2.ppf(0.999, 63)`; the Wilson–Hilferty approximation gives the same to
 * within 0.1.
 */
const CRITICAL_63 = 103.442

/**
 * The same percentile with 32 × 63 = 2,016 degrees of freedom: the per-position statistics of the 32 positions,
 * independent for a uniform source, added up (`chi2.ppf(0.999, 2016)`). One combined test instead of 32 separate
 * ones keeps the chance of a false alarm at 1 in 1,000.
 */
const CRITICAL_2016 = 2_217.936

/** Character counts over all the ids, and per position: `byPosition[position * 64 + index in ALPHABET]`. */
function countCharacters(ids: readonly string[]): { overall: Float64Array; byPosition: Float64Array } {
  const indexOf = new Int16Array(128).fill(-1)
  for (let index = 0; index < ALPHABET.length; index++) indexOf[ALPHABET.charCodeAt(index)] = index
  const byPosition = new Float64Array(SESSION_ID_LENGTH * ALPHABET.length)
  for (const id of ids) {
    if (id.length !== SESSION_ID_LENGTH) throw new Error(`id ${JSON.stringify(id)} is not ${SESSION_ID_LENGTH} long`)
    for (let position = 0; position < SESSION_ID_LENGTH; position++) {
      const index = indexOf[id.charCodeAt(position)] ?? -1
      if (index < 0) throw new Error(`id ${JSON.stringify(id)} has a character outside base64url`)
      byPosition[position * ALPHABET.length + index] = (byPosition[position * ALPHABET.length + index] ?? 0) + 1
    }
  }
  const overall = new Float64Array(ALPHABET.length)
  byPosition.forEach((count, cell) => {
    overall[cell % ALPHABET.length] = (overall[cell % ALPHABET.length] ?? 0) + count
  })
  return { overall, byPosition }
}

/** Pearson's chi-square statistic of `counts` against equal expected counts. */
function chiSquare(counts: ArrayLike<number>): number {
  let total = 0
  for (let index = 0; index < counts.length; index++) total += counts[index] ?? 0
  const expected = total / counts.length
  let statistic = 0
  for (let index = 0; index < counts.length; index++) statistic += ((counts[index] ?? 0) - expected) ** 2 / expected
  return statistic
}

/** The per-position statistics, added up over the positions. */
function chiSquareByPosition(byPosition: Float64Array): number {
  let statistic = 0
  for (let position = 0; position < SESSION_ID_LENGTH; position++) {
    statistic += chiSquare(byPosition.subarray(position * ALPHABET.length, (position + 1) * ALPHABET.length))
  }
  return statistic
}

test(`${ID_COUNT.toLocaleString('en')} ids never repeat and use the base64url alphabet uniformly, overall and per position (chi-square, p > 0.001)`, () => {
  const ids = Array.from({ length: ID_COUNT }, generateSessionId)
  expect(new Set(ids).size).toBe(ID_COUNT)
  const { overall, byPosition } = countCharacters(ids)
  expect(chiSquare(overall)).toBeLessThan(CRITICAL_63)
  expect(chiSquareByPosition(byPosition)).toBeLessThan(CRITICAL_2016)
}, 30_000)

test('the check catches a slightly biased source: characters from bytes 0–249 taken modulo 64', () => {
  // Rejecting bytes from 250 up leaves the last 6 characters at 3/250 each instead of 4/250: a modulo bias.
  const bytes = crypto.getRandomValues(new Uint8Array(20_000 * SESSION_ID_LENGTH * 2))
  const biased: string[] = []
  let id = ''
  for (const byte of bytes) {
    if (byte >= 250) continue
    id += ALPHABET[byte % 64]
    if (id.length === SESSION_ID_LENGTH) {
      biased.push(id)
      id = ''
    }
  }
  const { overall, byPosition } = countCharacters(biased)
  expect(chiSquare(overall)).toBeGreaterThan(CRITICAL_63)
  expect(chiSquareByPosition(byPosition)).toBeGreaterThan(CRITICAL_2016)
})
