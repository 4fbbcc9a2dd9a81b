/** The base seed of the property and model tests when `FC_SEED` is not set: fixed, so every run tries the same cases. */
const DEFAULT_SEED = 15_042_025

/**
 * The seed of every property test in this run: `FC_SEED` when set (CI may vary it per run, and a failure's printed
 * seed replays it), else a constant.
 */
export const PROPERTY_SEED = seedFrom(process.env['FC_SEED'])

function seedFrom(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_SEED
  const seed = Number(text)
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(text)}`)
  return seed
}

/**
 * The `fc.assert` parameters of a property tried `numRuns` times from the run's seed; a failure prints the seed and
 * the path that replay it.
 */
export function propertyRuns(numRuns: number): { seed: number; numRuns: number } {
  return { seed: PROPERTY_SEED, numRuns }
}
