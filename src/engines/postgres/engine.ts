import type { SQL } from 'bun'
import { and, count, DrizzleQueryError, eq, gt, inArray, lte, sql } from 'drizzle-orm'
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
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import { withinTimeLimit } from '../time-limit.js'
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
 * How many expired rows one DELETE removes: each batch locks a thousand rows for a few milliseconds only, and the rows
 * other sweeps or commits hold are skipped, not waited for.
 */
export const SWEEP_BATCH = 1_000

const placeholder = sql.placeholder

/** A session engine on a Bun SQL client for PostgreSQL, with every statement built once. */
export function createPostgresEngine(client: SQL, parts: PostgresEngineParts): SessionEngine {
  const { table, ownsClient, operationTimeout } = parts
  const db = drizzle({ client })
  const alive = gt(table.expiresAt, placeholder('now'))

  const loadAlive = db
    .select({ data: table.data, expiresAt: table.expiresAt })
    .from(table)
    .where(and(eq(table.id, placeholder('id')), alive))
    .prepare('load_session')
  const moveExpiry = db
    .update(table)
    .set({ expiresAt: sql`${placeholder('expiresAt')}` })
    .where(and(eq(table.id, placeholder('id')), alive))
    .returning({ id: table.id })
    .prepare('touch_session')
  const deleteOne = db
    .delete(table)
    .where(eq(table.id, placeholder('id')))
    .prepare('delete_session')
  const deleteEvery = db.delete(table).prepare('delete_all_sessions')
  const countAlive = db.select({ count: count() }).from(table).where(alive).prepare('count_sessions')
  const pageAfter = db
    .select()
    .from(table)
    .where(and(gt(table.id, placeholder('after')), alive))
    .orderBy(table.id)
    .limit(placeholder('limit'))
    .prepare('page_sessions')
  // SKIP LOCKED: rows another sweep is deleting, or a commit is writing, are left to them instead of waited for.
  const expiredIds = db
    .select({ id: table.id })
    .from(table)
    .where(lte(table.expiresAt, placeholder('now')))
    .limit(SWEEP_BATCH)
    .for('update', { skipLocked: true })
  const deleteExpiredBatch = db
    .delete(table)
    .where(inArray(table.id, expiredIds))
    .returning({ id: table.id })
    .prepare('sweep_sessions')

  // The commit's statements, locking the row so concurrent commits to one session merge one after the other.
  const lockStored = reusableStatement(
    db
      .select({ data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(eq(table.id, placeholder('id')))
      .for('update'),
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
      .where(eq(table.id, placeholder('id'))),
  )

  const commitInTransaction = (id: string, changes: SessionChanges, now: number): Promise<boolean> =>
    client.begin(async (transaction): Promise<boolean> => {
      const rows = await (changes.existingOnly ? lockStored : claimRow)(transaction, { id })
      const stored = aliveData(rows[0], now)
      if (!stored && changes.existingOnly) return false
      const data = applyChanges(stored, changes)
      await writeRow(transaction, { id, data, expiresAt: changes.expiresAt })
      return true
    })

  /** The data of a locked `[data, expires_at]` row, or undefined when there is none or it expired at `now`. */
  const aliveData = (row: unknown[] | undefined, now: number): SessionData | undefined => {
    if (!row || (table.expiresAt.mapFromDriverValue(row[1]) as number) <= now) return undefined
    return table.data.mapFromDriverValue(row[0]) as SessionData
  }

  let closed = false
  /** Runs one call within the time limit, and refuses it once the engine is closed. */
  const call = <T>(what: string, work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('The postgres session engine is closed'))
    const attempt = () => work().catch(rethrowDriverError)
    return withinTimeLimit(retryOnEndedConnection(attempt), operationTimeout, `The postgres session engine's ${what}`)
  }

  return {
    name: 'postgres',

    load(id: string, now: number): Promise<StoredSession | null> {
      if (!isSafeSessionId(id)) return call('load', async () => null)
      return call('load', async () => {
        const [stored] = await loadAlive.execute({ id, now })
        return stored ? { data: stored.data, expiresAt: stored.expiresAt } : null
      })
    },

    commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) {
        return Promise.reject(unsafeIdError('postgresEngine', id))
      }
      return call('commit', () => commitInTransaction(id, changes, now))
    },

    touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return call('touch', async () => false)
      return call('touch', async () => (await moveExpiry.execute({ id, expiresAt, now })).length > 0)
    },

    delete(id: string): Promise<void> {
      if (!isSafeSessionId(id)) return call('delete', async () => {})
      return call('delete', async () => {
        await deleteOne.execute({ id })
      })
    },

    deleteAll(): Promise<void> {
      return call('deleteAll', async () => {
        await deleteEvery.execute()
      })
    },

    count(now: number): Promise<number> {
      return call('count', async () => (await countAlive.execute({ now }))[0]?.count ?? 0)
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      let after = ''
      for (;;) {
        const rows = await call('entries', () => pageAfter.execute({ after, now, limit: batchSize }))
        if (rows.length === 0) return
        yield rows.map((row): SessionEntry => ({ id: row.id, data: row.data as SessionData, expiresAt: row.expiresAt }))
        if (rows.length < batchSize) return
        after = rows[rows.length - 1]!.id
      }
    },

    async deleteExpired(now: number): Promise<number> {
      let deleted = 0
      for (;;) {
        const removed = (await call('deleteExpired', () => deleteExpiredBatch.execute({ now }))).length
        deleted += removed
        if (removed < SWEEP_BATCH) return deleted
      }
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      // Calls already running get up to one operationTimeout to finish.
      if (ownsClient) await client.close({ timeout: operationTimeout / 1_000 })
    },
  }
}

/**
 * Throws the driver's own error (with its `code`, such as `ERR_POSTGRES_CONNECTION_CLOSED`) rather than Drizzle's
 * wrapper, whose message lists the query's parameters: session ids, which must never reach a log.
 */
function rethrowDriverError(error: unknown): never {
  throw error instanceof DrizzleQueryError && error.cause !== undefined ? error.cause : error
}
