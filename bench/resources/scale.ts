import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runWrk } from '../load/wrk.js'
import type { ScaleEngineKind, ScaleServerCommand } from './child-scale-server.js'
import { IpcChild } from './ipc-child.js'
import { pinTo, quantile } from './shared.js'

/** How the scale comparison runs. */
export interface ScaleSettings {
  readonly wrk: string
  /** Sessions the many-sessions server stores. */
  readonly sessions: number
  /** Sessions the requests are spread over; the few-sessions server stores only these. */
  readonly hot: number
  readonly rounds: number
  readonly warmUpSeconds: number
  readonly seconds: number
  readonly connections: number
  readonly serverCore: number
  readonly clientCore: number
}

/** One measured wrk run on one server. */
export interface ScaleRun {
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
}

/** One round: a run on each server, back to back. */
export interface ScaleRound {
  readonly few: ScaleRun
  readonly many: ScaleRun
  readonly rateRatio: number
  readonly p99Ratio: number
}

/** The comparison for one engine: rounds, and the medians and spreads of their paired ratios. */
export interface ScaleResult {
  readonly engine: ScaleEngineKind
  readonly stored: { readonly few: number; readonly many: number }
  readonly fillSeconds: number
  readonly rounds: readonly ScaleRound[]
  readonly rateRatio: { readonly median: number; readonly min: number; readonly max: number }
  readonly p99Ratio: { readonly median: number; readonly min: number; readonly max: number }
  /** The counter of the first hot session on each server after the rounds: above 1 proves the requests wrote. */
  readonly counterAfter: { readonly few: number; readonly many: number }
  readonly errors: number
}

interface Filled {
  readonly stored: number
  readonly seconds: number
  readonly cookies: string[]
}

const round2 = (value: number) => Math.round(value * 100) / 100
const round3 = (value: number) => Math.round(value * 1_000) / 1_000

function spread(values: readonly number[]) {
  const sorted = values.toSorted((a, b) => a - b)
  return { median: round2(quantile(sorted, 0.5)), min: round2(sorted[0]!), max: round2(sorted.at(-1)!) }
}

async function startServer(
  kind: ScaleEngineKind,
  core: number,
): Promise<{ child: IpcChild<ScaleServerCommand>; url: string }> {
  const child = new IpcChild<ScaleServerCommand>([
    ...pinTo(core),
    process.execPath,
    new URL('./child-scale-server.ts', import.meta.url).pathname,
    kind,
  ])
  const { port } = (await child.next('ready', 60_000)) as { port: number }
  return { child, url: `http://127.0.0.1:${port}` }
}

async function stopServer(child: IpcChild<ScaleServerCommand>): Promise<void> {
  child.send({ type: 'stop' })
  await child.exited(30_000).catch(() => child.kill())
}

async function counterOf(url: string, cookie: string): Promise<number> {
  const response = await fetch(`${url}/a`, { headers: { cookie } })
  return Number(await response.text())
}

/**
 * Scenario (a) on two servers of one engine, both pinned to the server core and alive together: one storing only the
 * `hot` sessions the requests go to, one storing `sessions` with the same number of hot sessions spread among them.
 * wrk runs on each in turn, alternating which goes first from round to round, so both see the same machine.
 */
export async function measureScale(
  kind: ScaleEngineKind,
  settings: ScaleSettings,
  progress: (message: string) => void,
): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-resources-scale-wrk-'))
  const few = await startServer(kind, settings.serverCore)
  const many = await startServer(kind, settings.serverCore).catch(async (error: unknown) => {
    await stopServer(few.child)
    throw error
  })
  try {
    const fill = async (server: typeof few, count: number) => {
      server.child.send({ type: 'fill', count, hot: settings.hot })
      const filled = (await server.child.next('filled', 300_000)) as Filled & { type: string }
      const cookieFile = join(dir, `cookies-${count}.txt`)
      writeFileSync(cookieFile, `${filled.cookies.join('\n')}\n`)
      return { ...filled, cookieFile }
    }
    progress(
      `${kind}: storing ${settings.hot.toLocaleString('en')} and ${settings.sessions.toLocaleString('en')} sessions`,
    )
    const fewFilled = await fill(few, settings.hot)
    const manyFilled = await fill(many, settings.sessions)
    progress(`  ${settings.sessions.toLocaleString('en')} stored in ${manyFilled.seconds.toFixed(1)} s`)

    const run = async (server: typeof few, cookieFile: string): Promise<ScaleRun> => {
      const options = {
        wrk: settings.wrk,
        url: `${server.url}/a`,
        cookieFile,
        connections: settings.connections,
        core: settings.clientCore,
      }
      await runWrk({ ...options, seconds: settings.warmUpSeconds })
      const result = await runWrk({ ...options, seconds: settings.seconds })
      const { connect, read, write, status, timeout } = result.errors
      return {
        requestsPerSecond: Math.round(result.rps),
        p50Ms: round3(result.p50Us / 1_000),
        p99Ms: round3(result.p99Us / 1_000),
        errors: connect + read + write + status + timeout,
      }
    }

    const rounds: ScaleRound[] = []
    for (let index = 0; index < settings.rounds; index++) {
      let fewRun: ScaleRun
      let manyRun: ScaleRun
      if (index % 2 === 0) {
        fewRun = await run(few, fewFilled.cookieFile)
        manyRun = await run(many, manyFilled.cookieFile)
      } else {
        manyRun = await run(many, manyFilled.cookieFile)
        fewRun = await run(few, fewFilled.cookieFile)
      }
      const round = {
        few: fewRun,
        many: manyRun,
        rateRatio: round2(manyRun.requestsPerSecond / fewRun.requestsPerSecond),
        p99Ratio: round2(manyRun.p99Ms / fewRun.p99Ms),
      }
      progress(
        `  round ${index + 1}: ${fewRun.requestsPerSecond} → ${manyRun.requestsPerSecond} req/s (${round.rateRatio}×), ` +
          `p99 ${fewRun.p99Ms} → ${manyRun.p99Ms} ms (${round.p99Ratio}×)`,
      )
      rounds.push(round)
    }

    return {
      engine: kind,
      stored: { few: fewFilled.stored, many: manyFilled.stored },
      fillSeconds: round2(manyFilled.seconds),
      rounds,
      rateRatio: spread(rounds.map((each) => each.rateRatio)),
      p99Ratio: spread(rounds.map((each) => each.p99Ratio)),
      counterAfter: {
        few: await counterOf(few.url, fewFilled.cookies[0]!),
        many: await counterOf(many.url, manyFilled.cookies[0]!),
      },
      errors: rounds.reduce((sum, each) => sum + each.few.errors + each.many.errors, 0),
    }
  } finally {
    await Promise.all([stopServer(few.child), stopServer(many.child)])
    rmSync(dir, { recursive: true, force: true })
  }
}
