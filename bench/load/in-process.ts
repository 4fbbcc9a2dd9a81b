import type { ExtraResult } from './extras.js'

/** Issue 16's in-process targets: a request through `app.handle` costs at most this many bare Elysia requests. */
const IN_PROCESS_TARGETS = [
  { scenario: 'a', max: 3 },
  { scenario: 'b', max: 2 },
  { scenario: 'c', max: 4 },
] as const

/** One request scenario of bench/micro, as a multiple of a bare Elysia request, with its target. */
export interface InProcessResult {
  readonly scenario: string
  readonly name: string
  /** The paired measurement's median ratio, which the target is judged on. */
  readonly timesBare: number
  readonly quartiles: readonly [number, number]
  readonly pairs: number
  readonly nanoseconds: number
  /** mitata's ratio of averages, for comparison; absent when mitata did not measure the scenario. */
  readonly mitataTimesBare: number | undefined
  /** The same scenario on the hand-written session, paired the same way: the practical ceiling. */
  readonly handwrittenTimesBare: number | undefined
  readonly max: number
  readonly pass: boolean
}

interface MicroDocument {
  readonly results?: readonly { group: string; name: string; timesBaseline?: number }[]
  readonly paired?: readonly {
    key: string
    name: string
    timesBare: number
    quartiles: [number, number]
    pairs: number
    scenarioNs: number
  }[]
}

/** The request scenarios the micro-benchmarks measured in pairs in this run, or none when they did not run. */
export function inProcessResults(extras: readonly ExtraResult[]): InProcessResult[] {
  const micro = extras.find((extra) => extra.entry === 'bench/micro/index.ts' && extra.status === 'ok')
  const document = (micro?.json ?? {}) as MicroDocument
  return IN_PROCESS_TARGETS.flatMap(({ scenario, max }) => {
    const paired = document.paired?.find((p) => p.key === scenario)
    if (paired === undefined) return []
    const mitata = document.results?.find((r) => r.group === 'request' && r.name === paired.name)
    const handwritten = document.paired?.find((p) => p.key === `h${scenario}`)
    return [
      {
        scenario,
        name: paired.name,
        timesBare: paired.timesBare,
        quartiles: paired.quartiles,
        pairs: paired.pairs,
        nanoseconds: paired.scenarioNs,
        mitataTimesBare: mitata?.timesBaseline,
        handwrittenTimesBare: handwritten?.timesBare,
        max,
        pass: paired.timesBare <= max,
      },
    ]
  })
}

/** The in-process table, beside the wrk tables: what one request costs inside the process, with no network. */
export function inProcessSection(results: readonly InProcessResult[]): string[] {
  if (results.length === 0) return []
  const lines = [
    '## In process (bench/micro)',
    '',
    'The same scenarios on the memory engine through `app.handle`, with no network: batches of 500 requests of bare ' +
      'Elysia and of the scenario alternate, and each scenario batch is divided by the mean of the bare batches ' +
      "around it (`bench/micro/paired.ts`). The target is judged on the median of those ratios; mitata's ratio of " +
      'averages, from the micro-benchmarks below, is shown beside it, and so is the same scenario on the ' +
      'hand-written signed session (`bench/servers/handwritten-app.ts`), paired the same way: the practical ceiling.',
    '',
    '| scenario | time per request | × bare (median of pairs) | quartiles | pairs | mitata × bare | ' +
      'hand-written × bare | target | result |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |',
  ]
  for (const r of results) {
    const [low, high] = r.quartiles
    lines.push(
      `| ${r.name} | ${(r.nanoseconds / 1000).toFixed(2)} µs | ${r.timesBare.toFixed(2)} | ` +
        `${low.toFixed(2)}–${high.toFixed(2)} | ${r.pairs} | ${r.mitataTimesBare?.toFixed(2) ?? '–'} | ` +
        `${r.handwrittenTimesBare?.toFixed(2) ?? '–'} | ≤ ${r.max}× | ` +
        `${r.pass ? 'pass' : '**miss**'} |`,
    )
  }
  lines.push('')
  return lines
}
