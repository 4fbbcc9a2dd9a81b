import type { SQL } from 'bun'
import { fillPlaceholders } from 'drizzle-orm'

/** A statement Drizzle built once, to run with placeholder values on any client, a transaction's included. */
export type ReusableStatement = (client: SQL, values: Record<string, unknown>) => Promise<unknown[][]>

/**
 * Builds `query`'s SQL once. Drizzle's prepared queries are bound to the client they were made on, so they cannot run
 * inside a Bun SQL transaction; this runs the same text there, with the values encoded by the columns' own mappers,
 * and resolves to the rows as arrays in the order of the query's columns.
 */
export function reusableStatement(query: { toSQL(): { sql: string; params: unknown[] } }): ReusableStatement {
  const { sql: text, params } = query.toSQL()
  return (client, values) => client.unsafe(text, fillPlaceholders(params, values)).values()
}
