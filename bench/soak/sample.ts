import { readFileSync, statSync } from 'node:fs'
import type { SoakStats } from './stats.js'

/** The resident set size of process `pid` in bytes, from VmRSS in /proc/<pid>/status. */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS line`)
  return Number(match[1]) * 1024
}

/** The soak server's `/soak/stats`, which collects garbage fully before it answers. */
export async function serverStats(url: string): Promise<SoakStats> {
  const response = await fetch(`${url}/soak/stats`, { signal: AbortSignal.timeout(30_000) })
  if (!response.ok) throw new Error(`GET /soak/stats answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as SoakStats
}

/** Bytes of a SQLite database on disk: the file and its write-ahead log. */
export function sqliteBytes(path: string): { readonly file: number; readonly wal: number } {
  const size = (file: string) => {
    try {
      return statSync(file).size
    } catch {
      return 0
    }
  }
  return { file: size(path), wal: size(`${path}-wal`) }
}
