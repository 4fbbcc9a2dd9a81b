import type { LoadRequest } from './open-loop-load.js'

/** When a load's path to its server broke and when it was healed, as `performance.now()` times. */
export interface OutageWindow {
  readonly brokenAt: number
  /** When the path was healed: the proxy restored, or the restarted server answered PING. */
  readonly backAt: number
}

/** What a load saw of one outage; times in ms. */
export interface OutageFigures {
  /** How long the path was broken: from the break until the server was back. */
  readonly brokenFor: number
  /** Requests started while the path was broken. */
  readonly requestsDuring: number
  /** How those were answered, by status (0: the app threw). */
  readonly statusesDuring: Readonly<Record<number, number>>
  /** Requests answered 200 while the path was broken (those answered after it count as recovered). */
  readonly succeededWhileBroken: number
  /** The 99th percentile and the longest time to an answer of a request started while the path was broken. */
  readonly p99During: number
  readonly maxDuring: number
  /** The longest time to an answer of any request of the run, those caught by the break half-way included. */
  readonly maxOverall: number
  /** The most requests in flight at the start of a request while the path was broken. */
  readonly maxInFlightDuring: number
  /** From `backAt` to the first answer 200 of a request started after it; undefined when none came. */
  readonly firstSuccessAfter: number | undefined
  /**
   * From `backAt` to the start of the first request from which on every request was answered 200; 0 when every
   * request started after `backAt` was; undefined when the last one failed.
   */
  readonly steadySuccessAfter: number | undefined
  /** Requests started after `backAt` that did not answer 200. */
  readonly failuresAfter: number
}

/** The figures of `requests` (all answered) around `window`. */
export function outageFigures(requests: readonly LoadRequest[], window: OutageWindow): OutageFigures {
  const { brokenAt, backAt } = window
  const latencyOf = (request: LoadRequest) => (request.answeredAt ?? Number.POSITIVE_INFINITY) - request.startedAt
  const during = requests.filter((request) => request.startedAt >= brokenAt && request.startedAt < backAt)
  const after = requests.filter((request) => request.startedAt >= backAt)
  const statusesDuring: Record<number, number> = {}
  for (const { status } of during) statusesDuring[status] = (statusesDuring[status] ?? 0) + 1
  const latenciesDuring = during.map(latencyOf).toSorted((a, b) => a - b)

  let firstSuccessAfter: number | undefined
  for (const request of after) {
    if (request.status !== 200) continue
    const since = (request.answeredAt as number) - backAt
    if (firstSuccessAfter === undefined || since < firstSuccessAfter) firstSuccessAfter = since
  }
  const lastFailure = after.findLastIndex((request) => request.status !== 200)
  const steadyFrom = after[lastFailure + 1]
  const steadySuccessAfter =
    lastFailure === -1 ? 0 : steadyFrom === undefined ? undefined : steadyFrom.startedAt - backAt

  return {
    brokenFor: backAt - brokenAt,
    requestsDuring: during.length,
    statusesDuring,
    succeededWhileBroken: requests.filter(
      (request) =>
        request.status === 200 && (request.answeredAt as number) >= brokenAt && (request.answeredAt as number) < backAt,
    ).length,
    p99During: percentile(latenciesDuring, 0.99),
    maxDuring: latenciesDuring.at(-1) ?? 0,
    maxOverall: Math.max(0, ...requests.map(latencyOf)),
    maxInFlightDuring: Math.max(0, ...during.map((request) => request.inFlightAtStart)),
    firstSuccessAfter,
    steadySuccessAfter,
    failuresAfter: after.filter((request) => request.status !== 200).length,
  }
}

/** The value below which a `fraction` of the sorted `values` lie (nearest rank); 0 for none. */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number
}

/** One line of figures for the test's output, from which the README quotes. */
export function describeOutage(
  what: string,
  figures: OutageFigures,
  writes: { acknowledged: number; acknowledgedWhileBroken: number; readBack: number; lost: number },
): string {
  const ms = (value: number | undefined) => (value === undefined ? 'never' : `${Math.round(value)} ms`)
  return (
    `${what}: broken for ${ms(figures.brokenFor)}; ${figures.requestsDuring} requests started meanwhile, answered ` +
    `${JSON.stringify(figures.statusesDuring)} (${figures.succeededWhileBroken} answered 200 before it was back); ` +
    `p99 ${ms(figures.p99During)}, max ${ms(figures.maxDuring)} (whole run ${ms(figures.maxOverall)}), ` +
    `at most ${figures.maxInFlightDuring} in flight; first success ${ms(figures.firstSuccessAfter)} and steady ` +
    `success ${ms(figures.steadySuccessAfter)} after it was back (${figures.failuresAfter} failed after); ` +
    `writes acknowledged ${writes.acknowledged} (${writes.acknowledgedWhileBroken} while it was broken); ` +
    `${writes.lost} lost of the ${writes.readBack} acknowledged so far`
  )
}
