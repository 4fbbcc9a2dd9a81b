import type { SQL } from 'bun'
import { fillPlaceholders } from 'drizzle-orm'

/** A statement Drizzle built once, to run with placeholder values on any connection, in a transaction or not. */
export interface ReusableStatement {
  /** Runs it and resolves to the rows, each an array of the query's columns in their order. */
  rows(connection: SQL, values?: Record<string, unknown>): Promise<unknown[][]>
  /** Runs it and resolves to how many rows it changed. */
  write(connection: SQL, values?: Record<string, unknown>): Promise<number>
}

/**
 * Builds `query`'s SQL once. Drizzle's prepared queries are bound to the client they were made on, so they cannot run
 * on a reserved connection; this runs the same text there, with the values encoded by the columns' own mappers.
 */
export function reusableStatement(query: { toSQL(): { sql: string; params: unknown[] } }): ReusableStatement {
  const { sql: text, params } = query.toSQL()
  return {
    rows: (connection, values = {}) => connection.unsafe(text, fillPlaceholders(params, values)).values(),
    write: async (connection, values = {}) =>
      ((await connection.unsafe(text, fillPlaceholders(params, values))) as { count: number }).count,
  }
}
