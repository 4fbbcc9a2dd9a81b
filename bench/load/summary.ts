import { OVERHEAD_ROW, PEER_TARGET_SCENARIOS, RATIO_TARGETS } from './rows.js'
import type { Measurement, RowSpec, ScenarioId } from './types.js'

/** One row in one scenario, over every round: medians, and the ratio to bare Elysia of the same pass. */
export interface Cell {
  readonly row: string
  readonly scenario: ScenarioId
  readonly rps: number
  readonly p50Us: number
  readonly p99Us: number
  /** Median over rounds of (this row's req/s ÷ bare Elysia's req/s in the same round and scenario). */
  readonly ratio: number | undefined
  /** The lowest and highest of those per-round ratios: their spread. */
  readonly ratioSpread: Spread | undefined
  readonly runs: number
  /** Failed route checks and wrk errors, if any. */
  readonly problems: readonly string[]
}

/** The lowest and highest of a value measured in several rounds, and how many rounds. */
export interface Spread {
  readonly min: number
  readonly max: number
  readonly rounds: number
}

/** A target and whether this run met it. */
export interface TargetResult {
  readonly row: string
  readonly scenario: ScenarioId
  readonly description: string
  /** The median over rounds. */
  readonly actual: number | undefined
  /** The spread of the row's per-round ratio, for ratio targets. */
  readonly spread?: Spread | undefined
  readonly pass: boolean | undefined
}

/** Our row's req/s as a ratio to the hand-written session's, in one scenario: our overhead over what needs no library. */
export interface Overhead {
  readonly row: string
  readonly ceiling: string
  readonly scenario: ScenarioId
  /** Median over rounds of (our req/s ÷ the hand-written row's req/s in the same round). */
  readonly ratio: number
  readonly spread: Spread
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function spreadOf(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined
  return { min: Math.min(...values), max: Math.max(...values), rounds: values.length }
}

/** The bare-Elysia req/s of each round and scenario: the median of its runs there (it runs first and last). */
export function bareBaselines(measurements: readonly Measurement[]): Map<string, number> {
  const runs = new Map<string, number[]>()
  for (const m of measurements) {
    if (m.row !== 'bare') continue
    const key = `${m.round}:${m.scenario}`
    runs.set(key, [...(runs.get(key) ?? []), m.wrk.rps])
  }
  return new Map([...runs].map(([key, values]) => [key, median(values)]))
}

export function summarize(measurements: readonly Measurement[], rows: readonly RowSpec[]): Cell[] {
  const baselines = bareBaselines(measurements)
  const cells: Cell[] = []
  for (const scenario of ['a', 'b', 'c'] as const) {
    for (const row of rows) {
      const runs = measurements.filter((m) => m.row === row.id && m.scenario === scenario)
      if (runs.length === 0) continue
      // One ratio per round (bare Elysia runs three times a round: the median of its three).
      const ratiosByRound = new Map<number, number[]>()
      for (const m of runs) {
        const bare = baselines.get(`${m.round}:${m.scenario}`)
        if (bare) ratiosByRound.set(m.round, [...(ratiosByRound.get(m.round) ?? []), m.wrk.rps / bare])
      }
      const ratios = [...ratiosByRound.values()].map(median)
      const problems = runs.flatMap((m) => {
        const errors = Object.entries(m.wrk.errors).filter(([, count]) => count > 0)
        return [
          ...(m.check.ok ? [] : [`round ${m.round}: ${m.check.detail}`]),
          ...(errors.length ? [`round ${m.round}: wrk errors ${errors.map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
        ]
      })
      cells.push({
        row: row.id,
        scenario,
        rps: median(runs.map((m) => m.wrk.rps)),
        p50Us: median(runs.map((m) => m.wrk.p50Us)),
        p99Us: median(runs.map((m) => m.wrk.p99Us)),
        ratio: ratios.length ? median(ratios) : undefined,
        ratioSpread: spreadOf(ratios),
        runs: runs.length,
        problems,
      })
    }
  }
  return cells
}

/** Evaluates the issue's targets on the cells this run measured; a target whose rows were not run is left out. */
export function evaluateTargets(
  cells: readonly Cell[],
  rows: readonly RowSpec[],
  scenarios: readonly ScenarioId[],
): TargetResult[] {
  const cellOf = (row: string, scenario: ScenarioId) => cells.find((c) => c.row === row && c.scenario === scenario)
  const results: TargetResult[] = []
  for (const target of RATIO_TARGETS) {
    const cell = cellOf(target.row, target.scenario)
    if (!cell) {
      // A row that was run but has no numbers (its server failed) misses its target.
      if (rows.some((r) => r.id === target.row) && scenarios.includes(target.scenario)) {
        results.push({ ...target, description: `ratio ≥ ${target.min.toFixed(2)}`, actual: undefined, pass: false })
      }
      continue
    }
    results.push({
      row: target.row,
      scenario: target.scenario,
      description: `ratio ≥ ${target.min.toFixed(2)}`,
      actual: cell.ratio,
      spread: cell.ratioSpread,
      pass: cell.ratio === undefined ? undefined : cell.ratio >= target.min,
    })
  }
  for (const scenario of PEER_TARGET_SCENARIOS) {
    for (const engine of rows.filter((r) => r.kind === 'engine')) {
      const cell = cellOf(engine.id, scenario)
      const peers = rows
        .filter((r) => r.kind === 'peer' && r.storage === engine.storage)
        .map((peer) => cellOf(peer.id, scenario))
        .filter((peer): peer is Cell => peer?.ratio !== undefined)
      if (!cell || peers.length === 0) continue
      const best = peers.reduce((x, y) => ((y.ratio as number) > (x.ratio as number) ? y : x))
      results.push({
        row: engine.id,
        scenario,
        description: `ahead of every ${engine.storage} peer (best: ${best.row} at ${(best.ratio as number).toFixed(2)})`,
        actual: cell.ratio,
        pass: cell.ratio === undefined ? undefined : cell.ratio > (best.ratio as number),
      })
    }
  }
  return results
}

/**
 * Our memory row against the hand-written session, per scenario: the median over rounds of the two rows' req/s in the
 * same round, with its spread. Scenarios in which either row has no runs are left out.
 */
export function overheads(measurements: readonly Measurement[]): Overhead[] {
  const { row, ceiling } = OVERHEAD_ROW
  const results: Overhead[] = []
  for (const scenario of ['a', 'b', 'c'] as const) {
    const rpsByRound = (id: string) =>
      new Map(measurements.filter((m) => m.row === id && m.scenario === scenario).map((m) => [m.round, m.wrk.rps]))
    const ours = rpsByRound(row)
    const theirs = rpsByRound(ceiling)
    const ratios = [...ours].flatMap(([round, rps]) => {
      const other = theirs.get(round)
      return other ? [rps / other] : []
    })
    const spread = spreadOf(ratios)
    if (spread) results.push({ row, ceiling, scenario, ratio: median(ratios), spread })
  }
  return results
}
