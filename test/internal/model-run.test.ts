import { describe, expect, test } from 'bun:test'
import { memoryEngine } from 'elysia-sessions/engines/memory'
import { runEngineConformance } from 'elysia-sessions/testing'
import type { SessionEngine } from '../../src/engine.js'
import { type ConformanceHarness, createSuiteClock } from '../../src/testing/harness.js'
import { runModel } from '../../src/testing/model-tests.js'
import { seededRandom } from '../../src/testing/random.js'

/** A memory engine whose count is one too high once two sessions are stored. */
function miscountingEngine(): SessionEngine {
  const inner = memoryEngine()
  return {
    ...inner,
    async count(now) {
      const count = await inner.count(now)
      return count >= 2 ? count + 1 : count
    },
  }
}

function harnessOf(engine: SessionEngine): ConformanceHarness {
  return {
    engine,
    clock: createSuiteClock(false),
    serverExpiry: false,
    bulkSize: 2,
    slowTimeout: 5_000,
    openEngine: async () => engine,
  }
}

/** The message a model run from `seed` fails with. */
async function failureOf(seed: number): Promise<string> {
  try {
    await runModel(harnessOf(miscountingEngine()), seed, 200, undefined, 'replay:')
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`the run from seed ${seed} found nothing`)
}

describe('model runs', () => {
  test('a run from one seed takes the same steps and fails the same way each time', async () => {
    const first = await failureOf(7)
    expect(first).toStartWith('After step ')
    expect(first).toContain('then count at t+')
    expect(first).toContain('replay:')
    expect(await failureOf(7)).toBe(first)
    expect(await failureOf(8)).not.toBe(first)
  })

  test('seededRandom repeats its sequence for a seed and stays within its bounds', () => {
    const draws = (seed: number) => {
      const random = seededRandom(seed)
      return Array.from({ length: 1_000 }, () => random.int(-3, 3))
    }
    expect(draws(42)).toEqual(draws(42))
    expect(draws(42)).not.toEqual(draws(43))
    expect(new Set(draws(42))).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]))
  })

  test('runEngineConformance refuses model options that are not whole numbers in range', () => {
    const factory = () => memoryEngine()
    for (const options of [
      { modelRuns: -1 },
      { modelRuns: 1.5 },
      { modelSteps: 0 },
      { modelSeed: -1 },
      { modelSeed: 2 ** 32 },
    ]) {
      expect(() => runEngineConformance('refused', factory, options)).toThrow(RangeError)
    }
  })
})
