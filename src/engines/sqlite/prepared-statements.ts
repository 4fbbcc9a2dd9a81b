import type { Database, SQLQueryBindings, Statement } from 'bun:sqlite'
import { type BuiltStatement, checkPlaceholderOrder } from '../built-statement.js'

/** The statements an engine prepared on its connection, finalized together when it closes. */
export interface PreparedStatements {
  /**
   * Prepares `statement` on the connection, to run with its values by position in the order `placeholders` names
   * them, and to read rows as arrays: bun:sqlite then does all the work of a call. Values go to SQLite as given, so
   * callers encode them (JSON columns included) themselves.
   */
  prepare<Values extends SQLQueryBindings[]>(
    statement: BuiltStatement,
    placeholders: readonly string[],
  ): Statement<unknown, Values>
  /** Finalizes every statement prepared so far. */
  finalizeAll(): void
}

/**
 * Prepares an engine's statements on `connection` and keeps them: a statement left unfinalized keeps the database
 * open after `close()` until it is garbage-collected, and with it the WAL file.
 */
export function preparedStatements(connection: Database): PreparedStatements {
  const prepared: Statement[] = []
  return {
    prepare<Values extends SQLQueryBindings[]>(statement: BuiltStatement, placeholders: readonly string[]) {
      checkPlaceholderOrder(statement, placeholders)
      const native = connection.prepare(statement.sql) as Statement<unknown, Values>
      prepared.push(native as Statement)
      return native
    },
    finalizeAll() {
      for (const statement of prepared.splice(0)) statement.finalize()
    },
  }
}
