import type { ExtraResult } from './extras.js'
import { jsonToMarkdown } from './extras.js'
import { inProcessResults, inProcessSection } from './in-process.js'
import type { Machine } from './machine.js'
import { RATIO_TARGETS } from './rows.js'
import type { Cell, Overhead, Spread, TargetResult } from './summary.js'
import { type Measurement, type RowSpec, SCENARIOS } from './types.js'

/** How the run was made, as shown in the report. */
export interface RunSettings {
  readonly durationS: number
  readonly warmupS: number
  readonly rounds: number
  readonly connections: number
  readonly serverCore: number
  readonly wrkCore: number
  readonly full: boolean
  readonly seconds: number
}

export interface ReportInput {
  readonly machine: Machine
  readonly settings: RunSettings
  readonly rows: readonly RowSpec[]
  readonly measurements: readonly Measurement[]
  readonly cells: readonly Cell[]
  readonly targets: readonly TargetResult[]
  readonly overhead: readonly Overhead[]
  readonly notes: readonly string[]
  readonly extras: readonly ExtraResult[]
  readonly chartFile: string
}

/** How each row is set up, in a sentence. */
const CONFIGURATION: Record<string, string> = {
  bare: 'Elysia 1.4 with the three routes returning a constant; no cookie is read.',
  handwritten:
    "What a user writes by hand with no library (bench/servers/handwritten.ts): a `Map` of sessions, a 192-bit id signed with HMAC-SHA256 (`Bun.CryptoHasher`) in a cookie of our shape, checked with `timingSafeEqual`, sent through Elysia's cookie jar (HttpOnly, SameSite=Lax, Path=/, Max-Age one hour) when a session is made; reads slide the expiry. No hooks: each handler calls two plain functions.",
  floor:
    "Bare Elysia's routes plus the two hooks elysia-sessions uses (synchronous, as on the memory engine), doing only what any signed-cookie session must: read the Cookie header and check its HMAC, or sign a new id into Set-Cookie when there is none. No store (bench/servers/floor.ts).",
  'memory-csrf': 'As memory, with `csrf()` after the plugin; every benchmark request is a GET it lets through.',
  'memory-schema':
    'As memory, with the three-key TypeBox schema of bench/schema.ts; the counter kept with `session.get`/`set`.',
  memory: '`memoryEngine()`, default options (1 h timeout, touch at most every 6 min, cookie HttpOnly SameSite=Lax).',
  sqlite: '`sqliteEngine({ path })` on a fresh temporary file (WAL, synchronous NORMAL, as the engine sets up).',
  file: '`fileEngine({ dir })` in a fresh temporary folder, with its default `fsync: true`.',
  redis: '`redisEngine({ url, prefix })` with a prefix of its own, deleted afterwards.',
  postgres: '`postgresEngine({ url })` on a database created for the run and dropped afterwards (migrations at start).',
  'express-memory':
    "Express 5, express-session MemoryStore; resave false, saveUninitialized false, rolling false, no ETag; store touch throttled to once per 6 min after the session's last write or touch (as ours).",
  'express-sqlite':
    'As express-memory with better-sqlite3-session-store on better-sqlite3 12 (WAL, synchronous NORMAL); touch throttled the same way.',
  'fastify-memory':
    'Fastify 5, @fastify/cookie + @fastify/session default store; saveUninitialized false, rolling false, secure false.',
  'hono-memory':
    'Hono 4 on Bun, hono-sessions MemoryStore; cookie sealed with the secret (iron); autoExtendExpiration false so reads do not write.',
  'hono-sqlite': 'As hono-memory with its BunSqliteStore on bun:sqlite (WAL, synchronous NORMAL).',
  'hono-session':
    "Hono 4 on Bun, Hono's official @hono/session 0.2 as its README sets it up (`useSession({ secret, duration: { absolute: 3600 } })`): the whole session in the cookie as a JWE (A256GCM, key from HKDF of the secret); its cookie name `sid` and attributes are fixed. A written session is encrypted and sent again; a read sends nothing.",
  'iron-session':
    'iron-session 9 in a plain `Bun.serve` route handler with `webCookies(request, headers)`, the adapter its README names for Bun: the whole session sealed with iron in the cookie (`ttl` 3600, secure false); `save()` only when the counter changed.',
}

function rowLabel(row: RowSpec): string {
  if (row.kind === 'handwritten') return `_${row.label}_`
  return row.kind === 'engine' ? `**${row.label}**` : row.label
}

function formatRps(rps: number): string {
  return Math.round(rps).toLocaleString('en-US')
}

function formatMs(us: number): string {
  return `${(us / 1000).toFixed(2)} ms`
}

function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? 'n/a' : ratio.toFixed(2)
}

/** `min–max over N rounds`, or a dash for one round (no spread to show). */
function formatSpread(spread: Spread | undefined): string {
  if (!spread || spread.rounds < 2) return '–'
  return `${spread.min.toFixed(2)}–${spread.max.toFixed(2)} (${spread.rounds} rounds)`
}

/** A ratio with its spread in brackets when there was more than one round. */
function ratioWithSpread(ratio: number | undefined, spread: Spread | undefined): string {
  if (ratio === undefined || !spread || spread.rounds < 2) return formatRatio(ratio)
  return `${ratio.toFixed(2)} (${spread.min.toFixed(2)}–${spread.max.toFixed(2)})`
}

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? 'n/a' : pass ? 'pass' : '**miss**'
}

/** The Markdown report of a run: machine, method, chart, targets, one table per scenario, notes, other suites. */
export function markdownReport(input: ReportInput): string {
  const { machine, settings } = input
  const lines: string[] = []
  const roundsText = settings.rounds === 1 ? 'one round' : `${settings.rounds} rounds (medians shown)`
  lines.push(
    '# Load benchmark: elysia-sessions, bare Elysia and peer session libraries',
    '',
    '<!-- Written by `bun run bench` (bench/run.ts); edits are overwritten. -->',
    '',
    `${settings.full ? 'Full run' : 'Partial run'} of ${machine.date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpu}, ` +
      `${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}; Bun ${machine.bun}, Node ${machine.node}, ` +
      `wrk ${machine.wrk}. It took ${Math.round(settings.seconds / 60)} min; the 1-minute load average was ` +
      `${machine.loadAverage.start} at the start and ${machine.loadAverage.end ?? '?'} at the end.`,
    '',
    `Each server runs alone, pinned to core ${settings.serverCore} (\`taskset -c ${settings.serverCore}\`), and wrk on ` +
      `core ${settings.wrkCore} (\`wrk -t1 -c${settings.connections} --latency\` with \`bench/load/session.lua\`) over ` +
      `127.0.0.1: ${settings.warmupS} s of warm-up, then ${settings.durationS} s measured, ${roundsText}. In (a) and (b) ` +
      `each of the ${settings.connections} connections has its own session, made through (a)'s route before the warm-up; ` +
      'in (c) no cookie is sent. Scenarios run one after the other, each over every row (a fresh server and fresh ' +
      "storage per run), with bare Elysia first, in the middle and last of each pass: a ratio is the row's req/s " +
      "divided by bare Elysia's (the median of those three runs) in the same pass. On this kind of shared " +
      `${machine.cores}-core VM identical runs differ by up to 2×: compare ratios within a run, not absolute numbers ` +
      'across runs.',
    '',
    `![Ratios to bare Elysia per row and scenario](${input.chartFile})`,
    '',
  )
  if (input.targets.length) {
    lines.push(
      '## Targets',
      '',
      settings.rounds === 1
        ? 'One round, so each ratio is that round and there is no spread.'
        : `Each ratio is the median over ${settings.rounds} rounds; the spread is the lowest and highest round's.`,
      '',
      '| row | scenario | target | ratio (median) | spread over rounds | result |',
      '| --- | --- | --- | ---: | --- | --- |',
    )
    for (const t of input.targets) {
      lines.push(
        `| ${t.row} | ${t.scenario} | ${t.description} | ${formatRatio(t.actual)} | ${formatSpread(t.spread)} | ${verdict(t.pass)} |`,
      )
    }
    lines.push('')
  }
  lines.push(...overheadSection(input.overhead))
  lines.push(...inProcessSection(inProcessResults(input.extras)))
  for (const scenario of SCENARIOS) {
    const cells = input.cells.filter((c) => c.scenario === scenario.id)
    if (cells.length === 0) continue
    lines.push(
      `## (${scenario.id}) ${scenario.title}`,
      '',
      `\`GET ${scenario.path}\`${scenario.withCookie ? ' with a session cookie' : ' without a cookie'}.`,
      '',
      `| row | runtime | req/s | p50 | p99 | ratio to bare${settings.rounds > 1 ? ' (spread)' : ''} | target | result |`,
      '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |',
    )
    for (const cell of cells) {
      const row = input.rows.find((r) => r.id === cell.row) as RowSpec
      const targets = input.targets.filter((t) => t.row === cell.row && t.scenario === scenario.id)
      const targetText = targets
        .map((t) => (t.description.startsWith('ahead') ? 'ahead of peers' : t.description.replace('ratio ', '')))
        .join('; ')
      const result = targets.length
        ? verdict(
            targets.every((t) => t.pass === true) ? true : targets.some((t) => t.pass === false) ? false : undefined,
          )
        : ''
      const flag = cell.problems.length ? ' ⚠' : ''
      lines.push(
        `| ${rowLabel(row)}${flag} | ${row.runtime === 'node' ? 'Node' : 'Bun'} | ${formatRps(cell.rps)} | ` +
          `${formatMs(cell.p50Us)} | ${formatMs(cell.p99Us)} | ${ratioWithSpread(cell.ratio, cell.ratioSpread)} | ` +
          `${targetText} | ${result} |`,
      )
    }
    lines.push('')
  }
  lines.push('## Noise, checks and notes', '')
  for (const scenario of SCENARIOS) {
    const bare = input.measurements.filter((m) => m.row === 'bare' && m.scenario === scenario.id)
    if (bare.length < 2) continue
    const values = bare.map((m) => m.wrk.rps)
    const spread = (Math.max(...values) / Math.min(...values) - 1) * 100
    lines.push(
      `- Bare Elysia in (${scenario.id}): ${values.map(formatRps).join(', ')} req/s across its runs ` +
        `(first, middle and last of each pass), a spread of ${spread.toFixed(0)} %.`,
    )
  }
  lines.push(...cpuNotes(input))
  const problems = input.cells.flatMap((c) => c.problems.map((p) => `- ⚠ ${c.row} (${c.scenario}): ${p}`))
  if (problems.length) lines.push(...problems)
  else
    lines.push(
      '- Every run passed its route checks (cookie set on the first write; in (a) the counter grew, in (b) it stayed at 1; for sessions kept in the cookie, one more write after (a) counted 2 and (b) sent no cookie) and wrk saw no errors.',
    )
  for (const note of input.notes) lines.push(`- ${note}`)
  lines.push('')
  for (const extra of input.extras) {
    lines.push(`## ${extra.name} (\`${extra.entry}\`)`, '')
    if (extra.status === 'ok') {
      lines.push(`Output of \`bun ${extra.entry} --json\` (${extra.seconds} s), run after the load benchmark.`, '')
      lines.push(...jsonToMarkdown(extra.json))
    } else {
      lines.push(`Not included: ${extra.note}.`, '')
    }
  }
  lines.push('## How the rows are set up', '')
  lines.push(
    'Every server offers `/a` (read the counter, write it plus one), `/b` (read it) and `/c` (as `/a`), answers the ' +
      'counter as text, signs or seals its cookie with the same 48-character secret, and uses a one-hour, HttpOnly, ' +
      'SameSite=Lax cookie. Sources: `bench/servers/` (ours, importing `src/`, and the hand-written session, which does ' +
      'not) and `bench/peers/`. @hono/session and iron-session keep the session in the cookie and store nothing on ' +
      'the server, so no engine is compared with them in "ahead of every peer with the same storage".',
    '',
  )
  for (const row of input.rows) lines.push(`- ${row.label}: ${CONFIGURATION[row.id] ?? ''}`)
  const targetRows = new Set(RATIO_TARGETS.map((t) => t.row))
  const missing = [...targetRows].filter((id) => !input.rows.some((r) => r.id === id))
  if (missing.length) lines.push('', `Rows not in this run, so their targets were not checked: ${missing.join(', ')}.`)
  lines.push('')
  return lines.join('\n')
}

/** Our memory row as a ratio to the hand-written session, per scenario: the overhead the package adds. */
function overheadSection(overhead: readonly Overhead[]): string[] {
  const [first] = overhead
  if (!first) return []
  const lines = [
    '## Overhead over a hand-written session',
    '',
    `The figure to drive down: ${first.row} req/s divided by ${first.ceiling} req/s (the same signed cookie and a ` +
      '`Map`, written by hand with no library) in the same round, median over rounds. 1.00 would be no overhead.',
    '',
    '| scenario | ratio (median) | spread over rounds |',
    '| --- | ---: | --- |',
  ]
  for (const o of overhead) lines.push(`| (${o.scenario}) | ${o.ratio.toFixed(2)} | ${formatSpread(o.spread)} |`)
  lines.push('')
  return lines
}

/** What the CPU readings say about noise: how much other processes and the hypervisor took during measured runs. */
function cpuNotes(input: ReportInput): string[] {
  const serverBacked = new Set(
    input.rows.filter((r) => r.storage === 'redis' || r.storage === 'postgres').map((r) => r.id),
  )
  const runs = input.measurements.filter((m) => m.cpu && !serverBacked.has(m.row))
  if (runs.length === 0) return []
  const mean = (values: number[]) => values.reduce((x, y) => x + y, 0) / values.length
  const busy = runs.filter((m) => m.cpu.other >= 0.3).map((m) => `${m.row} (${m.scenario}) ${m.cpu.other.toFixed(2)}`)
  const lines = [
    `- CPU during measured runs (in cores, from /proc): the server used ${mean(runs.map((m) => m.cpu.server)).toFixed(2)} ` +
      `and wrk ${mean(runs.map((m) => m.cpu.wrk)).toFixed(2)} on average; other processes ` +
      `${mean(runs.map((m) => m.cpu.other)).toFixed(2)} and the hypervisor's steal ` +
      `${mean(runs.map((m) => m.cpu.steal)).toFixed(2)} (the Redis and PostgreSQL rows left out, as their database ` +
      'server counts as another process).',
  ]
  if (busy.length) lines.push(`- Runs during which other processes used 0.3 cores or more: ${busy.join(', ')}.`)
  const repeated = input.measurements.filter((m) => m.repeated)
  if (repeated.length) {
    lines.push(
      `- Repeated once because other processes used half a core or more during the first try (the quieter try is ` +
        `kept; both are in the JSON): ${repeated.map((m) => `${m.row} (${m.scenario})`).join(', ')}.`,
    )
  }
  return lines
}
