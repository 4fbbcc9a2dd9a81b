import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LatencyStats, LoadCommand } from './child-load.js'
import { IpcChild } from './ipc-child.js'
import { pinTo } from './shared.js'

/** Drives a steady stream of requests at the server and measures their latency over chosen spans of time. */
export interface LoadClient {
  /** How the load is made, for the report. */
  readonly description: string
  /** Sends requests for `seconds` without recording them, so both processes are warm. */
  warmUp(seconds: number): Promise<void>
  /** The latency of the requests answered while `during` runs. */
  measure(during: () => Promise<void>): Promise<LatencyStats>
  close(): Promise<void>
}

/** Where the load client runs: the core the server does not use (when there are two and taskset exists). */
const CLIENT_CORE = 1

/** A fetch loop in a child process at `rate` requests per second, alternating reads and increments. */
export async function fetchLoadClient(url: string, cookies: readonly string[], rate: number): Promise<LoadClient> {
  const pin = pinTo(CLIENT_CORE)
  const child = new IpcChild<LoadCommand>([
    ...pin,
    process.execPath,
    new URL('./child-load.ts', import.meta.url).pathname,
  ])
  await child.next('listening', 10_000)
  child.send({ type: 'start', url, cookies: [...cookies], rate })
  let phases = 0
  return {
    description: `fetch loop in a child process${pin.length > 0 ? ` pinned to core ${CLIENT_CORE}` : ''}, ${rate} req/s, open loop, GET /read and POST /increment alternating over ${cookies.length} sessions`,
    async warmUp(seconds) {
      await Bun.sleep(seconds * 1_000)
    },
    async measure(during) {
      const name = `phase-${phases++}`
      child.send({ type: 'phase', name })
      await during()
      child.send({ type: 'phase', name: null })
      // Let the requests sent during the phase come back before asking for their latency.
      await Bun.sleep(300)
      child.send({ type: 'report' })
      const { phases: report } = (await child.next('report', 10_000)) as { phases: Record<string, LatencyStats> }
      const stats = report[name]
      if (!stats) throw new Error(`the load client recorded no phase ${name}`)
      return stats
    },
    async close() {
      child.send({ type: 'stop' })
      await child.exited(10_000)
    },
  }
}

/** What the wrk script's `done` prints: counts, and latencies in microseconds. */
interface WrkSummary {
  readonly requests: number
  readonly errors: number
  readonly durationUs: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

/** The wrk script: requests alternate GET /read and POST /increment over `cookies`; `done` prints JSON stats. */
function wrkScript(cookies: readonly string[]): string {
  return `
local cookies = { ${cookies.map((cookie) => JSON.stringify(cookie)).join(', ')} }
local counter = 0
request = function()
  counter = counter + 1
  local headers = { ["Cookie"] = cookies[(counter % #cookies) + 1] }
  if counter % 2 == 0 then return wrk.format("POST", "/increment", headers) end
  return wrk.format("GET", "/read", headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"errors":%d,"durationUs":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout + e.status, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`
}

/** wrk pinned to the client core, `connections` connections on one thread: a closed loop, as fast as the server answers. */
export async function wrkLoadClient(
  wrk: string,
  url: string,
  cookies: readonly string[],
  connections: number,
): Promise<LoadClient> {
  const pin = pinTo(CLIENT_CORE)
  const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-resources-wrk-'))
  const script = join(dir, 'sessions.lua')
  writeFileSync(script, wrkScript(cookies))

  /** Runs wrk until `during` resolves, then stops it with SIGINT (wrk then prints its summary) and parses `done`. */
  const run = async (during: () => Promise<void>): Promise<LatencyStats> => {
    const child = Bun.spawn({
      cmd: [...pin, wrk, '-t1', `-c${connections}`, '-d3600s', '--timeout', '10s', '-s', script, url],
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const output = new Response(child.stdout).text()
    try {
      // wrk connects before it sends; give it a moment so the span measured is all load.
      await Bun.sleep(200)
      await during()
    } finally {
      // Also when `during` fails: wrk would otherwise load the core for the rest of its hour.
      child.kill('SIGINT')
    }
    const [text, code] = await Promise.all([output, child.exited])
    const line = text.split('\n').find((each) => each.startsWith('WRK_JSON '))
    if (!line)
      throw new Error(`wrk printed no summary (exit ${code}): ${text}${await new Response(child.stderr).text()}`)
    const parsed = JSON.parse(line.slice('WRK_JSON '.length)) as WrkSummary
    const ms = (us: number) => Math.round(us) / 1_000
    const seconds = parsed.durationUs / 1e6
    return {
      requests: parsed.requests,
      errors: parsed.errors,
      dropped: 0,
      seconds: Math.round(seconds * 1_000) / 1_000,
      requestsPerSecond: Math.round(parsed.requests / seconds),
      p50Ms: ms(parsed.p50),
      p90Ms: ms(parsed.p90),
      p99Ms: ms(parsed.p99),
      p999Ms: ms(parsed.p999),
      maxMs: ms(parsed.max),
    }
  }

  return {
    description: `wrk 1 thread, ${connections} connections${pin.length > 0 ? `, pinned to core ${CLIENT_CORE}` : ''}: a closed loop as fast as the server answers, GET /read and POST /increment alternating over ${cookies.length} sessions`,
    async warmUp(seconds) {
      await run(() => Bun.sleep(seconds * 1_000))
    },
    measure: run,
    async close() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
