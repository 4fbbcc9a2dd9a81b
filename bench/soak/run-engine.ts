import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CpuUse, cpuSnapshot, cpuUse } from '../load/cpu.js'
import { startServer } from '../load/server.js'
import { runWrk } from '../load/wrk.js'
import type { SoakEngine, SoakOptions } from './options.js'
import { residentBytes, serverStats, sqliteBytes } from './sample.js'
import { REQUEST_KINDS, type RequestKind, type SoakStats, zeroKinds } from './stats.js'

const SERVER_SCRIPT = new URL('./server.ts', import.meta.url).pathname
const TRAFFIC_SCRIPT = new URL('./traffic.lua', import.meta.url).pathname
const MINUTE_SECONDS = 60
const SERVER_CORE = 0
const WRK_CORE = 1
/** Signs the soak server's cookies; only ever used on loopback by this throwaway server. */
const SECRET = 'elysia-sessions-soak-secret-0123456789abcdef'

/** One minute of load on one engine, and the server as sampled at its end. */
export interface MinuteSample {
  readonly minute: number
  readonly requests: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Requests wrk counted as failed: connect, read, write, timeout, or a status of 400 or more. */
  readonly errors: number
  /** VmRSS of the server process at the end of the minute, as found. */
  readonly rssBytes: number
  /** VmRSS of the server process after a full garbage collection: what the verdict compares. */
  readonly settledRssBytes: number
  /** The JS heap as found (garbage included), and after the full collection. */
  readonly heapBytes: number
  readonly liveHeapBytes: number
  readonly liveHeapObjects: number
  /** Live objects by type after the full collection (in soak.json only), to tell what grew when the heap grows. */
  readonly liveHeapTypes: Record<string, number>
  /** Live sessions, from `sessions.count()`. */
  readonly sessions: number
  /** Sweeps and the expired sessions they removed during this minute. */
  readonly gcSweeps: number
  readonly gcRemoved: number
  /** Requests the server served during this minute, by kind. */
  readonly served: Record<RequestKind, number>
  /** The sizes of the SQLite file and its WAL, for the SQLite engine. */
  readonly sqliteBytes?: { readonly file: number; readonly wal: number }
  /** Cores used during the minute by the server, wrk, everything else, and stolen by the hypervisor. */
  readonly cpu: CpuUse
}

export interface EngineSoak {
  readonly engine: SoakEngine
  readonly minutes: readonly MinuteSample[]
}

export interface EngineSoakContext {
  readonly wrk: string
  /** Called once per minute, for progress. */
  readonly onMinute: (sample: MinuteSample) => void
  /** Registers what must run if the soak is interrupted; the returned function unregisters it. */
  readonly onInterrupt: (cleanup: () => Promise<void>) => () => void
}

function since(now: SoakStats, before: SoakStats): Record<RequestKind, number> {
  const served = zeroKinds()
  for (const kind of REQUEST_KINDS) served[kind] = now.served[kind] - before.served[kind]
  return served
}

/** Starts the soak server on `engine` (pinned to core 0) and runs wrk against it (on core 1) one minute at a time. */
export async function runEngineSoak(
  engine: SoakEngine,
  options: SoakOptions,
  context: EngineSoakContext,
): Promise<EngineSoak> {
  const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-soak-'))
  const path = join(dir, 'sessions.sqlite')
  const env: Record<string, string> = {
    ENGINE: engine,
    SESSION_SECRET: SECRET,
    SOAK_TIMEOUT_MS: String(options.timeoutMs),
    SOAK_GC_INTERVAL_MS: String(options.gcIntervalMs),
    ...(engine === 'sqlite' ? { SESSIONS_PATH: path } : {}),
  }
  const removeDir = async () => rmSync(dir, { recursive: true, force: true })
  const forgetDir = context.onInterrupt(removeDir)
  try {
    const server = await startServer([process.execPath, SERVER_SCRIPT], env, SERVER_CORE)
    const forgetServer = context.onInterrupt(() => server.stop())
    const wrkRuns = new AbortController()
    const forgetWrk = context.onInterrupt(async () => wrkRuns.abort())
    try {
      const minutes: MinuteSample[] = []
      let previous = await serverStats(server.url)
      for (let minute = 1; minute <= options.minutes; minute++) {
        const cpuBefore = cpuSnapshot(server.pid)
        const load = await runWrk({
          wrk: context.wrk,
          url: server.url,
          script: TRAFFIC_SCRIPT,
          cookieFile: undefined,
          seconds: MINUTE_SECONDS,
          connections: options.connections,
          core: WRK_CORE,
          signal: wrkRuns.signal,
        })
        const cpuAfter = cpuSnapshot(server.pid)
        const rssBytes = residentBytes(server.pid)
        const stats = await serverStats(server.url)
        const settledRssBytes = residentBytes(server.pid)
        const errors = load.errors
        const sample: MinuteSample = {
          minute,
          requests: load.requests,
          requestsPerSecond: Math.round(load.rps),
          p50Ms: load.p50Us / 1000,
          p99Ms: load.p99Us / 1000,
          maxMs: load.maxUs / 1000,
          errors: errors.connect + errors.read + errors.write + errors.status + errors.timeout,
          rssBytes,
          settledRssBytes,
          heapBytes: stats.heapBytes,
          liveHeapBytes: stats.liveHeapBytes,
          liveHeapObjects: stats.liveHeapObjects,
          liveHeapTypes: stats.liveHeapTypes,
          sessions: stats.sessions,
          gcSweeps: stats.gcSweeps - previous.gcSweeps,
          gcRemoved: stats.gcRemoved - previous.gcRemoved,
          served: since(stats, previous),
          ...(engine === 'sqlite' ? { sqliteBytes: sqliteBytes(path) } : {}),
          cpu: cpuUse(cpuBefore, cpuAfter, load.cpuSeconds),
        }
        minutes.push(sample)
        context.onMinute(sample)
        previous = stats
      }
      return { engine, minutes }
    } finally {
      forgetWrk()
      await server.stop()
      forgetServer()
    }
  } finally {
    await removeDir()
    forgetDir()
  }
}
