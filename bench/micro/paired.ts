import type { RequestScenario } from './request-apps.js'

/** Requests per batch: long enough to time well, short enough that a noisy moment spoils few pairs. */
const BATCH = 500

/** One request scenario measured against bare Elysia in alternating batches. */
export interface PairedResult {
  readonly key: string
  readonly name: string
  /** The median over pairs of (scenario batch time ÷ the mean of the bare batches around it). */
  readonly timesBare: number
  /** The lower and upper quartile of those ratios. */
  readonly quartiles: readonly [number, number]
  readonly pairs: number
  /** The median time of one request of the scenario, and of bare Elysia, in ns. */
  readonly scenarioNs: number
  readonly bareNs: number
}

async function batchNs(scenario: RequestScenario): Promise<number> {
  const started = Bun.nanoseconds()
  for (let index = 0; index < BATCH; index++) await scenario.send()
  return (Bun.nanoseconds() - started) / BATCH
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

/**
 * Measures each scenario as a multiple of a bare Elysia request: batches of bare, scenario, bare, over and over for
 * `seconds` per scenario, each scenario batch compared with the bare batches just before and after it. Another
 * process that slows the machine for a moment slows both sides of a pair, so the median ratio holds where absolute
 * times from separate runs would not.
 */
export async function measurePaired(
  bare: RequestScenario,
  scenarios: readonly RequestScenario[],
  seconds: number,
): Promise<PairedResult[]> {
  // Warm-up: every path compiled and optimized before the first pair counts.
  for (let round = 0; round < 20; round++) for (const scenario of [bare, ...scenarios]) await batchNs(scenario)
  const results: PairedResult[] = []
  for (const scenario of scenarios) {
    const ratios: number[] = []
    const scenarioTimes: number[] = []
    const bareTimes: number[] = []
    const deadline = performance.now() + seconds * 1_000
    let before = await batchNs(bare)
    while (performance.now() < deadline) {
      const measured = await batchNs(scenario)
      const after = await batchNs(bare)
      ratios.push(measured / ((before + after) / 2))
      scenarioTimes.push(measured)
      bareTimes.push(after)
      before = after
    }
    const sorted = ratios.toSorted((x, y) => x - y)
    results.push({
      key: scenario.key,
      name: scenario.name,
      timesBare: quantile(sorted, 0.5),
      quartiles: [quantile(sorted, 0.25), quantile(sorted, 0.75)],
      pairs: ratios.length,
      scenarioNs: quantile(
        scenarioTimes.toSorted((x, y) => x - y),
        0.5,
      ),
      bareNs: quantile(
        bareTimes.toSorted((x, y) => x - y),
        0.5,
      ),
    })
  }
  return results
}
