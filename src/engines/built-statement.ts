import { fillPlaceholders, is, Param, Placeholder } from 'drizzle-orm'

/** A Drizzle query before it is prepared: anything whose SQL text and parameters `toSQL()` reads. */
export interface DrizzleQuery {
  toSQL(): { readonly sql: string; readonly params: readonly unknown[] }
}

/**
 * A statement built once by Drizzle's query builder on an engine's schema, so the schema writes every table and
 * column name: its SQL text, and its parameters in the driver's order (fixed values, and placeholders filled on each
 * call). Engines run it on their driver directly, without Drizzle's per-call query objects.
 */
export interface BuiltStatement {
  readonly sql: string
  readonly params: readonly unknown[]
}

/** Builds `query`'s SQL text and parameters once. */
export function buildStatement(query: DrizzleQuery): BuiltStatement {
  const { sql, params } = query.toSQL()
  return { sql, params }
}

/** A statement with no parameters, for SQL no query builder writes, such as `COMMIT`. */
export function fixedStatement(sql: string): BuiltStatement {
  return { sql, params: [] }
}

/**
 * The values to send with `statement`, in its parameters' order: each placeholder filled from `values` and encoded by
 * its column's mapper where the query gave it one, as Drizzle's own prepared queries do.
 */
export function bindValues(statement: BuiltStatement, values: Record<string, unknown> = {}): unknown[] {
  return fillPlaceholders(statement.params as unknown[], values)
}

/**
 * Throws unless `statement`'s parameters are exactly the placeholders `names`, in that order, for a driver that takes
 * a call's values by position with no work per call: a change to the query cannot then silently swap two values.
 * Values given by position skip the columns' mappers, so their callers encode them.
 */
export function checkPlaceholderOrder(statement: BuiltStatement, names: readonly string[]): void {
  const found = statement.params.map(placeholderName)
  if (found.join() !== names.join()) {
    throw new Error(`Expected the placeholders ${names.join(', ')} in ${statement.sql}, found ${found.join(', ')}`)
  }
}

/** The name of a placeholder, bare or wrapped in a column's encoder as in `insert(...).values(...)`. */
function placeholderName(param: unknown): string {
  const inner = is(param, Param) ? param.value : param
  if (is(inner, Placeholder)) return inner.name
  throw new Error(`A statement run with values by position takes placeholders only, got ${String(inner)}`)
}
