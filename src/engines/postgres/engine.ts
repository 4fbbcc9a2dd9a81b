import type { SQL } from 'bun'
import { and, count, eq, gt, inArray, lte, not, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sql'
import type {
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  StoredSession,
} from '../../engine.js'
import { applyChanges } from '../apply-changes.js'
import { checkBatchSize } from '../batch-size.js'
import { buildStatement } from '../built-statement.js'
import { closedError } from '../closed-error.js'
import { EngineTimeoutError, withinDeadline } from '../deadlines.js'
import { deleteInBatches } from '../delete-in-batches.js'
import { ownerColumnAfter, ownerColumnValue } from '../owner-column.js'
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import { createTurnQueue, type TurnQueueLimits } from '../turn-queue.js'
import { type CommitOutcome, commitGroup, type GroupCommit } from './commit-group.js'
import { hungConnectionCheck, lendConnection } from './connection.js'
import { retryOnEndedConnection } from './ended-connection.js'
import { addGroupedCall, type GroupedCall, giveBackUnlessLate, takeIntoGroup, timeLeftOf } from './grouped-call.js'
import { groupedStatements } from './grouped-statements.js'
import type { SessionsTable } from './schema.js'
import { queryChanges, queryRows } from './statement.js'

/** What `createPostgresEngine` needs besides the client. */
export interface PostgresEngineParts {
  readonly table: SessionsTable
  /** Whether `close()` closes the client: only when the engine opened it. */
  readonly ownsClient: boolean
  /** Milliseconds after which any call that has not settled rejects. */
  readonly operationTimeout: number
}

/**
 * How many rows one DELETE removes: each batch holds its row locks briefly, and a sweep skips the rows other sweeps
 * or commits hold instead of waiting for them.
 */
export const DELETE_BATCH = 1_000

/**
 * How long, in ms, a group of commits waits for a row lock before its commits run one at a time instead, each with all
 * its time left: far longer than a commit holds a lock, far shorter than a time limit, so that a session locked
 * elsewhere holds up neither the sessions grouped with it nor the groups that follow.
 */
const GROUP_LOCK_WAIT = 250

/**
 * How loads and commits group: two groups of each kind at once at most, which leaves most of a default pool to other
 * calls; a bounded number of calls in one group, so its statements stay small.
 */
const GROUPS: TurnQueueLimits = { batchesAtOnce: 2, callsPerBatch: 500 }

/** How many sessions' commits run one by one at once after their group failed. */
const ONE_BY_ONE_AT_ONCE = 4

const placeholder = sql.placeholder

/** A session engine on a Bun SQL client for PostgreSQL, with every statement built once. */
export function createPostgresEngine(client: SQL, parts: PostgresEngineParts): SessionEngine {
  const { table, ownsClient, operationTimeout } = parts
  // Only writes SQL: every statement runs on a connection the call reserved.
  const db = drizzle.mock()
  const byId = eq(table.id, placeholder('id'))
  const alive = gt(table.expiresAt, placeholder('now'))

  const grouped = groupedStatements(table)
  const moveExpiry = buildStatement(
    db
      .update(table)
      .set({ expiresAt: sql`${placeholder('expiresAt')}` })
      .where(and(byId, alive)),
  )
  const deleteOne = buildStatement(db.delete(table).where(byId))
  // Locks in id order, so two of them running at once never deadlock.
  const deleteBatch = buildStatement(
    db
      .delete(table)
      .where(
        inArray(table.id, db.select({ id: table.id }).from(table).orderBy(table.id).limit(DELETE_BATCH).for('update')),
      ),
  )
  const countAlive = buildStatement(db.select({ count: count() }).from(table).where(alive))
  const pageAfter = buildStatement(
    db
      .select({ id: table.id, data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(and(gt(table.id, placeholder('after')), alive))
      .orderBy(table.id)
      .limit(placeholder('limit')),
  )
  // SKIP LOCKED: rows another sweep is deleting, or a commit is writing, are left to them instead of waited for.
  const deleteExpiredBatch = buildStatement(
    db.delete(table).where(
      inArray(
        table.id,
        db
          .select({ id: table.id })
          .from(table)
          .where(lte(table.expiresAt, placeholder('now')))
          .limit(DELETE_BATCH)
          .for('update', { skipLocked: true }),
      ),
    ),
  )

  // The commit's statements, locking the row so concurrent commits to one session merge one after the other.
  const lockStored = buildStatement(
    db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(byId).for('update'),
  )
  // Inserts an already expired empty row when there is none, so a new session is locked like an existing one.
  const claimRow = buildStatement(
    db
      .insert(table)
      .values({ id: placeholder('id'), data: {}, expiresAt: 0 })
      .onConflictDoUpdate({ target: table.id, set: { id: sql`excluded.${sql.identifier('id')}` } })
      .returning({ data: table.data, expiresAt: table.expiresAt }),
  )
  // The column's own encoder writes the data as JSON text; `set` takes no bare placeholder.
  const writtenRow = {
    data: sql`${sql.param(placeholder('data'), table.data)}`,
    expiresAt: sql`${placeholder('expiresAt')}`,
  }
  const writeRow = buildStatement(db.update(table).set(writtenRow).where(byId))
  const writeRowWithOwner = buildStatement(
    db
      .update(table)
      .set({ ...writtenRow, owner: sql`${placeholder('owner')}` })
      .where(byId),
  )

  // The owner's statements, on its index; `except` is an array of ids, possibly empty.
  const byOwner = and(eq(table.owner, placeholder('owner')), alive)
  const listOwned = buildStatement(
    db.select({ id: table.id, data: table.data, expiresAt: table.expiresAt }).from(table).where(byOwner),
  )
  const deleteOwned = buildStatement(
    db.delete(table).where(and(byOwner, not(sql`${table.id} = ANY(${placeholder('except')}::text[])`))),
  )
  // The server itself ends what the engine would wait on no longer: a lock wait, a statement, and a transaction left
  // idle by a client that hangs, whose row lock would otherwise block every later commit of the session.
  const beginBounded = [
    'BEGIN',
    `SET LOCAL lock_timeout = ${operationTimeout}`,
    `SET LOCAL statement_timeout = ${operationTimeout}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${operationTimeout}`,
  ].join('; ')
  // Planned on the index whatever the table held when the connection first prepared them, as for commit groups.
  const beginIndexed = `${beginBounded}; SET LOCAL enable_seqscan = off`
  /** Runs `run`'s statement in a bounded transaction planned without sequential scans, sent in one round trip. */
  const runIndexed = async <T>(connection: SQL, run: () => Promise<T>): Promise<T> => {
    const [, result] = await Promise.all([connection.unsafe(beginIndexed), run(), connection.unsafe('COMMIT')])
    return result
  }

  /** Commits in one transaction; a failure leaves it to the connection's closing to roll it back. */
  const commitOn = async (connection: SQL, id: string, changes: SessionChanges, now: number): Promise<boolean> => {
    await connection.unsafe(beginBounded)
    const rows = await queryRows(connection, changes.existingOnly ? lockStored : claimRow, { id })
    const stored = aliveData(rows[0], now)
    if (!stored && changes.existingOnly) {
      await connection.unsafe('ROLLBACK')
      return false
    }
    const data = applyChanges(stored, changes)
    const owner = ownerColumnAfter(changes, stored !== undefined)
    const write = owner === undefined ? writeRow : writeRowWithOwner
    await queryChanges(connection, write, { id, data, expiresAt: changes.expiresAt, owner })
    await connection.unsafe('COMMIT')
    return true
  }

  /** The data of a `[data, expires_at]` row, or undefined when there is none or it expired at `now`. */
  const aliveData = (row: unknown[] | undefined, now: number): SessionData | undefined => {
    if (!row || expiryOf(row[1]) <= now) return undefined
    return dataOf(row[0])
  }
  // The columns' own codecs turn driver values into session values, as Drizzle would.
  const dataOf = (text: unknown) => table.data.mapFromDriverValue(text as string) as SessionData
  const expiryOf = (value: unknown) => table.expiresAt.mapFromDriverValue(value as string | number) as number

  let closed = false
  const checkForHungConnections = hungConnectionCheck(client, operationTimeout)
  /**
   * Runs `work` as one call on a lent connection within `timeLeft` ms, again on another connection while its own had
   * ended. At the time limit the connection is closed (the server rolls back what the work had begun) and the work
   * never runs again.
   */
  const callWithin = <T>(
    what: string,
    work: (connection: SQL, signal: AbortSignal) => Promise<T>,
    timeLeft: number,
  ): Promise<T> =>
    withinDeadline(
      (signal) => {
        // Other pooled connections may hang on the same broken path as this call's.
        signal.addEventListener('abort', () => closed || checkForHungConnections(), { once: true })
        return retryOnEndedConnection(signal, () =>
          lendConnection(client, signal, (connection) => work(connection, signal)),
        )
      },
      timeLeft,
      `The postgres session engine's ${what}`,
      operationTimeout,
    )

  /** Runs `work` as one call, refused once the engine is closed. */
  const call = <T>(what: string, work: (connection: SQL) => Promise<T>): Promise<T> =>
    closed ? Promise.reject(closedError('postgres')) : callWithin(what, work, operationTimeout)

  /** Loads the sessions of a group with one statement, each answered for its own `now`. */
  const loadGroup = async (calls: readonly GroupedCall<LoadCall, StoredSession | null>[]) => {
    takeIntoGroup(calls)
    const ids = [...new Set(calls.map((loading) => loading.input.id))]
    let earliest = calls[0]!.input.now
    for (const loading of calls) earliest = Math.min(earliest, loading.input.now)
    let rows: unknown[][]
    try {
      rows = await callWithin(
        'load',
        (connection) => queryRows(connection, grouped.loadAlive, { ids, now: earliest }),
        timeLeftOf(calls),
      )
    } catch (error) {
      if (error instanceof EngineTimeoutError) giveBackUnlessLate(loads, calls, error)
      else for (const loading of calls) loading.reject(error)
      return
    }
    const rowOf = new Map(rows.map((row) => [row[0] as string, row]))
    for (const loading of calls) {
      const row = rowOf.get(loading.input.id)
      const expiresAt = row && expiryOf(row[2])
      if (!row || expiresAt! <= loading.input.now) {
        loading.resolve(null)
        continue
      }
      // Parsed for each call, so every caller owns its data, and a row that cannot be read fails only its own.
      try {
        loading.resolve({ data: dataOf(row[1]), expiresAt: expiresAt! })
      } catch (error) {
        loading.reject(error)
      }
    }
  }

  /**
   * Commits a group in one transaction. When it fails for any reason but time, its commits run again one at a time,
   * in parallel across sessions and in order within each, so only those at fault fail, and without holding up later
   * groups; so do the commits to sessions created elsewhere while the group ran.
   */
  const commitGroupOf = async (calls: readonly GroupedCall<GroupCommit, boolean>[]) => {
    takeIntoGroup(calls)
    const timeLeft = timeLeftOf(calls)
    // At least 1: 0 would turn the server's limits off.
    const limits = {
      lockWait: Math.max(1, Math.ceil(Math.min(GROUP_LOCK_WAIT, timeLeft))),
      statement: Math.max(1, Math.ceil(timeLeft)),
    }
    const group = calls.map((committing) => committing.input)
    const progress = { committing: false }
    let outcomes: CommitOutcome[]
    try {
      outcomes = await callWithin(
        'commit',
        (connection, signal) => commitGroup(connection, signal, grouped, table, group, limits, progress),
        timeLeft,
      )
    } catch (error) {
      if (!(error instanceof EngineTimeoutError)) commitOneByOne(calls)
      // Once COMMIT has left, the group may have landed: like any call that timed out, it never runs again.
      else if (progress.committing) for (const committing of calls) committing.reject(error)
      else giveBackUnlessLate(commits, calls, error)
      return
    }
    const reruns: GroupedCall<GroupCommit, boolean>[] = []
    outcomes.forEach((outcome, index) => {
      const committing = calls[index]!
      if ('error' in outcome) committing.reject(outcome.error)
      else if ('rerun' in outcome) reruns.push(committing)
      else committing.resolve(outcome.wrote)
    })
    if (reruns.length > 0) commitOneByOne(reruns)
  }

  // Commits running one by one after their group; close() waits for them.
  const runningAlone = new Set<Promise<unknown>>()
  const commitOneByOne = (calls: readonly GroupedCall<GroupCommit, boolean>[]) => {
    const bySession = new Map<string, GroupedCall<GroupCommit, boolean>[]>()
    for (const committing of calls) {
      const sessionCalls = bySession.get(committing.input.id)
      if (sessionCalls) sessionCalls.push(committing)
      else bySession.set(committing.input.id, [committing])
    }
    const leftToCommit = [...bySession.values()]
    // A few sessions at a time, so a large group that failed leaves the pool to other calls.
    const worker = async () => {
      for (let sessionCalls = leftToCommit.pop(); sessionCalls; sessionCalls = leftToCommit.pop()) {
        for (const committing of sessionCalls) {
          const { input, deadline } = committing
          await callWithin(
            'commit',
            (connection) => commitOn(connection, input.id, input.changes, input.now),
            deadline - performance.now(),
          ).then(
            (wrote) => committing.resolve(wrote),
            (error: unknown) => committing.reject(error),
          )
        }
      }
    }
    const running = Promise.all(Array.from({ length: ONE_BY_ONE_AT_ONCE }, worker))
    runningAlone.add(running)
    void running.finally(() => runningAlone.delete(running))
  }

  const loads = createTurnQueue(loadGroup, GROUPS)
  const commits = createTurnQueue(commitGroupOf, GROUPS)
  const loadTimedOut = `The postgres session engine's load got no answer within ${operationTimeout} ms`
  const commitTimedOut = `The postgres session engine's commit got no answer within ${operationTimeout} ms`

  /** What a call about an id no session can have resolves to, without a round trip; refused once closed too. */
  const unknownId = <T>(answer: T): Promise<T> =>
    closed ? Promise.reject(closedError('postgres')) : Promise.resolve(answer)

  /** Deletes in batches of `DELETE_BATCH` rows, each in a call of its own, until one deletes fewer. */
  const deleteBatches = (what: string, deleteBatch: (connection: SQL) => Promise<number>) =>
    deleteInBatches(DELETE_BATCH, () => call(what, deleteBatch))

  const entryOf = (row: unknown[]): SessionEntry => ({
    id: row[0] as string,
    data: dataOf(row[1]),
    expiresAt: expiryOf(row[2]),
  })

  return {
    name: 'postgres',

    capabilities: { owners: true },

    load(id: string, now: number): Promise<StoredSession | null> {
      if (!isSafeSessionId(id)) return unknownId(null)
      return addGroupedCall(loads, { id, now }, operationTimeout, loadTimedOut)
    },

    commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) {
        return Promise.reject(unsafeIdError('postgresEngine', id))
      }
      return addGroupedCall(commits, { id, changes, now }, operationTimeout, commitTimedOut)
    },

    touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return unknownId(false)
      return call(
        'touch',
        async (connection) => (await queryChanges(connection, moveExpiry, { id, expiresAt, now })) > 0,
      )
    },

    delete(id: string): Promise<void> {
      if (!isSafeSessionId(id)) return unknownId(undefined)
      return call('delete', async (connection) => {
        await queryChanges(connection, deleteOne, { id })
      })
    },

    async deleteAll(): Promise<void> {
      await deleteBatches('deleteAll', (connection) => queryChanges(connection, deleteBatch))
    },

    count(now: number): Promise<number> {
      return call('count', async (connection) =>
        Number((await queryRows(connection, countAlive, { now }))[0]?.[0] ?? 0),
      )
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      checkBatchSize(batchSize)
      let after = ''
      for (;;) {
        const rows = await call('entries', (connection) =>
          queryRows(connection, pageAfter, { after, now, limit: batchSize }),
        )
        if (rows.length === 0) return
        yield rows.map(entryOf)
        if (rows.length < batchSize) return
        after = rows[rows.length - 1]![0] as string
      }
    },

    listByOwner(owner: string, now: number): Promise<readonly SessionEntry[]> {
      return call('listByOwner', async (connection) =>
        (
          await runIndexed(connection, () => queryRows(connection, listOwned, { owner: ownerColumnValue(owner), now }))
        ).map(entryOf),
      )
    },

    deleteByOwner(owner: string, except: readonly string[], now: number): Promise<number> {
      return call('deleteByOwner', (connection) =>
        // Ids no row can have are left out: a text array cannot hold every one of them.
        runIndexed(connection, () =>
          queryChanges(connection, deleteOwned, {
            owner: ownerColumnValue(owner),
            now,
            except: except.filter(isSafeSessionId),
          }),
        ),
      )
    },

    deleteExpired(now: number): Promise<number> {
      return deleteBatches('deleteExpired', (connection) => queryChanges(connection, deleteExpiredBatch, { now }))
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      // Calls not sent yet are refused; those already running get up to one operationTimeout to finish.
      loads.refuse(() => closedError('postgres'))
      commits.refuse(() => closedError('postgres'))
      await Promise.all([loads.idle(), commits.idle()])
      await Promise.all(runningAlone)
      if (ownsClient) await client.close({ timeout: operationTimeout / 1_000 })
    },
  }
}

/** A load as `SessionEngine.load` was given it. */
interface LoadCall {
  readonly id: string
  readonly now: number
}
