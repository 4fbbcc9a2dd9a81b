/**
 * The soak (`bun run bench:soak`): mixed session traffic for many minutes on the memory and SQLite engines, sampled
 * once a minute, judged on whether RSS and p99 latency hold steady. Writes bench/results/soak.{md,json} and exits 1
 * when the verdict is a fail. `bun run bench:soak -- --help` lists the options; bench/README.md says what it measures.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { currentLoad, describeMachine } from '../load/machine.js'
import { ensureWrk } from '../load/setup.js'
import { HELP, parseSoakOptions } from './options.js'
import { type SoakResult, soakMarkdown } from './report.js'
import { type EngineSoak, runEngineSoak } from './run-engine.js'
import { type EngineVerdict, judge } from './verdict.js'

const RESULTS_DIR = join(import.meta.dir, '..', 'results')

const options = parseSoakOptions(Bun.argv.slice(2))
if (!options) {
  console.log(HELP)
  process.exit(0)
}

const interruptCleanups = new Set<() => Promise<void>>()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    console.error(`[soak] ${signal}: stopping the server`)
    for (const cleanup of [...interruptCleanups].reverse()) await cleanup().catch(() => {})
    process.exit(130)
  })
}

const wrk = await ensureWrk()
const machine = await describeMachine(wrk, 'not used')
const started = performance.now()
const engines: (EngineSoak & { verdict: EngineVerdict })[] = []
console.error(
  `[soak] ${options.engines.join(', ')}: ${options.minutes} minutes each, about ${options.minutes * options.engines.length} minutes`,
)
for (const engine of options.engines) {
  const soak = await runEngineSoak(engine, options, {
    wrk,
    onMinute: (sample) =>
      console.error(
        `[soak] ${engine} minute ${sample.minute}/${options.minutes}: ${sample.requestsPerSecond} req/s, ` +
          `p99 ${sample.p99Ms.toFixed(2)} ms, RSS ${(sample.rssBytes / 1e6).toFixed(1)} MB (${(sample.settledRssBytes / 1e6).toFixed(1)} after GC), ` +
          `${sample.sessions} live sessions, GC removed ${sample.gcRemoved}, ${sample.errors} failed`,
      ),
    onInterrupt: (cleanup) => {
      interruptCleanups.add(cleanup)
      return () => interruptCleanups.delete(cleanup)
    },
  })
  engines.push({ ...soak, verdict: judge(soak) })
}

const result: SoakResult = {
  machine: { ...machine, loadAverage: { ...machine.loadAverage, end: currentLoad() } },
  options,
  seconds: Math.round((performance.now() - started) / 1000),
  pass: engines.every((soak) => soak.verdict.pass),
  engines,
}
mkdirSync(RESULTS_DIR, { recursive: true })
const markdown = soakMarkdown(result)
writeFileSync(join(RESULTS_DIR, 'soak.md'), `${markdown}\n`)
writeFileSync(join(RESULTS_DIR, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`)
console.log(markdown)
console.error(`[soak] wrote bench/results/soak.md and soak.json: ${result.pass ? 'pass' : 'FAIL'}`)
process.exit(result.pass ? 0 : 1)
