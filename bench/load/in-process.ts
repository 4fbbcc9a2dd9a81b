import type { ExtraResult } from './extras.js'

/** Issue 16's in-process targets: a request through `app.handle` costs at most this many bare Elysia requests. */
const IN_PROCESS_TARGETS = [
  { scenario: 'a', prefix: 'a: ', max: 3 },
  { scenario: 'b', prefix: 'b: ', max: 2 },
  { scenario: 'c', prefix: 'c: ', max: 4 },
] as const

/** One request scenario of bench/micro's `request` group, as a multiple of a bare Elysia request, with its target. */
export interface InProcessResult {
  readonly scenario: string
  readonly name: string
  readonly timesBare: number
  readonly nanoseconds: number
  readonly max: number
  readonly pass: boolean
}

interface MicroDocument {
  readonly results?: readonly { group: string; name: string; avgNs: number; timesBaseline?: number }[]
}

/** The request scenarios the micro-benchmarks measured in this run, or none when they did not run. */
export function inProcessResults(extras: readonly ExtraResult[]): InProcessResult[] {
  const micro = extras.find((extra) => extra.entry === 'bench/micro/index.ts' && extra.status === 'ok')
  const results = (micro?.json as MicroDocument | undefined)?.results ?? []
  return IN_PROCESS_TARGETS.flatMap(({ scenario, prefix, max }) => {
    const found = results.find((r) => r.group === 'request' && r.name.startsWith(prefix))
    if (found?.timesBaseline === undefined) return []
    const timesBare = found.timesBaseline
    return [{ scenario, name: found.name, timesBare, nanoseconds: found.avgNs, max, pass: timesBare <= max }]
  })
}

/** The in-process table, beside the wrk tables: what one request costs inside the process, with no network. */
export function inProcessSection(results: readonly InProcessResult[]): string[] {
  if (results.length === 0) return []
  const lines = [
    '## In process (bench/micro)',
    '',
    'The same scenarios on the memory engine through `app.handle`, with no network (mitata, in the micro-benchmarks ' +
      'below): the time of one request as a multiple of a bare Elysia request in the same process.',
    '',
    '| scenario | time per request | × bare Elysia | target | result |',
    '| --- | ---: | ---: | --- | --- |',
  ]
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${(r.nanoseconds / 1000).toFixed(2)} µs | ${r.timesBare.toFixed(2)} | ≤ ${r.max}× | ` +
        `${r.pass ? 'pass' : '**miss**'} |`,
    )
  }
  lines.push('')
  return lines
}
