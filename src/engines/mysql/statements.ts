import { and, count, eq, gt, lte, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/mysql2'
import type { SessionsTable } from './schema.js'

/** One SQL statement, built once: its text and its parameters, some of them placeholders filled on each call. */
export interface Statement {
  readonly sql: string
  readonly params: readonly unknown[]
}

/**
 * How many rows one DELETE removes: each batch holds its row locks for a few milliseconds only, so commits waiting
 * on those rows never wait long, and a sweep never fills the undo log.
 */
export const DELETE_BATCH = 1_000

/** Every statement the MySQL engine runs on `table`, built once by Drizzle. */
export type SessionStatements = ReturnType<typeof buildStatements>

const placeholder = sql.placeholder

/** Builds the engine's statements on `table`; Drizzle writes the SQL, the engine runs it on a connection it holds. */
export function buildStatements(table: SessionsTable) {
  // No client: this Drizzle instance only writes SQL.
  const db = drizzle.mock()
  const byId = eq(table.id, placeholder('id'))
  const alive = gt(table.expiresAt, placeholder('now'))
  const fixed = (text: string): Statement => ({ sql: text, params: [] })
  return {
    begin: fixed('start transaction'),
    commit: fixed('commit'),
    rollback: fixed('rollback'),
    /** Applies to the next transaction only: READ COMMITTED locks the rows a statement changes and no gaps. */
    readCommittedNext: fixed('set transaction isolation level read committed'),
    loadAlive: db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(and(byId, alive)).toSQL(),
    /**
     * Creates the row as an expired placeholder (invisible, and gone on rollback) or leaves it as it is: either way
     * the transaction then holds the row's lock, without the gap locks a locking read of a missing row takes.
     */
    lockRow: db
      .insert(table)
      .values({ id: placeholder('id'), data: {}, expiresAt: 0 })
      .onDuplicateKeyUpdate({ set: { id: sql`${table.id}` } })
      .toSQL(),
    readLocked: db
      .select({ data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(byId)
      .for('update')
      .toSQL(),
    write: db
      .update(table)
      .set({ data: sql`${placeholder('data')}`, expiresAt: sql`${placeholder('expiresAt')}` })
      .where(byId)
      .toSQL(),
    moveExpiry: db
      .update(table)
      .set({ expiresAt: sql`${placeholder('expiresAt')}` })
      .where(and(byId, alive))
      .toSQL(),
    deleteOne: db.delete(table).where(byId).toSQL(),
    deleteBatch: db.delete(table).limit(DELETE_BATCH).toSQL(),
    deleteExpiredBatch: db
      .delete(table)
      .where(lte(table.expiresAt, placeholder('now')))
      .orderBy(table.expiresAt)
      .limit(DELETE_BATCH)
      .toSQL(),
    countAlive: db.select({ count: count() }).from(table).where(alive).toSQL(),
    pageAfter: db
      .select({ id: table.id, data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(and(gt(table.id, placeholder('after')), alive))
      .orderBy(table.id)
      .limit(placeholder('limit'))
      .toSQL(),
  } satisfies Record<string, Statement>
}
