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
 * 4. Scale, for the memory and the SQLite engine and the hand-written session as a reference: scenario (a) of
 *    bench/load (GET /a reads a session's counter and writes it plus one) under wrk on a server storing 1,000,000 small alive sessions against one storing few. The
 *    requests go round robin to 1,000 sessions (`--scale-hot`); the server with few stores only those, the other
 *    stores them spread evenly among the million (their ids are random, so they sit all over the engine's maps and
 *    B-trees). Both servers run at once on the server core; wrk (`-t1 -c32`, the load benchmark's setting) runs 2 s of
 *    warm-up and 5 s measured on each in turn, three rounds, alternating which goes first. Reported: each round's
 *    req/s and p99 ratio (million over few), their medians and spreads, and each server's counter afterwards.
 *
 *   bun bench/resources/index.ts            a readable table
 *   bun bench/resources/index.ts --json     one JSON document on stdout (progress on stderr):
 *     { meta, memory: [...], sqliteSize, sweep: { rows, fillSeconds, underLoad, idle? },
 *       latency: { client, withoutSweep, duringSweep }, scale: { method, engines: [...], rounds: [...] },
 *       targets: [{ name, value, limit, unit, atLeast?, pass, invalid? }] }
 *   with only the parts run. `pass` is null (and `invalid` says why) when the phase a ratio is taken against lost
 *   requests (the sweep), or requests failed or did not write (scale).
 *
 * Options: --only memory,size,sweep,scale (default all: the parts to run), --scale-sessions <n> (default 1000000),
 * --scale-hot <n> (default 1000), --scale-rounds <n> (default 3), --scale-engines memory,sqlite,handwritten (the last
 * is the hand-written session of bench/servers, measured as the ceiling and held to no target), --client wrk|fetch,
 * --rate <req/s> (fetch, default 1000), --connections <n> (wrk, default 4), --sweep-rows <n> (default 1000000),
 * --baseline-seconds <s> (default 10), --idle-sweep. A run takes about 20 minutes on a quiet 2-core machine: the
 * sweep (about 14 minutes for 1,000,000 sessions under load) and the scale part (about three minutes; it needs
 * wrk) take most of it.
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import type { LatencyStats } from './child-load.js'
import type { ServerCommand } from './child-server.js'
import { IpcChild } from './ipc-child.js'
import { fetchLoadClient, type LoadClient, wrkLoadClient } from './load-clients.js'
import { measureScale, type ScaleResult } from './scale.js'
import { megabytes, pinTo, positiveInteger } from './shared.js'

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
    only: { type: 'string', default: 'memory,size,sweep,scale' },
    'scale-sessions': { type: 'string', default: '1000000' },
    'scale-hot': { type: 'string', default: '1000' },
    'scale-rounds': { type: 'string', default: '3' },
    'scale-engines': { type: 'string', default: 'memory,sqlite,handwritten' },
  },
  strict: true,
})

const MEMORY_SESSIONS = [100_000, 1_000_000] as const
const SIZE_SESSIONS = 100_000
const MEMORY_TARGET_MB = 300
const LATENCY_TARGET_RATIO = 2
const WARM_UP_SECONDS = 3
/**
 * How long the sweep under load may take, in ms, before the run fails: under the closed loop the GC worker gets the
 * core only when requests leave it idle or wait for its batch.
 */
const SLOWEST_SWEEP = 1_800_000
const SERVER_CORE = 0
const CLIENT_CORE = 1
const SCALE_WARM_UP_SECONDS = 2
const SCALE_SECONDS = 5
const SCALE_CONNECTIONS = 32
const SCALE_RATE_TARGET = 0.9
const SCALE_P99_TARGET = 2
const SCALE_ENGINES = ['memory', 'sqlite', 'handwritten'] as const
type ScaleEngine = (typeof SCALE_ENGINES)[number]
const PARTS = ['memory', 'size', 'sweep', 'scale'] as const
type Part = (typeof PARTS)[number]

const sweepRows = positiveInteger('sweep-rows', flags['sweep-rows'])
const baselineSeconds = positiveInteger('baseline-seconds', flags['baseline-seconds'])
const rate = positiveInteger('rate', flags.rate)
const connections = positiveInteger('connections', flags.connections)
const scaleSessions = positiveInteger('scale-sessions', flags['scale-sessions'])
const scaleHot = positiveInteger('scale-hot', flags['scale-hot'])
const scaleRounds = positiveInteger('scale-rounds', flags['scale-rounds'])
const parts = new Set(flags.only.split(',').map((part) => part.trim()))
for (const part of parts) {
  if (!PARTS.includes(part as Part)) throw new Error(`--only takes a list of ${PARTS.join(', ')}, got ${part}`)
}
const runs = (part: Part) => parts.has(part)
const scaleEngines = flags['scale-engines'].split(',').map((name) => name.trim())
for (const name of scaleEngines) {
  if (!SCALE_ENGINES.includes(name as ScaleEngine)) {
    throw new Error(`--scale-engines takes a list of ${SCALE_ENGINES.join(', ')}, got ${name}`)
  }
}
const wrk = Bun.which('wrk')
const clientKind = flags.client ?? (wrk ? 'wrk' : 'fetch')
if (clientKind !== 'wrk' && clientKind !== 'fetch') throw new Error(`--client needs wrk or fetch, got ${clientKind}`)
if ((clientKind === 'wrk' || runs('scale')) && !wrk) throw new Error('wrk is not installed (apt-get install wrk)')

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

/** A target of issue 16: `value` is at most `limit` (below it, for MB), or at least with `atLeast`. */
interface Target {
  name: string
  value: number
  limit: number
  unit: string
  atLeast?: boolean
  pass: boolean | null
  invalid?: string
}

const started = performance.now()

const memory: MemoryResult[] = []
if (runs('memory')) {
  for (const sessions of MEMORY_SESSIONS) {
    progress(`memory engine RSS with ${sessions.toLocaleString('en')} sessions`)
    memory.push(await runChild<MemoryResult>('./child-memory.ts', [String(sessions)], 120_000))
  }
}

let sqliteSize: SizeResult | undefined
if (runs('size')) {
  progress(`SQLite bytes per session (${SIZE_SESSIONS.toLocaleString('en')} sessions committed through the engine)`)
  sqliteSize = await runChild<SizeResult>('./child-sqlite-size.ts', [String(SIZE_SESSIONS)], 180_000)
}

const sweepResult = runs('sweep') ? await measureSweep() : undefined

const scale: ScaleResult[] = []
if (runs('scale') && wrk) {
  const settings = {
    wrk,
    sessions: scaleSessions,
    hot: scaleHot,
    rounds: scaleRounds,
    warmUpSeconds: SCALE_WARM_UP_SECONDS,
    seconds: SCALE_SECONDS,
    connections: SCALE_CONNECTIONS,
    serverCore: SERVER_CORE,
    clientCore: CLIENT_CORE,
  }
  for (const kind of scaleEngines as ScaleEngine[]) scale.push(await measureScale(kind, settings, progress))
}

const targets: Target[] = []
const largest = memory.at(-1)
if (largest) {
  targets.push({
    name: `memory engine RSS at ${largest.sessions.toLocaleString('en')} small sessions`,
    value: megabytes(largest.rss),
    limit: MEMORY_TARGET_MB,
    unit: 'MB',
    pass: megabytes(largest.rss) < MEMORY_TARGET_MB,
  })
}
if (sweepResult) {
  const { withoutSweep, duringSweep } = sweepResult.latency
  const latencyRatio = duringSweep.p99Ms / withoutSweep.p99Ms
  // A baseline that lost requests did not see the server's usual latency, so no ratio against it means anything.
  const lostInBaseline = withoutSweep.dropped + withoutSweep.errors
  const baselineProblem =
    lostInBaseline > withoutSweep.requests * 0.005
      ? `the phase without a sweep lost ${lostInBaseline} requests (errors or dropped): the machine was too busy, run again`
      : undefined
  targets.push({
    name: `p99 latency during a ${sweepRows.toLocaleString('en')}-row sweep over p99 without it`,
    value: Math.round(latencyRatio * 100) / 100,
    limit: LATENCY_TARGET_RATIO,
    unit: '×',
    pass: baselineProblem ? null : latencyRatio <= LATENCY_TARGET_RATIO,
    ...(baselineProblem && { invalid: baselineProblem }),
  })
}
for (const each of scale) {
  const stored = each.stored.many.toLocaleString('en')
  // Requests that failed, or a counter that did not move, mean the rounds did not measure scenario (a).
  const problem =
    each.errors > 0
      ? `${each.errors} requests failed`
      : each.counterAfter.few <= 1 || each.counterAfter.many <= 1
        ? "a hot session's counter did not grow, so the requests did not write"
        : undefined
  // The hand-written session is a reference to compare with, not something the package ships: no target.
  if (each.engine === 'handwritten') {
    if (problem) progress(`the hand-written session's scale rounds are not valid: ${problem}`)
    continue
  }
  targets.push(
    {
      name: `${each.engine} engine (a) req/s with ${stored} sessions stored over with few (median of ${each.rounds.length} rounds)`,
      value: each.rateRatio.median,
      limit: SCALE_RATE_TARGET,
      unit: '×',
      atLeast: true,
      pass: problem ? null : each.rateRatio.median >= SCALE_RATE_TARGET,
      ...(problem && { invalid: problem }),
    },
    {
      name: `${each.engine} engine (a) p99 with ${stored} sessions stored over with few (median of ${each.rounds.length} rounds)`,
      value: each.p99Ratio.median,
      limit: SCALE_P99_TARGET,
      unit: '×',
      pass: problem ? null : each.p99Ratio.median <= SCALE_P99_TARGET,
      ...(problem && { invalid: problem }),
    },
  )
}

const result = {
  meta: {
    bun: Bun.version,
    revision: Bun.revision,
    cores: availableParallelism(),
    pinned: pinTo(0).length > 0,
    date: new Date().toISOString(),
    parts: PARTS.filter(runs),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  },
  ...(memory.length > 0 && { memory }),
  ...(sqliteSize && { sqliteSize }),
  ...(sweepResult && { sweep: sweepResult.sweep, latency: sweepResult.latency }),
  ...(scale.length > 0 && {
    scale: {
      method: `scenario (a) under wrk -t1 -c${SCALE_CONNECTIONS} on core ${CLIENT_CORE}, server on core ${SERVER_CORE}: ${scaleHot.toLocaleString('en')} sessions round robin, stored alone or among ${scaleSessions.toLocaleString('en')}; ${SCALE_WARM_UP_SECONDS} s warm-up and ${SCALE_SECONDS} s measured per run, ${scaleRounds} paired rounds`,
      // Flat records, so latest.md shows them as tables.
      engines: scale.map((each) => ({
        engine: each.engine,
        storedFew: each.stored.few,
        storedMany: each.stored.many,
        fillSeconds: each.fillSeconds,
        rateRatioMedian: each.rateRatio.median,
        rateRatioMin: each.rateRatio.min,
        rateRatioMax: each.rateRatio.max,
        p99RatioMedian: each.p99Ratio.median,
        p99RatioMin: each.p99Ratio.min,
        p99RatioMax: each.p99Ratio.max,
        counterAfterFew: each.counterAfter.few,
        counterAfterMany: each.counterAfter.many,
        errors: each.errors,
      })),
      rounds: scale.flatMap((each) =>
        each.rounds.map((round, index) => ({
          engine: each.engine,
          round: index + 1,
          fewRequestsPerSecond: round.few.requestsPerSecond,
          manyRequestsPerSecond: round.many.requestsPerSecond,
          rateRatio: round.rateRatio,
          fewP50Ms: round.few.p50Ms,
          manyP50Ms: round.many.p50Ms,
          fewP99Ms: round.few.p99Ms,
          manyP99Ms: round.many.p99Ms,
          p99Ratio: round.p99Ratio,
        })),
      ),
    },
  }),
  targets,
}

if (flags.json) console.log(JSON.stringify(result, null, 2))
else printTables()

/** Part 3: the SQLite server with `sweepRows` expired sessions, its latency without and during a sweep. */
async function measureSweep() {
  progress('starting the SQLite server')
  const server = new IpcChild<ServerCommand>([
    ...pinTo(SERVER_CORE),
    process.execPath,
    new URL('./child-server.ts', import.meta.url).pathname,
  ])
  let client: LoadClient | undefined
  let idle: SweepResult | undefined
  let underLoad: SweepResult | undefined
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
      const { type: _, ...swept } = (await server.next('swept', SLOWEST_SWEEP)) as SweepResult & { type: string }
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
    const withoutSweep = await client.measure(() => Bun.sleep(baselineSeconds * 1_000))
    progress('latency while the GC worker sweeps')
    const duringSweep = await client.measure(async () => {
      underLoad = await sweep()
    })
    return {
      sweep: { rows: sweepRows, fillSeconds, underLoad, ...(idle && { idle }) },
      latency: { client: client.description, withoutSweep, duringSweep },
    }
  } finally {
    await client?.close().catch(() => undefined)
    server.send({ type: 'stop' })
    await server.exited(30_000).catch(() => server.kill())
  }
}

function printTables(): void {
  const n = (value: number) => value.toLocaleString('en')
  const mb = (bytes: number) => `${megabytes(bytes).toFixed(1)} MB`
  console.log(`elysia-sessions resource measurements (bun ${Bun.version}, ${result.meta.cores} cores)\n`)
  if (memory.length > 0) {
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
  }
  if (sqliteSize) {
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
  }
  if (sweepResult) {
    const { underLoad, idle } = sweepResult.sweep
    const { client, withoutSweep, duringSweep } = sweepResult.latency
    console.log(`\nSQLite GC sweep of ${n(sweepRows)} expired sessions with sessions.gc() in the GC worker`)
    console.table([
      ...(underLoad ? [{ when: 'under load', ...sweepRow(underLoad) }] : []),
      ...(idle ? [{ when: 'idle server', ...sweepRow(idle) }] : []),
    ])
    console.log(`\nRequest latency on 127.0.0.1 (server pinned to core ${SERVER_CORE}; load: ${client})`)
    console.table([
      { phase: 'without a sweep', ...latencyRow(withoutSweep) },
      { phase: 'during the sweep', ...latencyRow(duringSweep) },
    ])
  }
  if (result.scale) {
    console.log(`\nScale: ${result.scale.method}`)
    console.table(
      scale.flatMap((each) =>
        each.rounds.map((round, index) => ({
          engine: each.engine,
          round: index + 1,
          'few req/s': n(round.few.requestsPerSecond),
          'many req/s': n(round.many.requestsPerSecond),
          'req/s ratio': round.rateRatio,
          'few p99 ms': round.few.p99Ms,
          'many p99 ms': round.many.p99Ms,
          'p99 ratio': round.p99Ratio,
        })),
      ),
    )
  }
  console.log('\nTargets')
  for (const target of targets) {
    const limit =
      target.unit === '×' ? `${target.atLeast ? '>=' : '<='} ${target.limit}×` : `< ${target.limit} ${target.unit}`
    const value = target.unit === '×' ? `${target.value}×` : `${target.value} ${target.unit}`
    const verdict = target.pass === null ? 'INVALID' : target.pass ? 'PASS' : 'MISS'
    const why = target.invalid ? `: ${target.invalid}` : ''
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
