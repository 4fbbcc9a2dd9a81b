import type { Database } from 'bun:sqlite'
import { and, count, eq, gt, inArray, lte, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import type {
  EngineReopener,
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  StoredSession,
} from '../../engine.js'
import { applyChanges } from '../apply-changes.js'
import { createGroupCommit } from './group-commit.js'
import type { SessionsTable } from './schema.js'
import { trackStatements } from './tracked-statements.js'

/** What `createSqliteEngine` needs besides the connection. */
export interface SqliteEngineParts {
  readonly table: SessionsTable
  /** Whether `close()` closes the connection: only when the engine opened it. */
  readonly ownsConnection: boolean
  readonly reopen?: EngineReopener
}

/**
 * How many expired rows one DELETE removes: each batch holds the write lock for a few milliseconds only, so other
 * connections (and the main thread, when a worker sweeps) never wait long.
 */
export const SWEEP_BATCH = 100

const placeholder = sql.placeholder

/** One session's commit, as it waits for its group. */
interface PendingCommit {
  readonly id: string
  readonly changes: SessionChanges
  readonly now: number
}

/** A session engine on one bun:sqlite connection, with every statement prepared once. */
export function createSqliteEngine(connection: Database, parts: SqliteEngineParts): SessionEngine {
  const { table, ownsConnection, reopen } = parts
  const tracked = trackStatements(connection)
  const db = drizzle({ client: tracked.client })
  const alive = gt(table.expiresAt, placeholder('now'))

  const loadAlive = db
    .select({ data: table.data, expiresAt: table.expiresAt })
    .from(table)
    .where(and(eq(table.id, placeholder('id')), alive))
    .prepare()
  const upsert = db
    .insert(table)
    .values({ id: placeholder('id'), data: placeholder('data'), expiresAt: placeholder('expiresAt') })
    .onConflictDoUpdate({
      target: table.id,
      set: { data: sql`excluded.${sql.identifier('data')}`, expiresAt: sql`excluded.${sql.identifier('expires_at')}` },
    })
    .prepare()
  const moveExpiry = db
    .update(table)
    .set({ expiresAt: sql`${placeholder('expiresAt')}` })
    .where(and(eq(table.id, placeholder('id')), alive))
    .returning({ id: table.id })
    .prepare()
  const deleteOne = db
    .delete(table)
    .where(eq(table.id, placeholder('id')))
    .prepare()
  const deleteEvery = db.delete(table).prepare()
  const countAlive = db.select({ count: count() }).from(table).where(alive).prepare()
  const pageAfter = db
    .select()
    .from(table)
    .where(and(gt(table.id, placeholder('after')), alive))
    .orderBy(table.id)
    .limit(placeholder('limit'))
    .prepare()
  const expiredIds = db
    .select({ id: table.id })
    .from(table)
    .where(lte(table.expiresAt, placeholder('now')))
    .limit(SWEEP_BATCH)
  const deleteExpiredBatch = db.delete(table).where(inArray(table.id, expiredIds)).returning({ id: table.id }).prepare()

  const commitOne = ({ id, changes, now }: PendingCommit): boolean => {
    const stored = loadAlive.get({ id, now })
    if (!stored && changes.existingOnly) return false
    const data = applyChanges(stored?.data, changes)
    upsert.run({ id, data, expiresAt: changes.expiresAt })
    return true
  }
  // IMMEDIATE takes the write lock before reading, so concurrent writers wait (busy_timeout) instead of failing on a
  // stale read snapshot, and no commit merges into data another connection has changed since.
  const commitGroup = connection.transaction((commits: readonly PendingCommit[]) => commits.map(commitOne))
  const grouped = createGroupCommit<PendingCommit>((commits) => commitGroup.immediate(commits))

  let closed = false
  const checkOpen = () => {
    if (closed) throw new Error('The sqlite session engine is closed')
  }

  return {
    name: 'sqlite',
    ...(reopen && { reopen }),

    async load(id: string, now: number): Promise<StoredSession | null> {
      checkOpen()
      const stored = loadAlive.get({ id, now })
      return stored ? { data: stored.data, expiresAt: stored.expiresAt } : null
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      checkOpen()
      return grouped.commit({ id, changes, now })
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      checkOpen()
      return moveExpiry.get({ id, expiresAt, now }) !== undefined
    },

    async delete(id: string): Promise<void> {
      checkOpen()
      deleteOne.run({ id })
    },

    async deleteAll(): Promise<void> {
      checkOpen()
      deleteEvery.run()
    },

    async count(now: number): Promise<number> {
      checkOpen()
      return countAlive.get({ now })?.count ?? 0
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      let after = ''
      for (;;) {
        checkOpen()
        const rows = pageAfter.all({ after, now, limit: batchSize })
        if (rows.length === 0) return
        yield rows.map((row): SessionEntry => ({ id: row.id, data: row.data as SessionData, expiresAt: row.expiresAt }))
        if (rows.length < batchSize) return
        after = rows[rows.length - 1]!.id
      }
    },

    async deleteExpired(now: number): Promise<number> {
      let deleted = 0
      for (;;) {
        checkOpen()
        const started = performance.now()
        const removed = deleteExpiredBatch.all({ now }).length
        deleted += removed
        if (removed < SWEEP_BATCH) return deleted
        // Leave the lock free twice as long as the batch held it: SQLite's busy handler retries at growing intervals (up to
        // 100 ms apart), so a waiter that keeps missing short gaps would stall its whole thread.
        await Bun.sleep(Math.max(2, 2 * (performance.now() - started)))
      }
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      grouped.flushNow()
      // Finalized statements let close() release the file now rather than when they are garbage-collected.
      tracked.finalizeAll()
      if (ownsConnection) connection.close()
    },
  }
}
