import type { Machine } from '../load/machine.js'
import type { SoakOptions } from './options.js'
import type { EngineSoak, MinuteSample } from './run-engine.js'
import { REQUEST_KINDS } from './stats.js'
import type { EngineVerdict } from './verdict.js'

/** Everything one soak run found, as written to bench/results/soak.json. */
export interface SoakResult {
  readonly machine: Machine
  readonly options: SoakOptions
  readonly seconds: number
  readonly pass: boolean
  readonly engines: readonly (EngineSoak & { readonly verdict: EngineVerdict })[]
}

const ENGINE_LABELS = { memory: 'memory engine', sqlite: 'SQLite engine (GC in its worker)' } as const

const whole = (value: number) => Math.round(value).toLocaleString('en')
const mb = (bytes: number) => (bytes / 1e6).toFixed(1)
const twoPlaces = (value: number) => value.toFixed(2)

function minuteRow(minute: MinuteSample, withFile: boolean): string {
  const cells = [
    String(minute.minute),
    whole(minute.requestsPerSecond),
    twoPlaces(minute.p50Ms),
    twoPlaces(minute.p99Ms),
    twoPlaces(minute.maxMs),
    whole(minute.errors),
    mb(minute.rssBytes),
    mb(minute.settledRssBytes),
    mb(minute.liveHeapBytes),
    whole(minute.sessions),
    whole(minute.gcRemoved),
    ...(withFile ? [`${mb(minute.sqliteBytes?.file ?? 0)} / ${mb(minute.sqliteBytes?.wal ?? 0)}`] : []),
    `${twoPlaces(minute.cpu.server)} / ${twoPlaces(minute.cpu.wrk)} / ${twoPlaces(minute.cpu.other)}`,
  ]
  return `| ${cells.join(' | ')} |`
}

function engineSection(soak: SoakResult['engines'][number]): string[] {
  const withFile = soak.engine === 'sqlite'
  const headers = [
    'minute',
    'req/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'failed',
    'RSS MB',
    'RSS after GC MB',
    'live heap MB',
    'live sessions',
    'GC removed',
    ...(withFile ? ['file / WAL MB'] : []),
    'cores: server / wrk / other',
  ]
  const totals = Object.fromEntries(
    REQUEST_KINDS.map((kind) => [kind, soak.minutes.reduce((sum, minute) => sum + minute.served[kind], 0)]),
  )
  return [
    `## ${ENGINE_LABELS[soak.engine]}: ${soak.verdict.pass ? 'pass' : 'FAIL'}`,
    '',
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...soak.minutes.map((minute) => minuteRow(minute, withFile)),
    '',
    `Requests served: ${REQUEST_KINDS.map((kind) => `${whole(totals[kind] ?? 0)} ${kind}`).join(', ')}.`,
    '',
    ...soak.verdict.checks.map((check) => `- ${check.pass ? 'pass' : '**FAIL**'}: ${check.name}: ${check.detail}`),
    '',
  ]
}

/** bench/results/soak.md: the run's settings, one table of minutes per engine, and the verdict. */
export function soakMarkdown(result: SoakResult): string {
  const { machine, options } = result
  const failed = result.engines.filter((soak) => !soak.verdict.pass).map((soak) => soak.engine)
  return [
    '# Soak',
    '',
    `${machine.date.slice(0, 10)}, ${machine.cpu}, ${machine.cores} cores, Bun ${machine.bun}, wrk ${machine.wrk}; ` +
      `${options.minutes} minutes per engine, ${Math.round(result.seconds / 60)} minutes in all. Load average ` +
      `${machine.loadAverage.start} at the start, ${machine.loadAverage.end ?? '?'} at the end.`,
    '',
    `**Verdict: ${result.pass ? 'pass' : `FAIL (${failed.join(', ')})`}.** Pass: on each engine, RSS and p99 latency ` +
      'in the last minute at most 10% above the second minute’s (the first minute is warm-up), no failed request, ' +
      'all five kinds of request served in every minute, and GC removing expired sessions.',
    '',
    `The server (\`bench/soak/server.ts\`) runs alone on core 0; wrk, 1 thread and ${options.connections} connections, ` +
      'runs on core 1 for one minute at a time with `bench/soak/traffic.lua`. Of every 20 requests, 10 read a session, ' +
      '5 write it, 2 make a new one, 2 regenerate its id and 1 destroys it, over a pool of at most 2,000 live ' +
      'sessions whose overflow is abandoned (each minute starts with an empty pool). Sessions expire ' +
      `${options.timeoutMs / 1000} s after their last use and GC sweeps every ${options.gcIntervalMs / 1000} s. ` +
      'After each minute: RSS is VmRSS of the server process as found; then the server collects garbage fully (with ' +
      'no load running) and “RSS after GC” and the live heap (JavaScriptCore’s heap size) are read: the verdict ' +
      'compares RSS after GC, which a leak raises and garbage waiting for the collector does not. Live sessions is ' +
      '`sessions.count()`, GC removed counts what that minute’s sweeps removed (the session GC, not the JS one). ' +
      'Latency is wrk’s, from sending a request to its answer. “Other” cores are used by processes besides the ' +
      'server and wrk: noise.',
    '',
    ...result.engines.flatMap(engineSection),
  ].join('\n')
}
