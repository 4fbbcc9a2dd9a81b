import type { CpuUse } from './cpu.js'

/** The three load scenarios; each server offers one route per scenario with the same meaning. */
export type ScenarioId = 'a' | 'b' | 'c'

export interface Scenario {
  readonly id: ScenarioId
  /** The route wrk requests. */
  readonly path: string
  readonly title: string
  /** A few words for the chart's legend. */
  readonly short: string
  /** Whether wrk sends a session cookie (one existing session per connection); without it each request is new. */
  readonly withCookie: boolean
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'a',
    path: '/a',
    title: 'existing session, read and increment a counter (a write per request)',
    short: 'existing session, read + write',
    withCookie: true,
  },
  { id: 'b', path: '/b', title: 'existing session, read only', short: 'read only', withCookie: true },
  { id: 'c', path: '/c', title: 'no cookie: a new session per request', short: 'new session', withCookie: false },
]

/**
 * Where a row keeps its sessions; engines and peers with the same storage are compared with each other. `cookie` is a
 * session sealed whole into the cookie, with nothing stored on the server.
 */
export type Storage = 'none' | 'memory' | 'sqlite' | 'file' | 'redis' | 'postgres' | 'cookie'

export interface RowSpec {
  readonly id: string
  readonly label: string
  /**
   * `ceiling` is bare Elysia; `handwritten` the same signed server-side session written by hand with no library, the
   * practical ceiling for any session plugin; `floor` is the least any signed-cookie session plugin does (hooks, HMAC,
   * Set-Cookie) with no session behind it; `engine` is one of ours, `peer` another library.
   */
  readonly kind: 'ceiling' | 'handwritten' | 'floor' | 'engine' | 'peer'
  readonly storage: Storage
  readonly runtime: 'bun' | 'node'
  /** The server's file, relative to bench/. */
  readonly script: string
  /** Environment the server needs besides SESSION_SECRET and what its storage adds. */
  readonly env: Readonly<Record<string, string>>
}

/** What wrk measured in one run, from the Lua script's `done()`. */
export interface WrkResult {
  readonly requests: number
  readonly durationUs: number
  readonly bytes: number
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly meanUs: number
  readonly maxUs: number
  readonly errors: {
    readonly connect: number
    readonly read: number
    readonly write: number
    readonly status: number
    readonly timeout: number
  }
  /** requests / duration. */
  readonly rps: number
  /** CPU time wrk itself used. */
  readonly cpuSeconds: number
}

/** One measured run of one row on one scenario. */
export interface Measurement {
  readonly row: string
  readonly scenario: ScenarioId
  readonly round: number
  /** Position in the run, from 1. */
  readonly order: number
  readonly startedAt: string
  readonly warmupRps: number
  readonly wrk: WrkResult
  /** Cores used during the measured run by the server, wrk, other processes, and stolen by the hypervisor. */
  readonly cpu: CpuUse
  /** Set when the run was repeated because other processes disturbed it: the numbers of the run not kept. */
  readonly repeated?: { readonly rps: number; readonly otherCpu: number }
  /** The route semantics checked before and after the run (cookie set, counter written or left alone). */
  readonly check: { readonly ok: boolean; readonly detail: string }
}
