import type { SQL } from 'bun'
import { type BuiltStatement, bindValues } from '../built-statement.js'

/**
 * Runs `statement` on `connection` (a reserved connection, in a transaction or not) with its placeholders filled from
 * `values`, and resolves to the rows, each an array of the statement's columns in their order.
 */
export function queryRows(connection: SQL, statement: BuiltStatement, values?: Record<string, unknown>) {
  return connection.unsafe(statement.sql, bindValues(statement, values)).values() as Promise<unknown[][]>
}

/** Runs `statement` like `queryRows`, and resolves to how many rows it changed. */
export async function queryChanges(
  connection: SQL,
  statement: BuiltStatement,
  values?: Record<string, unknown>,
): Promise<number> {
  return ((await connection.unsafe(statement.sql, bindValues(statement, values))) as { count: number }).count
}
