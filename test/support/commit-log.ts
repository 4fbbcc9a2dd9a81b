/**
 * Clients of the crash and connection-cut runs, and what their sessions must hold afterwards.
 *
 * Each client owns one session and writes to it one commit at a time. Commit `n` sets the keys `a`, `b` and `c` to the
 * same value, which names the client and `n`, and adds the key `log.<n>` with that value too: `a`, `b` and `c` show the
 * last commit applied was stored whole over the one before, and the log keys show each commit separately.
 */

/** The keys every commit overwrites with its value. */
const OVERWRITTEN = ['a', 'b', 'c'] as const

/** One client's session and the fate of each commit it sent. */
export interface CommitClient {
  readonly index: number
  /** The session's `sessid=…` pair, once a commit that created the session was acknowledged. */
  cookie: string | undefined
  /** The next commit's number. */
  next: number
  /** Commits answered 200. */
  readonly acknowledged: number[]
  /** Commits whose fate the client never learned (no answer, or an error answer): stored or not. */
  readonly unknown: number[]
  /** The commit sent and not yet answered, if any. */
  inFlight: number | undefined
}

/** `count` clients, numbered from 0, that have sent nothing yet. */
export function commitClients(count: number): CommitClient[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    cookie: undefined,
    next: 1,
    acknowledged: [],
    unknown: [],
    inFlight: undefined,
  }))
}

/** The value of `client`'s commit `n`: distinct for every commit of every client. */
export function commitValue(client: CommitClient, n: number): string {
  return `${client.index}.${n}`
}

/** The keys and values commit `n` of `client` sets. */
export function commitOf(client: CommitClient, n: number): Record<string, string> {
  const value = commitValue(client, n)
  return { a: value, b: value, c: value, [`log.${n}`]: value }
}

/** What one client's stored session showed. */
export interface CheckedSession {
  /** Acknowledged commits found stored. */
  readonly kept: number
  /** Acknowledged commits not stored. */
  readonly lost: number
  /** Commits of unknown fate found stored. */
  readonly unknownKept: number
  /** Everything stored that no sequence of whole commits explains, in words. */
  readonly problems: readonly string[]
}

/**
 * Checks `stored` (the session's strings, or undefined when it was not found) against what `client` sent: every
 * acknowledged commit is there, every commit found is whole, nothing is there that the client never sent, and the
 * keys every commit overwrites hold the latest commit found, whole (never a mix of two commits).
 */
export function checkSession(
  client: CommitClient,
  stored: Readonly<Record<string, string>> | undefined,
): CheckedSession {
  const problems: string[] = []
  const data = stored ?? {}
  const sent = new Set([...client.acknowledged, ...client.unknown])
  const found = new Set<number>()
  for (const [key, value] of Object.entries(data)) {
    if ((OVERWRITTEN as readonly string[]).includes(key)) continue
    const n = /^log\.(\d+)$/.exec(key)?.[1]
    if (n === undefined) problems.push(`unexpected key ${JSON.stringify(key)}`)
    else if (!sent.has(Number(n))) problems.push(`commit ${n} is stored but was never sent`)
    else if (value !== commitValue(client, Number(n))) problems.push(`log.${n} holds ${JSON.stringify(value)}`)
    else found.add(Number(n))
  }
  const lost = client.acknowledged.filter((n) => !found.has(n)).length
  const unknownKept = client.unknown.filter((n) => found.has(n)).length
  if (found.size > 0) {
    const latest = Math.max(...found)
    const overwritten = OVERWRITTEN.map((key) => data[key])
    if (overwritten.some((value) => value !== commitValue(client, latest))) {
      problems.push(`a, b, c hold ${JSON.stringify(overwritten)}, not all of commit ${latest}, the latest stored`)
    }
  } else if (OVERWRITTEN.some((key) => data[key] !== undefined)) problems.push('a, b or c stored without any commit')
  return { kept: client.acknowledged.length - lost, lost, unknownKept, problems }
}

/** The totals over every client of a run. */
export interface RunTotals {
  acknowledged: number
  lost: number
  /** Commits of unknown fate (failed answers or none), and how many of them were stored anyway. */
  unknown: number
  unknownKept: number
  readonly problems: string[]
}

/** Totals of a run before any client was added: all zero. */
export function emptyTotals(): RunTotals {
  return { acknowledged: 0, lost: 0, unknown: 0, unknownKept: 0, problems: [] }
}

/** Adds `client`'s commits and what `checkSession` found for them to `totals`. */
export function addToTotals(totals: RunTotals, client: CommitClient, checked: CheckedSession, label: string): void {
  totals.acknowledged += client.acknowledged.length
  totals.lost += checked.lost
  totals.unknown += client.unknown.length
  totals.unknownKept += checked.unknownKept
  for (const problem of checked.problems) totals.problems.push(`${label}, client ${client.index}: ${problem}`)
  if (checked.lost > 0) totals.problems.push(`${label}, client ${client.index}: ${checked.lost} acknowledged lost`)
}
