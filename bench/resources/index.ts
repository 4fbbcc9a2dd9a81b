/**
 * Resource measurements of elysia-sessions, each in fresh child processes (spawned with `process.execPath`) so one
 * measurement's heap never counts in another's:
 *
 * 1. RSS of a process whose memory engine holds 100,000 and 1,000,000 small sessions
 *    (`{ 'int:count': n, 'string:name': 'user-n' }`, committed through the engine), after `Bun.gc(true)`: absolute
 *    and minus the same process's baseline.
 * 2. SQLite bytes per session: file size (WAL included, after a checkpoint) over sessions, for the same sessions.
 * 3. The p99 latency of requests to a server (Bun, 127.0.0.1, SQLite engine) holding 1,000,000 expired sessions,
 *    first without a sweep, then while `sessions.gc()` sweeps them all in the engine's GC worker, and the time that
 *    sweep takes. The server is pinned to core 0 and the load client to core 1 (when taskset exists): wrk when it is
 *    installed, otherwise a fetch loop at a fixed rate (`--client` chooses). With `--idle-sweep`, the same number of
 *    sessions is first swept once on the idle server too (about two minutes more).
 *
 *   bun bench/resources/index.ts            a readable table
 *   bun bench/resources/index.ts --json     one JSON document on stdout (progress on stderr):
 *     { meta, memory: [...], sqliteSize, sweep: { rows, fillSeconds, underLoad, idle? },
 *       latency: { client, withoutSweep, duringSweep },
 *       targets: [{ name, value, limit, unit, pass, invalid? }] }
 *   `pass` is null (and `invalid` says why) when the phase without a sweep lost requests, so no ratio holds.
 *
 * Options: --client wrk|fetch, --rate <req/s> (fetch, default 1000), --connections <n> (wrk, default 4),
 * --sweep-rows <n> (default 1000000), --baseline-seconds <s> (default 10), --idle-sweep. A run takes three to four
 * minutes on a 2-core machine, most of it the sweep (100 to 140 s for 1,000,000 sessions at the engine's present speed).
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import type { LatencyStats } from './child-load.js'
import type { ServerCommand } from './child-server.js'
import { IpcChild } from './ipc-child.js'
import { fetchLoadClient, type LoadClient, wrkLoadClient } from './load-clients.js'
import { megabytes, pinTo } from './shared.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    json: { type: 'boolean', default: false },
    'idle-sweep': { type: 'boolean', default: false },
    client: { type: 'string' },
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '4' },
    'sweep-rows': { type: 'string', default: '1000000' },
    'baseline-seconds': { type: 'string', default: '10' },
  },
  strict: true,
})

const MEMORY_SESSIONS = [100_000, 1_000_000] as const
const SIZE_SESSIONS = 100_000
const MEMORY_TARGET_MB = 300
const LATENCY_TARGET_RATIO = 2
const WARM_UP_SECONDS = 3
const SERVER_CORE = 0

const sweepRows = positiveInteger('sweep-rows', flags['sweep-rows'])
const baselineSeconds = positiveInteger('baseline-seconds', flags['baseline-seconds'])
const rate = positiveInteger('rate', flags.rate)
const connections = positiveInteger('connections', flags.connections)
const wrk = Bun.which('wrk')
const clientKind = flags.client ?? (wrk ? 'wrk' : 'fetch')
if (clientKind !== 'wrk' && clientKind !== 'fetch') throw new Error(`--client needs wrk or fetch, got ${clientKind}`)
if (clientKind === 'wrk' && !wrk) throw new Error('--client wrk: wrk is not installed (apt-get install wrk)')

const progress = (message: string) => console.error(`[resources] ${message}`)

interface MemoryResult {
  sessions: number
  stored: number
  baselineRss: number
  rss: number
  rssDelta: number
  rssBytesPerSession: number
  heap: number
  heapBytesPerSession: number
  commitsPerSecond: number
}

interface SizeResult {
  sessions: number
  files: { main: number; wal: number; shm: number }
  pageSize: number
  pageCount: number
  freePages: number
  totalBytes: number
  bytesPerSession: number
  netBytesPerSession: number
  commitsPerSecond: number
}

interface SweepResult {
  removed: number
  seconds: number
  rowsLeft: number
  mainThreadSweeps: number
  gcErrors: string[]
}

const started = performance.now()

const memory: MemoryResult[] = []
for (const sessions of MEMORY_SESSIONS) {
  progress(`memory engine RSS with ${sessions.toLocaleString('en')} sessions`)
  memory.push(await runChild<MemoryResult>('./child-memory.ts', [String(sessions)], 120_000))
}

progress(`SQLite bytes per session (${SIZE_SESSIONS.toLocaleString('en')} sessions committed through the engine)`)
const sqliteSize = await runChild<SizeResult>('./child-sqlite-size.ts', [String(SIZE_SESSIONS)], 180_000)

progress('starting the SQLite server')
const server = new IpcChild<ServerCommand>([
  ...pinTo(SERVER_CORE),
  process.execPath,
  new URL('./child-server.ts', import.meta.url).pathname,
])
let client: LoadClient | undefined
let idle: SweepResult | undefined
let underLoad: SweepResult | undefined
let withoutSweep: LatencyStats
let duringSweep: LatencyStats
const fillSeconds: number[] = []
try {
  const { port, cookies } = (await server.next('ready', 60_000)) as { port: number; cookies: string[] }
  const fill = async () => {
    progress(`writing ${sweepRows.toLocaleString('en')} expired sessions`)
    server.send({ type: 'fill', count: sweepRows })
    const filled = (await server.next('filled', 300_000)) as { rows: number; seconds: number }
    fillSeconds.push(Math.round(filled.seconds * 10) / 10)
    progress(`  written in ${filled.seconds.toFixed(1)} s`)
  }
  const sweep = async () => {
    server.send({ type: 'sweep' })
    const { type: _, ...swept } = (await server.next('swept', 600_000)) as SweepResult & { type: string }
    progress(`  swept ${swept.removed.toLocaleString('en')} in ${swept.seconds.toFixed(1)} s`)
    return swept
  }

  if (flags['idle-sweep']) {
    await fill()
    progress('sweeping them in the GC worker, no load')
    idle = await sweep()
  }

  await fill()
  const url = `http://127.0.0.1:${port}`
  client =
    clientKind === 'wrk' && wrk
      ? await wrkLoadClient(wrk, url, cookies, connections)
      : await fetchLoadClient(url, cookies, rate)
  progress(`load: ${client.description}`)
  await client.warmUp(WARM_UP_SECONDS)
  progress(`latency without a sweep (${baselineSeconds} s)`)
  withoutSweep = await client.measure(() => Bun.sleep(baselineSeconds * 1_000))
  progress('latency while the GC worker sweeps')
  duringSweep = await client.measure(async () => {
    underLoad = await sweep()
  })
} finally {
  await client?.close().catch(() => undefined)
  server.send({ type: 'stop' })
  await server.exited(30_000).catch(() => server.kill())
}

const largest = memory.at(-1)!
const latencyRatio = duringSweep.p99Ms / withoutSweep.p99Ms
// A baseline that lost requests did not see the server's usual latency, so no ratio against it means anything.
const lostInBaseline = withoutSweep.dropped + withoutSweep.errors
const baselineProblem =
  lostInBaseline > withoutSweep.requests * 0.005
    ? `the phase without a sweep lost ${lostInBaseline} requests (errors or dropped): the machine was too busy, run again`
    : undefined
const targets = [
  {
    name: `memory engine RSS at ${largest.sessions.toLocaleString('en')} small sessions`,
    value: megabytes(largest.rss),
    limit: MEMORY_TARGET_MB,
    unit: 'MB',
    pass: megabytes(largest.rss) < MEMORY_TARGET_MB,
  },
  {
    name: `p99 latency during a ${sweepRows.toLocaleString('en')}-row sweep over p99 without it`,
    value: Math.round(latencyRatio * 100) / 100,
    limit: LATENCY_TARGET_RATIO,
    unit: '×',
    pass: baselineProblem ? null : latencyRatio <= LATENCY_TARGET_RATIO,
    ...(baselineProblem && { invalid: baselineProblem }),
  },
]

const result = {
  meta: {
    bun: Bun.version,
    revision: Bun.revision,
    cores: availableParallelism(),
    pinned: pinTo(0).length > 0,
    date: new Date().toISOString(),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  },
  memory,
  sqliteSize,
  sweep: { rows: sweepRows, fillSeconds, underLoad, ...(idle && { idle }) },
  latency: { client: client?.description, withoutSweep, duringSweep },
  targets,
}

if (flags.json) console.log(JSON.stringify(result, null, 2))
else printTables()

function printTables(): void {
  const n = (value: number) => value.toLocaleString('en')
  const mb = (bytes: number) => `${megabytes(bytes).toFixed(1)} MB`
  console.log(`elysia-sessions resource measurements (bun ${Bun.version}, ${result.meta.cores} cores)\n`)
  console.log('Memory engine, small sessions committed through the engine (after Bun.gc(true))')
  console.table(
    memory.map((each) => ({
      sessions: n(each.sessions),
      RSS: mb(each.rss),
      'baseline RSS': mb(each.baselineRss),
      'RSS - baseline': mb(each.rssDelta),
      'RSS bytes/session': each.rssBytesPerSession,
      'JS heap': mb(each.heap),
      'heap bytes/session': each.heapBytesPerSession,
      'commits/s': n(each.commitsPerSecond),
    })),
  )
  const size = sqliteSize
  console.log(`\nSQLite, ${n(size.sessions)} small sessions committed through the engine, WAL checkpointed`)
  console.table([
    {
      'file + WAL': mb(size.totalBytes),
      WAL: mb(size.files.wal),
      'bytes/session': size.bytesPerSession,
      'bytes/session (minus empty file)': size.netBytesPerSession,
      pages: `${n(size.pageCount)} × ${size.pageSize} B (${n(size.freePages)} free)`,
      'commits/s': n(size.commitsPerSecond),
    },
  ])
  console.log(`\nSQLite GC sweep of ${n(sweepRows)} expired sessions with sessions.gc() in the GC worker`)
  console.table([
    ...(underLoad ? [{ when: 'under load', ...sweepRow(underLoad) }] : []),
    ...(idle ? [{ when: 'idle server', ...sweepRow(idle) }] : []),
  ])
  console.log(`\nRequest latency on 127.0.0.1 (server pinned to core ${SERVER_CORE}; load: ${client?.description})`)
  console.table([
    { phase: 'without a sweep', ...latencyRow(withoutSweep) },
    { phase: 'during the sweep', ...latencyRow(duringSweep) },
  ])
  console.log('\nTargets')
  for (const target of targets) {
    const limit = target.unit === '×' ? `<= ${target.limit}×` : `< ${target.limit} ${target.unit}`
    const value = target.unit === '×' ? `${target.value}×` : `${target.value} ${target.unit}`
    const verdict = target.pass === null ? 'INVALID' : target.pass ? 'PASS' : 'MISS'
    const why = 'invalid' in target ? `: ${target.invalid}` : ''
    console.log(`  ${verdict}  ${target.name}: ${value} (target ${limit})${why}`)
  }
  console.log(`\n(${result.meta.seconds} s)`)
}

function sweepRow(sweep: SweepResult) {
  return {
    seconds: Math.round(sweep.seconds * 100) / 100,
    removed: sweep.removed.toLocaleString('en'),
    'rows/s': Math.round(sweep.removed / sweep.seconds).toLocaleString('en'),
    'rows left': sweep.rowsLeft,
    'main-thread sweeps': sweep.mainThreadSweeps,
    'GC errors': sweep.gcErrors.length,
  }
}

function latencyRow(stats: LatencyStats) {
  return {
    requests: stats.requests,
    'req/s': stats.requestsPerSecond,
    'p50 ms': stats.p50Ms,
    'p90 ms': stats.p90Ms,
    'p99 ms': stats.p99Ms,
    'p99.9 ms': stats.p999Ms,
    'max ms': stats.maxMs,
    errors: stats.errors,
    dropped: stats.dropped,
  }
}

/** Runs a child script to completion and parses the JSON of its last line of stdout. */
async function runChild<T>(script: string, args: string[], timeout: number): Promise<T> {
  const child = Bun.spawn({
    cmd: [process.execPath, new URL(script, import.meta.url).pathname, ...args],
    stdout: 'pipe',
    stderr: 'inherit',
    timeout,
  })
  const [output, code] = await Promise.all([new Response(child.stdout).text(), child.exited])
  const last = output.trim().split('\n').at(-1)
  if (code !== 0 || !last) throw new Error(`${script} ${args.join(' ')} failed with exit code ${code}`)
  return JSON.parse(last) as T
}

function positiveInteger(name: string, value: string | undefined): number {
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`--${name} needs a positive integer, got ${value}`)
  return parsed
}
