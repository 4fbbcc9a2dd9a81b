/**
 * Child process: a steady stream of requests to the server `child-server.ts` started, at a fixed rate whatever the
 * answers' latency (an open loop, so a slow phase of the server cannot slow the stream down and hide its own
 * latency). Requests alternate GET /read and POST /increment over the server's live sessions. Driven over IPC:
 *
 *   → { type: 'start', url, cookies, rate }  starts sending; nothing is recorded yet (warm-up)
 *   → { type: 'phase', name }                records each later request's latency under `name` (null: none)
 *   → { type: 'report' }                     ← { type: 'report', phases: { [name]: LatencyStats } }
 *   → { type: 'stop' }                       stops sending and exits once the requests in flight are answered
 */
import { quantile } from './shared.js'

/** At most this many requests wait for an answer at once; a request due beyond it is counted as dropped. */
const MAX_IN_FLIGHT = 256

export type LoadCommand =
  | { type: 'start'; url: string; cookies: string[]; rate: number }
  | { type: 'phase'; name: string | null }
  | { type: 'report' }
  | { type: 'stop' }

/** Latency of one phase's answered requests, in milliseconds from sending to the end of the body. */
export interface LatencyStats {
  readonly requests: number
  readonly errors: number
  readonly dropped: number
  readonly seconds: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly maxMs: number
}

interface Phase {
  readonly latencies: number[]
  errors: number
  dropped: number
  readonly started: number
  ended?: number
}

const phases = new Map<string, Phase>()
let current: Phase | undefined
let running = false
let inFlight = 0

function summarize(phase: Phase): LatencyStats {
  const sorted = phase.latencies.toSorted((a, b) => a - b)
  const seconds = ((phase.ended ?? performance.now()) - phase.started) / 1_000
  const ms = (value: number) => Math.round(value * 1_000) / 1_000
  return {
    requests: sorted.length,
    errors: phase.errors,
    dropped: phase.dropped,
    seconds: ms(seconds),
    requestsPerSecond: Math.round(sorted.length / seconds),
    p50Ms: ms(quantile(sorted, 0.5)),
    p90Ms: ms(quantile(sorted, 0.9)),
    p99Ms: ms(quantile(sorted, 0.99)),
    p999Ms: ms(quantile(sorted, 0.999)),
    maxMs: ms(sorted.at(-1) ?? Number.NaN),
  }
}

async function sendOne(url: string, cookie: string, write: boolean, phase: Phase | undefined): Promise<void> {
  inFlight++
  const started = performance.now()
  try {
    const response = await fetch(`${url}${write ? '/increment' : '/read'}`, {
      method: write ? 'POST' : 'GET',
      headers: { cookie },
    })
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`status ${response.status}`)
    phase?.latencies.push(performance.now() - started)
  } catch {
    if (phase) phase.errors++
  } finally {
    inFlight--
  }
}

async function stream(url: string, cookies: readonly string[], rate: number): Promise<void> {
  const interval = 1_000 / rate
  let next = performance.now()
  let sent = 0
  while (running) {
    const now = performance.now()
    while (next <= now) {
      next += interval
      if (inFlight >= MAX_IN_FLIGHT) {
        if (current) current.dropped++
        continue
      }
      void sendOne(url, cookies[sent % cookies.length]!, sent % 2 === 1, current)
      sent++
    }
    await Bun.sleep(Math.max(0, Math.min(1, next - performance.now())))
  }
}

process.on('message', async (command: LoadCommand) => {
  if (command.type === 'start') {
    running = true
    void stream(command.url, command.cookies, command.rate)
  } else if (command.type === 'phase') {
    if (current) current.ended = performance.now()
    current = undefined
    if (command.name !== null) {
      current = { latencies: [], errors: 0, dropped: 0, started: performance.now() }
      phases.set(command.name, current)
    }
  } else if (command.type === 'report') {
    const report: Record<string, LatencyStats> = {}
    for (const [name, phase] of phases) report[name] = summarize(phase)
    process.send?.({ type: 'report', phases: report })
  } else {
    running = false
    while (inFlight > 0) await Bun.sleep(5)
    process.exit(0)
  }
})
process.send?.({ type: 'listening' })
