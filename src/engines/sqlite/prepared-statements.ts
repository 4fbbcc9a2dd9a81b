import type { Database, SQLQueryBindings, Statement } from 'bun:sqlite'
import { type BuiltStatement, checkPlaceholderOrder } from '../built-statement.js'

/** The statements prepared on one connection, by the engine or by Drizzle, finalized together when they are done. */
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
  /**
   * The connection to hand to Drizzle when Drizzle prepares statements itself (its migrator does, one per statement
   * it runs): the same database, with every `prepare` kept here too.
   */
  readonly drizzleClient: Database
  /** Finalizes every statement prepared so far. */
  finalizeAll(): void
}

/**
 * Keeps every statement prepared on `connection` through it: a statement left unfinalized keeps the database open
 * after `close()` until it is garbage-collected, and with it the WAL file.
 */
export function preparedStatements(connection: Database): PreparedStatements {
  const prepared: Statement[] = []
  const keep = <T extends Statement>(statement: T): T => {
    prepared.push(statement)
    return statement
  }
  const drizzleClient = new Proxy(connection, {
    get(target, property) {
      if (property === 'prepare') {
        return (...args: Parameters<Database['prepare']>) => keep(target.prepare(...args) as Statement)
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    prepare<Values extends SQLQueryBindings[]>(statement: BuiltStatement, placeholders: readonly string[]) {
      checkPlaceholderOrder(statement, placeholders)
      return keep(connection.prepare(statement.sql) as Statement<unknown, Values>)
    },
    drizzleClient,
    finalizeAll() {
      for (const statement of prepared.splice(0)) statement.finalize()
    },
  }
}
