import { and, count, eq, gt, lte, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/mysql2'
import type { PoolConnection, ResultSetHeader } from 'mysql2/promise'
import { type BuiltStatement, bindValues, buildStatement, fixedStatement } from '../built-statement.js'
import type { SessionsTable } from './schema.js'

/**
 * How many rows one DELETE removes: each batch holds its row locks briefly, so commits waiting on those rows never
 * wait long, and a sweep never fills the undo log.
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
  // The owner's live sessions, found through the (owner, expires_at) index.
  const byOwner = and(eq(table.owner, placeholder('owner')), alive)
  const writtenRow = { data: sql`${placeholder('data')}`, expiresAt: sql`${placeholder('expiresAt')}` }
  return {
    begin: fixedStatement('start transaction'),
    commit: fixedStatement('commit'),
    rollback: fixedStatement('rollback'),
    /** Applies to the next transaction only: READ COMMITTED locks the rows a statement changes and no gaps. */
    readCommittedNext: fixedStatement('set transaction isolation level read committed'),
    loadAlive: buildStatement(
      db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(and(byId, alive)),
    ),
    /**
     * Creates the row as an expired placeholder (invisible, and gone on rollback) or leaves it as it is: either way
     * the transaction then holds the row's lock, without the gap locks a locking read of a missing row takes.
     */
    lockRow: buildStatement(
      db
        .insert(table)
        .values({ id: placeholder('id'), data: {}, expiresAt: 0 })
        .onDuplicateKeyUpdate({ set: { id: sql`${table.id}` } }),
    ),
    readLocked: buildStatement(
      db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(byId).for('update'),
    ),
    write: buildStatement(db.update(table).set(writtenRow).where(byId)),
    /** `write` that also sets the owner column, for a commit that moves the owner or starts the session anew. */
    writeWithOwner: buildStatement(
      db
        .update(table)
        .set({ ...writtenRow, owner: sql`${placeholder('owner')}` })
        .where(byId),
    ),
    listOwned: buildStatement(
      db.select({ id: table.id, data: table.data, expiresAt: table.expiresAt }).from(table).where(byOwner),
    ),
    deleteOwned: buildStatement(db.delete(table).where(byOwner)),
    /** `deleteOwned` but for the ids in `except`, which must not be empty: MySQL has no empty `IN ()`. */
    deleteOwnedExcept: buildStatement(
      db.delete(table).where(and(byOwner, sql`${table.id} NOT IN (${placeholder('except')})`)),
    ),
    moveExpiry: buildStatement(
      db
        .update(table)
        .set({ expiresAt: sql`${placeholder('expiresAt')}` })
        .where(and(byId, alive)),
    ),
    deleteOne: buildStatement(db.delete(table).where(byId)),
    deleteBatch: buildStatement(db.delete(table).limit(DELETE_BATCH)),
    deleteExpiredBatch: buildStatement(
      db
        .delete(table)
        .where(lte(table.expiresAt, placeholder('now')))
        .orderBy(table.expiresAt)
        .limit(DELETE_BATCH),
    ),
    countAlive: buildStatement(db.select({ count: count() }).from(table).where(alive)),
    pageAfter: buildStatement(
      db
        .select({ id: table.id, data: table.data, expiresAt: table.expiresAt })
        .from(table)
        .where(and(gt(table.id, placeholder('after')), alive))
        .orderBy(table.id)
        .limit(placeholder('limit')),
    ),
  } satisfies Record<string, BuiltStatement>
}

/**
 * Runs `statement` on `connection` with its placeholders filled from `values`, and resolves to the rows, each an
 * array of the statement's columns in their order.
 */
export function queryRows(
  connection: PoolConnection,
  statement: BuiltStatement,
  values?: Record<string, unknown>,
): Promise<unknown[][]> {
  return query(connection, statement, values, true) as Promise<unknown[][]>
}

/** Runs `statement` like `queryRows`, and resolves to how many rows it matched. */
export async function queryChanges(
  connection: PoolConnection,
  statement: BuiltStatement,
  values?: Record<string, unknown>,
): Promise<number> {
  return ((await query(connection, statement, values, false)) as ResultSetHeader).affectedRows
}

async function query(
  connection: PoolConnection,
  statement: BuiltStatement,
  values: Record<string, unknown> | undefined,
  rowsAsArray: boolean,
): Promise<unknown> {
  try {
    const [result] = await connection.query({ sql: statement.sql, values: bindValues(statement, values), rowsAsArray })
    return result
  } catch (error) {
    // mysql2 puts the SQL with every value inlined on its errors; logs must not get session data from it.
    if (typeof error === 'object' && error !== null && 'sql' in error) error.sql = statement.sql
    throw error
  }
}
