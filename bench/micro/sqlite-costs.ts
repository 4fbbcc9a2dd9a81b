/**
 * Where a request's time goes in the SQLite engine, in CPU microseconds per call (process CPU time, so other load on
 * the machine skews it less than wall time), medians of several rounds:
 *
 * - the engine's `load`, and `load` then `commit`, with 64 calls per event-loop turn as a loaded server makes them,
 *   against the memory engine's asynchronous methods;
 * - the SQLite statements underneath, on a connection of their own: `PRAGMA data_version` alone (what checking the
 *   row cache would cost a call that skipped the turn's batch), a point read outside a transaction, an empty
 *   IMMEDIATE transaction, and one upsert in a transaction of 64.
 *
 *   bun bench/micro/sqlite-costs.ts [--rounds 9]
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { SessionChanges, SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { sqliteEngine } from '../../src/engines/sqlite/index.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: 'string', default: '9' } },
  strict: true,
})
const rounds = Number(flags.rounds)

/** How many calls one turn makes: one per connection of the load benchmark. */
const PER_TURN = 64
const HOUR = 3_600_000

/** CPU microseconds per call of `run`, which makes `calls` calls. */
async function cpuPerCall(calls: number, run: () => unknown): Promise<number> {
  const before = process.cpuUsage()
  await run()
  const spent = process.cpuUsage(before)
  return (spent.user + spent.system) / calls
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1] as number
}

const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-sqlite-costs-'))
const path = join(dir, 'sessions.sqlite')
const sqlite = await sqliteEngine({ path })
// The memory engine through its promises, as the plugin drives an engine without synchronous calls.
const memory: SessionEngine = { ...memoryEngine(), sync: undefined }
const now = Date.now()
const ids = Array.from({ length: PER_TURN }, () => crypto.randomUUID().replaceAll('-', ''))
const write = (counter: number, existingOnly: boolean): SessionChanges => ({
  set: { 'int:counter': counter },
  deleted: [],
  expiresAt: now + HOUR + counter,
  existingOnly,
})
for (const engine of [sqlite, memory]) for (const id of ids) await engine.commit(id, write(0, false), now)

const raw = new Database(path, { strict: true })
raw.run('PRAGMA busy_timeout = 0')
const dataVersion = raw.prepare('PRAGMA data_version')
const pointRead = raw.prepare('SELECT data, expires_at FROM sessions WHERE id = ?')
const upsert = raw.prepare(
  'INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?) ' +
    'ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at',
)
let counter = 0
const upsertAll = raw.transaction(() => {
  counter++
  for (const id of ids) upsert.run(id, `{"int:counter":${counter}}`, now + HOUR + counter)
})
const nothing = raw.transaction(() => undefined)

const cases: Record<string, () => Promise<number>> = {}
for (const [name, engine] of [
  ['sqlite', sqlite],
  ['memory (async)', memory],
] as const) {
  cases[`${name}: load, ${PER_TURN} a turn`] = () =>
    cpuPerCall(200 * PER_TURN, async () => {
      for (let turn = 0; turn < 200; turn++) await Promise.all(ids.map((id) => engine.load(id, now)))
    })
  cases[`${name}: load then commit, ${PER_TURN} a turn`] = () =>
    cpuPerCall(100 * PER_TURN, async () => {
      for (let turn = 0; turn < 100; turn++) {
        await Promise.all(
          ids.map(async (id) => {
            await engine.load(id, now)
            await engine.commit(id, write(turn, true), now)
          }),
        )
      }
    })
}
cases['SQLite: PRAGMA data_version'] = () =>
  cpuPerCall(5_000, () => {
    for (let call = 0; call < 5_000; call++) dataVersion.values()
  })
cases['SQLite: point read outside a transaction'] = () =>
  cpuPerCall(5_000, () => {
    for (let call = 0; call < 5_000; call++) pointRead.values(ids[call % PER_TURN] as string)
  })
cases['SQLite: empty IMMEDIATE transaction'] = () =>
  cpuPerCall(2_000, () => {
    for (let call = 0; call < 2_000; call++) nothing.immediate()
  })
cases[`SQLite: upsert in an IMMEDIATE transaction of ${PER_TURN}`] = () =>
  cpuPerCall(200 * PER_TURN, () => {
    for (let call = 0; call < 200; call++) upsertAll.immediate()
  })

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
for (let round = 0; round < rounds; round++) {
  for (const [name, measure] of Object.entries(cases)) samples[name]?.push(await measure())
}
const width = Math.max(...Object.keys(samples).map((name) => name.length))
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(width)}  ${median(values).toFixed(2).padStart(6)} µs CPU  ` +
      `(${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`,
  )
}

raw.close()
await sqlite.close()
await memory.close()
rmSync(dir, { recursive: true, force: true })
