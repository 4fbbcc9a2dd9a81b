/**
 * Micro-benchmarks of elysia-sessions with mitata, in one process: cookie signing and verifying, `load` and `commit`
 * of one small session per engine, the memory engine holding 100,000 sessions, and requests through `app.handle`
 * (bare Elysia against the plugin on the memory engine, and against the hand-written session of bench/servers).
 *
 *   bun bench/micro/index.ts                      every group, mitata's own output
 *   bun bench/micro/index.ts --filter request     only the groups whose name matches the regex (case-insensitive)
 *   bun bench/micro/index.ts --json               one JSON document on stdout, progress on stderr
 *   bun bench/micro/index.ts --paired-seconds 8  seconds per request scenario of the paired measurement (default 5)
 *   bun --cpu-prof-md bench/micro/index.ts --profile a [--seconds 10]
 *                                                 one request scenario in a loop, for a profiler (bare, a, b,
 *                                                 c, d, sa, sb, or ha, hb, hc on the hand-written session)
 *
 * Groups: `cookie`, `engine memory`, `engine sqlite`, `engine file`, `engine redis`, `engine postgres`,
 * `engine mysql`, `memory engine holding 100,000 sessions`, `request`. The server engines connect to `REDIS_URL`,
 * `DATABASE_URL` and `MYSQL_URL` (defaults: the README's test servers on 127.0.0.1), each on a key prefix or a fresh
 * database of its own that is removed afterwards; an engine whose server does not answer is skipped and listed.
 *
 * With the `request` group, the request scenarios are then measured once more in pairs (`paired.ts`): batches of bare
 * Elysia and of each scenario alternate, and the median ratio of each batch to the bare ones around it is reported,
 * which holds on a busy machine where mitata's separate averages do not.
 *
 * The `--json` document:
 *   {
 *     meta: { bun, revision, runtime, cpu, date, filter },
 *     results: [{ group, name, avgNs, p50Ns, p99Ns, minNs, maxNs, samples, opsPerSec, timesBaseline? }],
 *     paired: [{ key, name, timesBare, quartiles: [q1, q3], pairs, scenarioNs, bareNs }],
 *     skipped: [{ group, reason }],
 *     errors: [{ group, name, message }]
 *   }
 * Times are nanoseconds per call. mitata batches fast functions, so a sample is the mean of one batch and the
 * percentiles are over batches, not single calls. `timesBaseline` is avgNs over the group's baseline (bare Elysia in
 * `request`).
 */
import { parseArgs } from 'node:util'
import { bench, group, run, summary } from 'mitata'
import { EngineUnavailable } from './engines.js'
import { type Bench, GROUPS, type OpenGroup } from './groups.js'
import { measurePaired, type PairedResult } from './paired.js'
import { openRequestScenarios } from './request-apps.js'

interface Result {
  readonly group: string
  readonly name: string
  readonly avgNs: number
  readonly p50Ns: number
  readonly p99Ns: number
  readonly minNs: number
  readonly maxNs: number
  readonly samples: number
  readonly opsPerSec: number
  timesBaseline?: number
}

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    json: { type: 'boolean', default: false },
    filter: { type: 'string' },
    profile: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    'paired-seconds': { type: 'string', default: '5' },
  },
  strict: true,
})

/** Progress and skips go to stderr, so `--json` leaves stdout to the one document. */
const note = (message: string) => console.error(message)

if (flags.profile !== undefined) {
  await profileScenario(flags.profile, Number(flags.seconds))
} else {
  await runGroups()
}

async function runGroups(): Promise<void> {
  const filter = flags.filter === undefined ? undefined : new RegExp(flags.filter, 'i')
  const selected = GROUPS.filter((each) => !filter || filter.test(each.name))
  if (selected.length === 0) {
    throw new Error(`--filter ${flags.filter} matches no group; groups: ${GROUPS.map((each) => each.name).join(', ')}`)
  }
  const results: Result[] = []
  const skipped: { group: string; reason: string }[] = []
  const errors: { group: string; name: string; message: string }[] = []
  let context: { cpu?: { name: string | null }; runtime?: string | null } = {}
  let printedHeader = false

  for (const { name, open } of selected) {
    let opened: OpenGroup
    try {
      if (flags.json) note(`${name}: preparing`)
      opened = await open()
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      skipped.push({ group: name, reason })
      note(`${name}: skipped (${error instanceof EngineUnavailable ? '' : 'failed to open: '}${reason})`)
      continue
    }
    try {
      register(name, opened.benches)
      const outcome = await run({
        format: flags.json ? 'quiet' : 'mitata',
        throw: false,
        print(line: string) {
          // mitata prints its clock, CPU and runtime on every run: keep the first.
          if (printedHeader && /^(clk|cpu|runtime):/.test(Bun.stripANSI(line))) return
          console.log(line)
        },
      })
      printedHeader = true
      context = outcome.context
      const baselineAvg = outcome.benchmarks.find((trial) => trial.baseline)?.runs[0]?.stats?.avg
      for (const trial of outcome.benchmarks) {
        for (const measured of trial.runs) {
          if (!measured.stats) {
            const message = measured.error instanceof Error ? measured.error.message : String(measured.error)
            errors.push({ group: name, name: measured.name, message })
            note(`${name} / ${measured.name}: failed: ${message}`)
            continue
          }
          const { avg, p50, p99, min, max, samples } = measured.stats
          const result: Result = {
            group: name,
            name: measured.name,
            avgNs: round(avg),
            p50Ns: round(p50),
            p99Ns: round(p99),
            minNs: round(min),
            maxNs: round(max),
            samples: samples.length,
            opsPerSec: Math.round(1e9 / avg),
          }
          if (baselineAvg !== undefined) result.timesBaseline = round(avg / baselineAvg, 2)
          results.push(result)
        }
      }
    } finally {
      await opened.close()
    }
  }

  const paired = selected.some((each) => each.name === 'request') ? await measureRequestsPaired() : []
  for (const { group: name, reason } of skipped) if (!flags.json) console.log(`skipped ${name}: ${reason}`)
  if (flags.json) {
    const meta = {
      bun: Bun.version,
      revision: Bun.revision,
      runtime: context.runtime ?? null,
      cpu: context.cpu?.name ?? null,
      date: new Date().toISOString(),
      filter: flags.filter ?? null,
    }
    console.log(JSON.stringify({ meta, results, paired, skipped, errors }, null, 2))
  }
  if (errors.length > 0) process.exitCode = 1
}

/** The request scenarios against bare Elysia in alternating batches; printed as a table unless `--json`. */
async function measureRequestsPaired(): Promise<PairedResult[]> {
  const seconds = Number(flags['paired-seconds'])
  if (!(seconds > 0)) throw new Error(`--paired-seconds needs a positive number, got ${flags['paired-seconds']}`)
  const { scenarios, close } = await openRequestScenarios()
  try {
    const [bare, ...others] = scenarios
    if (bare?.key !== 'bare') throw new Error('the first request scenario must be bare Elysia')
    note(`request, paired with bare Elysia: ${others.length} scenarios of ${seconds} s`)
    const results = await measurePaired(bare, others, seconds)
    if (!flags.json) {
      console.log('\nrequest scenarios, paired with bare Elysia (median ratio of alternating batches, quartiles):')
      for (const r of results) {
        const [low, high] = r.quartiles
        console.log(`  ${r.name.padEnd(32)} ${r.timesBare.toFixed(2)}× bare  (${low.toFixed(2)}–${high.toFixed(2)})`)
      }
    }
    return results
  } finally {
    await close()
  }
}

function register(name: string, benches: readonly Bench[]): void {
  const add = () => {
    for (const each of benches) {
      const registered = bench(each.name, each.fn)
      if (each.baseline) registered.baseline(true)
    }
  }
  // summary() makes mitata print each benchmark's speed relative to the baseline.
  group(name, () => (benches.some((each) => each.baseline) ? summary(add) : add()))
}

/** Sends one request scenario back to back for `seconds`, so a CPU profile of the process shows its hot path. */
async function profileScenario(key: string, seconds: number): Promise<void> {
  const { scenarios, close } = await openRequestScenarios()
  try {
    const scenario = scenarios.find((each) => each.key === key)
    if (!scenario) {
      throw new Error(`--profile needs one of ${scenarios.map((each) => each.key).join(', ')}; got ${key}`)
    }
    if (!(seconds > 0)) throw new Error(`--seconds needs a positive number, got ${flags.seconds}`)
    // Warm up first, so the profile shows the optimized code rather than the JIT compiling it.
    for (let index = 0; index < 20_000; index++) await scenario.send()
    let sent = 0
    const started = performance.now()
    const deadline = started + seconds * 1_000
    while (performance.now() < deadline) {
      for (let index = 0; index < 1_000; index++) await scenario.send()
      sent += 1_000
    }
    const elapsed = (performance.now() - started) / 1_000
    note(`${scenario.name}: ${sent} requests in ${elapsed.toFixed(1)} s, ${Math.round(sent / elapsed)} req/s`)
  } finally {
    await close()
  }
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
