import type { EngineSoak, MinuteSample } from './run-engine.js'
import { REQUEST_KINDS } from './stats.js'

/** How far above the second minute's the last minute's RSS and p99 may be. */
export const GROWTH_LIMIT = 1.1

/** A change in other processes' CPU between the two minutes compared, in cores, past which the comparison is noise. */
const DISTURBED_CORES = 0.25

export interface Check {
  readonly name: string
  readonly pass: boolean
  readonly detail: string
}

export interface EngineVerdict {
  readonly pass: boolean
  readonly checks: readonly Check[]
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const ms = (value: number) => `${value.toFixed(2)} ms`

function growth(
  name: string,
  [second, last]: readonly [MinuteSample, MinuteSample],
  value: (minute: MinuteSample) => number,
  format: (value: number) => string,
): Check {
  const ratio = value(last) / value(second)
  // Other processes' CPU in the two minutes compared tells a reader whether a difference may be noise.
  const change = Math.abs(last.cpu.other - second.cpu.other)
  const others =
    `other processes used ${last.cpu.other.toFixed(2)} and ${second.cpu.other.toFixed(2)} cores` +
    (change > DISTURBED_CORES ? ': disturbed, run it again on a quiet machine' : '')
  return {
    name,
    pass: ratio <= GROWTH_LIMIT,
    detail: `${format(value(last))} in the last minute against ${format(value(second))} in the second (${ratio.toFixed(2)}; limit ${GROWTH_LIMIT.toFixed(2)}; ${others})`,
  }
}

/**
 * Judges one engine's soak: RSS (after a full garbage collection, so that how much garbage happened to wait for the
 * collector does not count) and p99 of the last minute at most 10% above the second minute's (the first is warm-up), no failed request, every kind of request served in every minute, and GC removing expired sessions after
 * the warm-up (so the store's size is held by GC, not by chance).
 */
export function judge(soak: EngineSoak): EngineVerdict {
  const second = soak.minutes[1]
  const last = soak.minutes.at(-1)
  if (!second || !last || second === last) {
    return { pass: false, checks: [{ name: 'minutes', pass: false, detail: 'fewer than three minutes were run' }] }
  }
  const failed = soak.minutes.reduce((sum, minute) => sum + minute.errors, 0)
  const missing = soak.minutes.flatMap((minute: MinuteSample) =>
    REQUEST_KINDS.filter((kind) => minute.served[kind] === 0).map((kind) => `${kind} in minute ${minute.minute}`),
  )
  const removed = soak.minutes.slice(1).reduce((sum, minute) => sum + minute.gcRemoved, 0)
  const checks: Check[] = [
    growth('RSS after a full GC', [second, last], (minute) => minute.settledRssBytes, mb),
    growth('p99 latency', [second, last], (minute) => minute.p99Ms, ms),
    { name: 'failed requests', pass: failed === 0, detail: `${failed.toLocaleString('en')} failed` },
    {
      name: 'all five kinds of request',
      pass: missing.length === 0,
      detail: missing.length === 0 ? 'each served in every minute' : `none served: ${missing.join(', ')}`,
    },
    {
      name: 'GC',
      pass: removed > 0,
      detail: `removed ${removed.toLocaleString('en')} expired sessions after the warm-up minute`,
    },
  ]
  return { pass: checks.every((check) => check.pass), checks }
}
