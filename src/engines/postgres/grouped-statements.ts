import { type SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { type BuiltStatement, buildStatement } from '../built-statement.js'
import type { SessionsTable } from './schema.js'

/** The statements that serve a group of calls at once, each taking arrays with one element per session. */
export interface GroupedStatements {
  /** `ids`, and a time `now`: `[id, data, expires_at]` of those stored and alive at that time. */
  readonly loadAlive: BuiltStatement
  /** `ids`: `[id, data, expires_at]` of those stored, each locked, in id order. */
  readonly lockRows: BuiltStatement
  /** `ids`, `data` as JSON text, `expiries`: writes each row. */
  readonly writeRows: BuiltStatement
  /**
   * The same arrays, with `owners` and booleans `ownerSet`: writes each row, and its owner where `ownerSet` is true;
   * for groups in which some commit moves an owner.
   */
  readonly writeRowsWithOwners: BuiltStatement
  /**
   * `ids`, `data`, `expiries` and `owners`: inserts each row in id order, unless one with its id exists; `[id]` of
   * those inserted.
   */
  readonly insertRows: BuiltStatement
}

const placeholder = sql.placeholder

/** Builds the grouped statements on `table`, whose name Drizzle quotes. */
export function groupedStatements(table: SessionsTable): GroupedStatements {
  const dialect = new PgDialect()
  const build = (query: SQL) => buildStatement({ toSQL: () => dialect.sqlToQuery(query) })
  const id = sql.identifier(table.id.name)
  const data = sql.identifier(table.data.name)
  const expiresAt = sql.identifier(table.expiresAt.name)
  const owner = sql.identifier(table.owner.name)
  const columns = sql`${id}, ${data}, ${expiresAt}`
  const ids = placeholder('ids')
  const rowArrays = sql`${ids}::text[], ${placeholder('data')}::text[], ${placeholder('expiries')}::bigint[]`
  // One array per column, aliased, so no table name can clash with the alias of the given values.
  const given = sql`unnest(${rowArrays}) AS given(id, data, expires_at)`
  const givenOwners = sql`unnest(${rowArrays}, ${placeholder('owners')}::text[], ${placeholder('ownerSet')}::boolean[])
    AS given(id, data, expires_at, owner, owner_set)`
  const givenNew = sql`unnest(${rowArrays}, ${placeholder('owners')}::text[]) AS given(id, data, expires_at, owner)`
  return {
    loadAlive: build(
      sql`SELECT ${columns} FROM ${table} WHERE ${id} = ANY(${ids}::text[]) AND ${expiresAt} > ${placeholder('now')}`,
    ),
    // Every statement that locks several rows locks them in id order, so two groups never deadlock.
    lockRows: build(sql`SELECT ${columns} FROM ${table} WHERE ${id} = ANY(${ids}::text[]) ORDER BY ${id} FOR UPDATE`),
    writeRows: build(
      sql`UPDATE ${table} AS stored SET ${data} = given.data, ${expiresAt} = given.expires_at
        FROM ${given} WHERE stored.${id} = given.id`,
    ),
    writeRowsWithOwners: build(
      sql`UPDATE ${table} AS stored SET ${data} = given.data, ${expiresAt} = given.expires_at,
        ${owner} = CASE WHEN given.owner_set THEN given.owner ELSE stored.${owner} END
        FROM ${givenOwners} WHERE stored.${id} = given.id`,
    ),
    insertRows: build(
      sql`INSERT INTO ${table} (${columns}, ${owner}) SELECT * FROM ${givenNew}
        ORDER BY given.id ON CONFLICT (${id}) DO NOTHING RETURNING ${id}`,
    ),
  }
}
