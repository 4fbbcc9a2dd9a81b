import type { Database, SQLQueryBindings } from 'bun:sqlite'
import { is, Param, Placeholder } from 'drizzle-orm'

/** A Drizzle query before `.prepare()`, whose SQL text and parameters can be read. */
export interface BuiltQuery {
  toSQL(): { readonly sql: string; readonly params: readonly unknown[] }
}

/**
 * Prepares the SQL Drizzle builds for `query` on `connection` itself, to run with positional values and read rows as
 * arrays: the schema still writes the SQL (table and column names included), without Drizzle's per-call placeholder
 * filling and row mapping, which cost more than the point read they wrap. `placeholders` names the query's placeholders
 * in the order the values are passed; a query whose placeholders differ throws, so a change to the query cannot
 * silently swap two values. Values go to SQLite as given: callers encode them (JSON columns included) themselves.
 */
export function prepareDirect<Values extends SQLQueryBindings[]>(
  connection: Database,
  query: BuiltQuery,
  placeholders: readonly string[],
) {
  const { sql, params } = query.toSQL()
  const names = params.map(placeholderName)
  if (names.join() !== placeholders.join()) {
    throw new Error(`Expected the placeholders ${placeholders.join(', ')} in ${sql}, found ${names.join(', ')}`)
  }
  return connection.prepare<unknown, Values>(sql)
}

/** The name of a placeholder, bare or wrapped in a column's encoder as in `insert(...).values(...)`. */
function placeholderName(param: unknown): string {
  const inner = is(param, Param) ? param.value : param
  if (is(inner, Placeholder)) return inner.name
  throw new Error(`A directly prepared query takes placeholders only, got ${String(inner)}`)
}
