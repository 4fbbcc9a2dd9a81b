import type { Database } from 'bun:sqlite'
import { availableParallelism } from 'node:os'
import type { SessionChanges } from '../../src/engine.js'
import { generateSessionId } from '../../src/session-id.js'

/** The secret of every app these measurements start. */
export const SECRET = 'bench-secret-that-is-at-least-32-characters-long'

/** A GC interval no timer reaches during a run: sweeps happen only when a measurement asks for one. */
export const NO_TIMED_GC = 2 ** 31 - 1

const HOUR = 3_600_000

/** The data of the n-th small session: an int and a short string, as an app's counter and user name. */
export function smallData(n: number): { 'int:count': number; 'string:name': string } {
  return { 'int:count': n, 'string:name': `user-${n}` }
}

/** The changes that create the n-th small session, alive for an hour from `now`. */
export function smallSession(n: number, now: number): SessionChanges {
  return { set: smallData(n), deleted: [], expiresAt: now + HOUR }
}

/**
 * Writes `count` small sessions with real-looking ids straight into the `sessions` table, in one transaction, all
 * expiring at `expiresAt` (in the past, for a sweep to remove).
 */
export function insertSessions(database: Database, count: number, expiresAt: number): void {
  const insert = database.prepare('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)')
  database.transaction(() => {
    for (let n = 0; n < count; n++) insert.run(generateSessionId(), JSON.stringify(smallData(n)), expiresAt)
  })()
  insert.finalize()
}

/** The `q` quantile (0 to 1) of ascending `sorted` values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** The command prefix that pins a process to one CPU core, or nothing when there is one core or no taskset. */
export function pinTo(core: number): string[] {
  const taskset = Bun.which('taskset')
  return taskset && availableParallelism() >= 2 ? [taskset, '-c', String(core)] : []
}

/** What a child process writes as its last line of stdout: one JSON document. */
export function report(value: unknown): void {
  console.log(JSON.stringify(value))
}

/** Megabytes (10^6 bytes), rounded to one decimal. */
export function megabytes(bytes: number): number {
  return Math.round(bytes / 1e5) / 10
}

/** The value of the command-line option `--name`, which must be a positive integer. */
export function positiveInteger(name: string, value: string | undefined): number {
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`--${name} needs a positive integer, got ${value}`)
  return parsed
}
