import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'

/** The machine a run came from, as written into the results. */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly kernel: string
  readonly bun: string
  readonly node: string
  readonly wrk: string
  readonly date: string
  /** 1-minute load average when the run started and ended: above ~0.3 means something else was running. */
  readonly loadAverage: { start: number; end?: number }
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('model name'))
    if (line) return line.slice(line.indexOf(':') + 1).trim()
  } catch {}
  return cpus()[0]?.model ?? 'unknown'
}

async function wrkVersion(wrk: string): Promise<string> {
  const proc = Bun.spawn([wrk, '-v'], { stdout: 'pipe', stderr: 'pipe' })
  const text = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text())
  await proc.exited
  return /wrk (\S+)/.exec(text)?.[1] ?? 'unknown'
}

/** Describes this machine; `loadAverage.end` is filled in when the run ends. */
export async function describeMachine(wrk: string, nodeVersion: string): Promise<Machine> {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    node: nodeVersion,
    wrk: await wrkVersion(wrk),
    date: new Date().toISOString(),
    loadAverage: { start: round2(loadavg()[0] ?? 0) },
  }
}

export function currentLoad(): number {
  return round2(loadavg()[0] ?? 0)
}

function round2(value: number): number {
  return Math.round(value * 100) / 100
}
