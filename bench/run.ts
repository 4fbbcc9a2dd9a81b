/**
 * The load benchmark (`bun run bench`): every row's server on core 0, wrk on core 1, over 127.0.0.1, for the three
 * scenarios; then bench/micro and bench/resources when they exist. Writes bench/results/latest.{md,svg,json} for a
 * full run and partial.* for a partial one. `bun run bench -- --help` lists the options.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { ratioChart } from './load/chart.js'
import { cpuSnapshot, cpuUse } from './load/cpu.js'
import { type ExtraResult, runExtra } from './load/extras.js'
import { inProcessResults } from './load/in-process.js'
import { currentLoad, describeMachine, type Machine } from './load/machine.js'
import { markdownReport, type RunSettings } from './load/report.js'
import { ROWS } from './load/rows.js'
import { startServer } from './load/server.js'
import { checkAfter, checkBefore, createSessions } from './load/sessions.js'
import { ensurePeerModules, ensureWrk, findNode } from './load/setup.js'
import { type PreparedStorage, prepareStorage, probeServices } from './load/storage.js'
import { evaluateTargets, overheads, summarize } from './load/summary.js'
import { type Measurement, type RowSpec, SCENARIOS, type Scenario, type ScenarioId } from './load/types.js'
import { runWrk } from './load/wrk.js'

const BENCH_DIR = import.meta.dir
const ROOT = join(BENCH_DIR, '..')
const RESULTS_DIR = join(BENCH_DIR, 'results')
const SERVER_CORE = 0
const WRK_CORE = 1
/** Signs (or seals) every row's cookie; only ever used on loopback by these throwaway servers. */
const SECRET = 'elysia-sessions-benchmark-secret-0123456789abcdef'
const DEFAULTS = { duration: 5, warmup: 2, rounds: 3, connections: 32 }

const HELP = `bun run bench [-- options]

  --rows LIST        rows to run, comma-separated (default: all): ${ROWS.map((r) => r.id).join(', ')}
  --scenarios LIST   scenarios to run (default: a,b,c)
  --duration S       measured seconds per run (default ${DEFAULTS.duration})
  --warmup S         warm-up seconds per run (default ${DEFAULTS.warmup})
  --rounds N         rounds; medians are reported (default ${DEFAULTS.rounds})
  --connections N    wrk connections, and sessions, per run (default ${DEFAULTS.connections})
  --out NAME         results file name (default: latest for a full run, partial otherwise)
  --extras           also run bench/micro and bench/resources on a partial run
  --skip-extras      never run bench/micro and bench/resources
  --render FILE      measure nothing: redraw FILE.md and FILE.svg from a saved FILE.json

A run with none of --rows, --scenarios, --duration, --warmup, --rounds, --connections is a full run.`

function parseOptions() {
  const { values } = parseArgs({
    args: Bun.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      rows: { type: 'string' },
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' },
      extras: { type: 'boolean', default: false },
      'skip-extras': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  const positive = (name: keyof typeof DEFAULTS, integer: boolean): number => {
    const raw = values[name]
    if (raw === undefined) return DEFAULTS[name]
    const value = Number(raw)
    if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive number`)
    return value
  }
  const list = <T extends string>(raw: string | undefined, known: readonly T[], name: string): T[] => {
    if (raw === undefined) return [...known]
    const picked = raw.split(',').map((item) => item.trim())
    const unknown = picked.filter((item) => !known.includes(item as T))
    if (unknown.length) throw new Error(`unknown ${name}: ${unknown.join(', ')} (known: ${known.join(', ')})`)
    return known.filter((item) => picked.includes(item))
  }
  const full = ['rows', 'scenarios', 'duration', 'warmup', 'rounds', 'connections'].every(
    (name) => values[name as keyof typeof values] === undefined,
  )
  return {
    rows: list(
      values.rows,
      ROWS.map((r) => r.id),
      'rows',
    ),
    scenarios: list(values.scenarios, ['a', 'b', 'c'] as ScenarioId[], 'scenarios'),
    duration: positive('duration', true),
    warmup: positive('warmup', true),
    rounds: positive('rounds', true),
    connections: positive('connections', true),
    full,
    out: values.out ?? (full ? 'latest' : 'partial'),
    extras: !values['skip-extras'] && (full || values.extras),
    render: values.render,
  }
}

/** What to undo when the run is interrupted: the running server, its storage, the temporary folder. */
const cleanups = new Set<() => Promise<void>>()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    console.log(`\n${signal}: stopping the server and removing its storage`)
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => {})
    process.exit(130)
  })
}

async function main(): Promise<void> {
  const options = parseOptions()
  if (options.render) {
    const path = options.render
    const results = JSON.parse(readFileSync(path, 'utf8')) as Results
    writeResults(results, path.replace(/\.json$/, ''))
    return
  }
  const started = performance.now()
  const wrk = await ensureWrk()
  await ensurePeerModules(BENCH_DIR)
  const node = await findNode()
  const services = await probeServices()
  const machine = await describeMachine(wrk, node.version)
  const notes: string[] = []
  if (!options.full) notes.push('A partial run: not every row, scenario or the default duration.')
  if (machine.loadAverage.start > 0.5) {
    notes.push(
      `The machine was not idle: a 1-minute load average of ${machine.loadAverage.start} when the run started ` +
        '(other processes competed for the cores), so absolute numbers are lower and noisier than on a quiet machine.',
    )
  }
  if (machine.cores < 2)
    notes.push(`Only ${machine.cores} core: server and wrk share it, so numbers are not comparable.`)

  const rows = ROWS.filter((row) => options.rows.includes(row.id)).filter((row) => {
    const why = services.unavailable[row.storage]
    if (why) notes.push(`Row ${row.id} skipped: ${why}.`)
    return !why
  })
  const scenarios = SCENARIOS.filter((s) => options.scenarios.includes(s.id))
  const others = rows.filter((row) => row.id !== 'bare')
  const bare = rows.find((row) => row.id === 'bare')
  if (!bare) notes.push('Bare Elysia was not run, so there are no ratios.')

  const plan: { round: number; scenario: Scenario; row: RowSpec }[] = []
  for (let round = 1; round <= options.rounds; round++) {
    // Later rounds start the pass at another row, so no row is always measured right after the same one.
    const shift = (round - 1) % Math.max(1, others.length)
    const order = [...others.slice(shift), ...others.slice(0, shift)]
    for (const scenario of scenarios) {
      // Bare Elysia first, in the middle and last: the median of its three runs is the pass's baseline.
      const half = Math.ceil(order.length / 2)
      const pass = bare
        ? order.length
          ? [bare, ...order.slice(0, half), bare, ...order.slice(half), bare]
          : [bare]
        : order
      for (const row of pass) plan.push({ round, scenario, row })
    }
  }
  const estimate = (plan.length * (options.warmup + options.duration + 1.5)) / 60
  console.log(
    `${plan.length} runs of ${options.warmup} s + ${options.duration} s: about ${estimate.toFixed(1)} min` +
      ` (plus up to ${MAX_RETRIES} repeats of disturbed runs)` +
      `${options.extras ? ', then bench/micro and bench/resources' : ''}. Load average now ${machine.loadAverage.start}.`,
  )

  const tmp = mkdtempSync(join(tmpdir(), 'elysia-sessions-bench-'))
  cleanups.add(async () => rmSync(tmp, { recursive: true, force: true }))
  const measurements: Measurement[] = []
  try {
    let retriesLeft = MAX_RETRIES
    for (const [index, step] of plan.entries()) {
      const context = { tmp, services, wrk, node: node.path, options, notes }
      const label = `[${index + 1}/${plan.length}]`
      const attempt = () =>
        measure(step, index + 1, context).catch((error: Error) => {
          // One broken server (src/ may be mid-change) must not lose the rest of the run.
          const message = `Row ${step.row.id} (${step.scenario.id}) failed and has no numbers: ${firstLines(error.message)}`
          console.log(`${label} ${message}`)
          notes.push(message)
          return undefined
        })
      let measurement = await attempt()
      if (!measurement) continue
      logMeasurement(label, measurement)
      // Another process took a real share of the machine during the run: run it once more, keep the quieter one.
      if (disturbed(measurement, step.row) && retriesLeft > 0) {
        retriesLeft--
        const again = await attempt()
        if (again) {
          logMeasurement(`${label} again`, again)
          const [kept, dropped] = again.cpu.other < measurement.cpu.other ? [again, measurement] : [measurement, again]
          measurement = { ...kept, repeated: { rps: dropped.wrk.rps, otherCpu: dropped.cpu.other } }
        }
      }
      measurements.push(measurement)
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }

  const extras: ExtraResult[] = []
  const skip = options.extras ? undefined : 'skipped on a partial run (pass --extras to include it)'
  extras.push(await runExtra(ROOT, 'Micro-benchmarks', 'bench/micro/index.ts', skip))
  extras.push(await runExtra(ROOT, 'Resources', 'bench/resources/index.ts', skip))
  for (const extra of extras) if (extra.status !== 'ok') console.log(`${extra.name}: ${extra.note}`)

  const seconds = (performance.now() - started) / 1000
  const results: Results = {
    machine: { ...machine, loadAverage: { ...machine.loadAverage, end: currentLoad() } },
    settings: {
      durationS: options.duration,
      warmupS: options.warmup,
      rounds: options.rounds,
      connections: options.connections,
      serverCore: SERVER_CORE,
      wrkCore: WRK_CORE,
      full: options.full,
      seconds,
    },
    scenarios: scenarios.map((s) => s.id),
    rows,
    measurements,
    notes,
    extras,
  }
  writeResults(results, join(RESULTS_DIR, options.out))
}

/** What a run measured: everything the report is made from, saved as <name>.json. */
interface Results {
  readonly machine: Machine
  readonly settings: RunSettings
  readonly scenarios: ScenarioId[]
  readonly rows: readonly RowSpec[]
  readonly measurements: readonly Measurement[]
  readonly notes: readonly string[]
  readonly extras: readonly ExtraResult[]
}

/** Writes <name>.json (first, so a failure to draw loses no measurement), then <name>.md and <name>.svg. */
function writeResults(results: Results, base: string): void {
  const { machine, settings, rows } = results
  const cells = summarize(results.measurements, rows)
  const targets = evaluateTargets(cells, rows, results.scenarios)
  const overhead = overheads(results.measurements)
  mkdirSync(dirname(base), { recursive: true })
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...results, cells, targets, overhead }, null, 2)}\n`)
  const subtitle =
    `${machine.cpu}, ${machine.cores} cores; Bun ${machine.bun.split(' ')[0]}, Node ${machine.node}; ` +
    `${machine.date.slice(0, 10)}; server on core ${settings.serverCore}, wrk -t1 -c${settings.connections} on core ` +
    `${settings.wrkCore}, ${settings.durationS} s per run`
  writeFileSync(`${base}.svg`, ratioChart(cells, rows, subtitle))
  writeFileSync(
    `${base}.md`,
    markdownReport({ ...results, cells, targets, overhead, chartFile: `${basename(base)}.svg` }),
  )
  console.log(`\nwrote ${base}.json, ${base}.md and ${base}.svg (${(settings.seconds / 60).toFixed(1)} min of running)`)
  for (const t of targets) {
    const spread = t.spread && t.spread.rounds > 1 ? ` (${t.spread.min.toFixed(2)}–${t.spread.max.toFixed(2)})` : ''
    console.log(
      `  ${t.pass ? 'pass' : 'MISS'}  ${t.row} (${t.scenario}) ${t.description}: ${t.actual?.toFixed(2) ?? 'n/a'}${spread}`,
    )
  }
  for (const o of overhead) console.log(`  ${o.row} ÷ ${o.ceiling} (${o.scenario}): ${o.ratio.toFixed(2)}`)
  for (const r of inProcessResults(results.extras)) {
    console.log(`  ${r.pass ? 'pass' : 'MISS'}  in process (${r.scenario}) ≤ ${r.max}× bare: ${r.timesBare.toFixed(2)}`)
  }
}

/** At most this many runs are repeated because other processes disturbed them, to bound the run's length. */
const MAX_RETRIES = 8
/** Cores other processes may use during a run before it counts as disturbed. */
const DISTURBED_CPU = 0.5

/** Whether other processes used much CPU during the run; for Redis and PostgreSQL rows their server is one of them. */
function disturbed(measurement: Measurement, row: RowSpec): boolean {
  return row.storage !== 'redis' && row.storage !== 'postgres' && measurement.cpu.other >= DISTURBED_CPU
}

function logMeasurement(label: string, m: Measurement): void {
  const w = m.wrk
  console.log(
    `${label} (${m.scenario}) ${m.row.padEnd(15)} ${Math.round(w.rps).toLocaleString('en-US').padStart(7)} req/s  ` +
      `p50 ${(w.p50Us / 1000).toFixed(2)} ms  p99 ${(w.p99Us / 1000).toFixed(2)} ms  ` +
      `cpu: server ${m.cpu.server.toFixed(2)}, others ${m.cpu.other.toFixed(2)}` +
      `${m.check.ok ? '' : `  CHECK FAILED: ${m.check.detail}`}`,
  )
}

/** The error lines of a message (or else its first lines), on one line, for the report. */
function firstLines(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const errors = lines.filter((line) => /^[A-Za-z]*Error\b/.test(line))
  return [lines[0], ...(errors.length ? errors : lines.slice(1, 4))].join(' / ').slice(0, 500)
}

interface MeasureContext {
  readonly tmp: string
  readonly services: Awaited<ReturnType<typeof probeServices>>
  readonly wrk: string
  readonly node: string
  readonly options: ReturnType<typeof parseOptions>
  readonly notes: string[]
}

/** One run: fresh storage and server, route checks, sessions, warm-up, the measured run, checks, cleanup. */
async function measure(
  step: { round: number; scenario: Scenario; row: RowSpec },
  order: number,
  context: MeasureContext,
): Promise<Measurement> {
  const { row, scenario, round } = step
  const { options } = context
  const hasSessions = row.kind === 'engine' || row.kind === 'peer' || row.kind === 'handwritten'
  const storage: PreparedStorage = await prepareStorage(row.storage, context.tmp, context.services)
  cleanups.add(storage.cleanup)
  try {
    const runtime = row.runtime === 'node' ? context.node : process.execPath
    const server = await startServer(
      [runtime, join(BENCH_DIR, row.script)],
      { ...row.env, ...storage.env, SESSION_SECRET: SECRET },
      SERVER_CORE,
    )
    cleanups.add(server.stop)
    try {
      const detail: string[] = []
      let ok = true
      let cookieFile: string | undefined
      let cookies: string[] = []
      try {
        await checkBefore(server.url, hasSessions)
        if (scenario.withCookie) {
          cookies = await createSessions(server.url, options.connections, hasSessions)
          cookieFile = join(context.tmp, `cookies-${order}.txt`)
          writeFileSync(cookieFile, `${cookies.join('\n')}\n`)
        }
      } catch (error) {
        ok = false
        detail.push(`before the run: ${(error as Error).message}`)
      }
      const url = `${server.url}${scenario.path}`
      const wrkOptions = { wrk: context.wrk, url, cookieFile, connections: options.connections, core: WRK_CORE }
      const startedAt = new Date().toISOString()
      const warmup = await runWrk({ ...wrkOptions, seconds: options.warmup })
      const before = cpuSnapshot(server.pid)
      const result = await runWrk({ ...wrkOptions, seconds: options.duration })
      const cpu = cpuUse(before, cpuSnapshot(server.pid), result.cpuSeconds)
      if (ok && hasSessions && scenario.withCookie && cookies[0]) {
        try {
          detail.push(await checkAfter(server.url, cookies[0], scenario.id === 'a', row.storage === 'cookie'))
        } catch (error) {
          ok = false
          detail.push(`after the run: ${(error as Error).message}`)
        }
      }
      return {
        row: row.id,
        scenario: scenario.id,
        round,
        order,
        startedAt,
        warmupRps: Math.round(warmup.rps),
        wrk: result,
        cpu,
        check: { ok, detail: detail.join('; ') },
      }
    } finally {
      await server.stop()
      cleanups.delete(server.stop)
    }
  } finally {
    cleanups.delete(storage.cleanup)
    await storage.cleanup().catch((error) => {
      const message = `Could not remove the storage of ${row.id} (${scenario.id}): ${(error as Error).message}`
      console.warn(message)
      context.notes.push(message)
    })
  }
}

await main()
