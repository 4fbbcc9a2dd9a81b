import type { SQL } from 'bun'
import { and, count, eq, gt, inArray, lte, sql } from 'drizzle-orm'
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
import { deleteInBatches } from '../delete-in-batches.js'
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import { withinTimeLimit } from '../time-limit.js'
import { hungConnectionCheck, onReservedConnection } from './connection.js'
import { retryOnEndedConnection } from './ended-connection.js'
import type { SessionsTable } from './schema.js'
import { reusableStatement } from './statement.js'

/** What `createPostgresEngine` needs besides the client. */
export interface PostgresEngineParts {
  readonly table: SessionsTable
  /** Whether `close()` closes the client: only when the engine opened it. */
  readonly ownsClient: boolean
  /** Milliseconds after which any call that has not settled rejects. */
  readonly operationTimeout: number
}

/**
 * How many rows one DELETE removes: each batch locks a thousand rows for a few milliseconds only, and a sweep skips
 * the rows other sweeps or commits hold instead of waiting for them.
 */
export const DELETE_BATCH = 1_000

const placeholder = sql.placeholder

/** A session engine on a Bun SQL client for PostgreSQL, with every statement built once. */
export function createPostgresEngine(client: SQL, parts: PostgresEngineParts): SessionEngine {
  const { table, ownsClient, operationTimeout } = parts
  // Only writes SQL: every statement runs on a connection the call reserved.
  const db = drizzle.mock()
  const byId = eq(table.id, placeholder('id'))
  const alive = gt(table.expiresAt, placeholder('now'))

  const loadAlive = reusableStatement(
    db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(and(byId, alive)),
  )
  const moveExpiry = reusableStatement(
    db
      .update(table)
      .set({ expiresAt: sql`${placeholder('expiresAt')}` })
      .where(and(byId, alive)),
  )
  const deleteOne = reusableStatement(db.delete(table).where(byId))
  // Locks in id order, so two of them running at once never deadlock.
  const deleteBatch = reusableStatement(
    db
      .delete(table)
      .where(
        inArray(table.id, db.select({ id: table.id }).from(table).orderBy(table.id).limit(DELETE_BATCH).for('update')),
      ),
  )
  const countAlive = reusableStatement(db.select({ count: count() }).from(table).where(alive))
  const pageAfter = reusableStatement(
    db
      .select({ id: table.id, data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(and(gt(table.id, placeholder('after')), alive))
      .orderBy(table.id)
      .limit(placeholder('limit')),
  )
  // SKIP LOCKED: rows another sweep is deleting, or a commit is writing, are left to them instead of waited for.
  const deleteExpiredBatch = reusableStatement(
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
  const lockStored = reusableStatement(
    db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(byId).for('update'),
  )
  // Inserts an already expired empty row when there is none, so a new session is locked like an existing one.
  const claimRow = reusableStatement(
    db
      .insert(table)
      .values({ id: placeholder('id'), data: {}, expiresAt: 0 })
      .onConflictDoUpdate({ target: table.id, set: { id: sql`excluded.${sql.identifier('id')}` } })
      .returning({ data: table.data, expiresAt: table.expiresAt }),
  )
  const writeRow = reusableStatement(
    db
      .update(table)
      // The column's own encoder writes the data as JSON text; `set` takes no bare placeholder.
      .set({ data: sql`${sql.param(placeholder('data'), table.data)}`, expiresAt: sql`${placeholder('expiresAt')}` })
      .where(byId),
  )
  // The server itself ends what the engine would wait on no longer: a lock wait, a statement, and a transaction left
  // idle by a client that hangs, whose row lock would otherwise block every later commit of the session.
  const beginBounded = [
    'BEGIN',
    `SET LOCAL lock_timeout = ${operationTimeout}`,
    `SET LOCAL statement_timeout = ${operationTimeout}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${operationTimeout}`,
  ].join('; ')

  /** Commits in one transaction; a failure leaves it to the connection's closing to roll it back. */
  const commitOn = async (connection: SQL, id: string, changes: SessionChanges, now: number): Promise<boolean> => {
    await connection.unsafe(beginBounded)
    const rows = await (changes.existingOnly ? lockStored : claimRow).rows(connection, { id })
    const stored = aliveData(rows[0], now)
    if (!stored && changes.existingOnly) {
      await connection.unsafe('ROLLBACK')
      return false
    }
    await writeRow.write(connection, { id, data: applyChanges(stored, changes), expiresAt: changes.expiresAt })
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
   * Runs `work` within the time limit on a connection of its own, and refuses it once the engine is closed. At the
   * time limit the connection is closed (the server rolls back what the call had begun) and the call never runs again.
   */
  const call = <T>(what: string, work: (connection: SQL) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(closedError())
    return withinTimeLimit(
      (signal) => {
        // Other pooled connections may hang on the same broken path as this call's.
        signal.addEventListener('abort', () => closed || checkForHungConnections(), { once: true })
        return retryOnEndedConnection(signal, () => onReservedConnection(client, signal, work))
      },
      operationTimeout,
      `The postgres session engine's ${what}`,
    )
  }

  /** What a call about an id no session can have resolves to, without a round trip; refused once closed too. */
  const unknownId = <T>(answer: T): Promise<T> => (closed ? Promise.reject(closedError()) : Promise.resolve(answer))

  /** Deletes in batches of `DELETE_BATCH` rows, each in a call of its own, until one deletes fewer. */
  const deleteBatches = (what: string, deleteBatch: (connection: SQL) => Promise<number>) =>
    deleteInBatches(DELETE_BATCH, () => call(what, deleteBatch))

  return {
    name: 'postgres',

    load(id: string, now: number): Promise<StoredSession | null> {
      if (!isSafeSessionId(id)) return unknownId(null)
      return call('load', async (connection) => {
        const [row] = await loadAlive.rows(connection, { id, now })
        return row ? { data: dataOf(row[0]), expiresAt: expiryOf(row[1]) } : null
      })
    },

    commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) {
        return Promise.reject(unsafeIdError('postgresEngine', id))
      }
      return call('commit', (connection) => commitOn(connection, id, changes, now))
    },

    touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return unknownId(false)
      return call('touch', async (connection) => (await moveExpiry.write(connection, { id, expiresAt, now })) > 0)
    },

    delete(id: string): Promise<void> {
      if (!isSafeSessionId(id)) return unknownId(undefined)
      return call('delete', async (connection) => {
        await deleteOne.write(connection, { id })
      })
    },

    async deleteAll(): Promise<void> {
      await deleteBatches('deleteAll', (connection) => deleteBatch.write(connection))
    },

    count(now: number): Promise<number> {
      return call('count', async (connection) => Number((await countAlive.rows(connection, { now }))[0]?.[0] ?? 0))
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      checkBatchSize(batchSize)
      let after = ''
      for (;;) {
        const rows = await call('entries', (connection) => pageAfter.rows(connection, { after, now, limit: batchSize }))
        if (rows.length === 0) return
        yield rows.map(
          (row): SessionEntry => ({ id: row[0] as string, data: dataOf(row[1]), expiresAt: expiryOf(row[2]) }),
        )
        if (rows.length < batchSize) return
        after = rows[rows.length - 1]![0] as string
      }
    },

    deleteExpired(now: number): Promise<number> {
      return deleteBatches('deleteExpired', (connection) => deleteExpiredBatch.write(connection, { now }))
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      // Calls already running get up to one operationTimeout to finish.
      if (ownsClient) await client.close({ timeout: operationTimeout / 1_000 })
    },
  }
}

function closedError(): Error {
  return new Error('The postgres session engine is closed')
}
