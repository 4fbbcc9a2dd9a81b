import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** A reading of the machine's CPU times and one process's, in seconds. */
export interface CpuSnapshot {
  readonly at: number
  readonly busy: number
  readonly steal: number
  readonly process: number
}

/** Reads /proc/stat and /proc/<pid>/stat; zeros where /proc is not there. */
export function cpuSnapshot(pid: number | undefined): CpuSnapshot {
  const at = performance.now() / 1000
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields
    let process = 0
    if (pid !== undefined) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
      process = (Number(after[11]) + Number(after[12])) / TICKS_PER_SECOND
    }
    return {
      at,
      busy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND,
      steal: steal / TICKS_PER_SECOND,
      process,
    }
  } catch {
    return { at, busy: 0, steal: 0, process: 0 }
  }
}

/** Cores used during a measured run: by the server, by wrk, by everything else (a database server included), stolen. */
export interface CpuUse {
  readonly server: number
  readonly wrk: number
  readonly other: number
  readonly steal: number
}

export function cpuUse(before: CpuSnapshot, after: CpuSnapshot, wrkSeconds: number): CpuUse {
  const elapsed = after.at - before.at
  if (elapsed <= 0) return { server: 0, wrk: 0, other: 0, steal: 0 }
  const server = (after.process - before.process) / elapsed
  const wrk = wrkSeconds / elapsed
  const busy = (after.busy - before.busy) / elapsed
  const steal = (after.steal - before.steal) / elapsed
  const round = (value: number) => Math.round(value * 100) / 100
  return {
    server: round(server),
    wrk: round(wrk),
    other: round(Math.max(0, busy - server - wrk - steal)),
    steal: round(steal),
  }
}
