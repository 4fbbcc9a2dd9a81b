import type { SQL } from 'bun'
import type { SessionChanges, SessionData } from '../../engine.js'
import { applyChanges } from '../apply-changes.js'
import { ownerColumnAfter } from '../owner-column.js'
import type { GroupedStatements } from './grouped-statements.js'
import type { SessionsTable } from './schema.js'
import { queryChanges, queryRows } from './statement.js'

/** One commit of a group, as `SessionEngine.commit` was given it. */
export interface GroupCommit {
  readonly id: string
  readonly changes: SessionChanges
  readonly now: number
}

/**
 * What one commit of a group came to: whether it wrote, the error that failed it alone, or `rerun` when its session
 * was created by another transaction while the group ran, so it must run again on its own.
 */
export type CommitOutcome = { readonly wrote: boolean } | { readonly error: unknown } | { readonly rerun: true }

/** What a group has sent so far; read when it fails. */
export interface GroupProgress {
  /** Whether COMMIT was sent: past that point a group that fails may have committed all the same. */
  committing: boolean
}

/** How long the server may wait on a group's transaction, in whole milliseconds. */
export interface GroupServerLimits {
  /** For each row lock. */
  readonly lockWait: number
  /** For each statement, and between two statements of the transaction. */
  readonly statement: number
}

interface RowState {
  data: SessionData
  expiresAt: number
}

/**
 * Applies `commits` in one transaction on `connection`, in two round trips: the first locks the rows of the sessions
 * that exist, in id order; the second writes those (with their owner column where a commit moved it, or where the
 * session starts anew), inserts the new ones and commits. Commits to one id apply in their order, each to what the
 * one before left, exactly as one at a time would. A commit whose data cannot be encoded fails alone. Before the
 * second round trip `signal` is checked, so a group that timed out never commits, and `progress` records that it is
 * sent; any other failure leaves it to the connection's closing to roll back.
 */
export async function commitGroup(
  connection: SQL,
  signal: AbortSignal,
  statements: GroupedStatements,
  table: SessionsTable,
  commits: readonly GroupCommit[],
  limits: GroupServerLimits,
  progress: GroupProgress,
): Promise<CommitOutcome[]> {
  const ids = [...new Set(commits.map((commit) => commit.id))]
  const begin = [
    'BEGIN',
    // Cached plans are made here: one made while the table was nearly empty would scan all of it once it had grown.
    'SET LOCAL enable_seqscan = off',
    `SET LOCAL lock_timeout = ${limits.lockWait}`,
    `SET LOCAL statement_timeout = ${limits.statement}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${limits.statement}`,
  ].join('; ')
  // Sent together: the transaction starts and locks in one round trip.
  const [, rows] = await Promise.all([connection.unsafe(begin), queryRows(connection, statements.lockRows, { ids })])

  const rowOf = new Map<string, RowState>()
  for (const row of rows) {
    rowOf.set(row[0] as string, {
      data: table.data.mapFromDriverValue(row[1] as string) as SessionData,
      expiresAt: table.expiresAt.mapFromDriverValue(row[2] as string | number) as number,
    })
  }
  const stored = new Set(rowOf.keys())

  // The JSON text each written id ends with, and the owner column of those whose commits set it.
  const written = new Map<string, string>()
  const ownerOf = new Map<string, string | null>()
  const outcomes = commits.map(({ id, changes, now }): CommitOutcome => {
    const row = rowOf.get(id)
    const alive = row !== undefined && row.expiresAt > now
    if (!alive && changes.existingOnly) return { wrote: false }
    try {
      const data = applyChanges(alive ? row.data : undefined, changes)
      written.set(id, table.data.mapToDriverValue(data) as string)
      rowOf.set(id, { data, expiresAt: changes.expiresAt })
      const owner = ownerColumnAfter(changes, alive)
      if (owner !== undefined) ownerOf.set(id, owner)
      return { wrote: true }
    } catch (error) {
      return { error }
    }
  })

  signal.throwIfAborted()
  progress.committing = true
  const updated = [...written.keys()].filter((id) => stored.has(id))
  const created = [...written.keys()].filter((id) => !stored.has(id))
  const rowsOf = (some: string[], withOwners: boolean) => ({
    ids: some,
    data: some.map((id) => written.get(id)),
    expiries: some.map((id) => rowOf.get(id)!.expiresAt),
    ...(withOwners && {
      owners: some.map((id) => ownerOf.get(id) ?? null),
      ownerSet: some.map((id) => ownerOf.has(id)),
    }),
  })
  // The owner column of stored rows is written only by groups in which a commit moves an owner or starts one anew.
  const ownersMoved = updated.some((id) => ownerOf.has(id))
  const writeRows = ownersMoved ? statements.writeRowsWithOwners : statements.writeRows
  const updating = updated.length > 0 && queryChanges(connection, writeRows, rowsOf(updated, ownersMoved))
  const inserting = created.length > 0 && queryRows(connection, statements.insertRows, rowsOf(created, true))
  const [, inserted] = await Promise.all([updating, inserting, connection.unsafe('COMMIT')])
  if (!inserted || inserted.length === created.length) return outcomes
  // A session another transaction created since the lock: its commits all apply again, after that one.
  const beaten = new Set(created)
  for (const row of inserted) beaten.delete(row[0] as string)
  return outcomes.map((outcome, index) => (beaten.has(commits[index]!.id) ? { rerun: true } : outcome))
}
