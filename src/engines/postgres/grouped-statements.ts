import { type SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { SessionsTable } from './schema.js'

/** The SQL of the statements that serve a group of calls at once, each taking arrays with one element per session. */
export interface GroupedStatements {
  /** `$1` ids, `$2` a time: `[id, data, expires_at]` of those stored and alive at that time. */
  readonly loadAlive: string
  /** `$1` ids: `[id, data, expires_at]` of those stored, each locked, in id order. */
  readonly lockRows: string
  /** `$1` ids, `$2` data as JSON text, `$3` expiries: writes each row. */
  readonly writeRows: string
  /** The same arrays: inserts each row in id order, unless one with its id exists; `[id]` of those inserted. */
  readonly insertRows: string
}

/** Builds the grouped statements on `table`, whose name Drizzle quotes. */
export function groupedStatements(table: SessionsTable): GroupedStatements {
  const dialect = new PgDialect()
  const text = (query: SQL) => dialect.sqlToQuery(query).sql
  const id = sql.identifier(table.id.name)
  const data = sql.identifier(table.data.name)
  const expiresAt = sql.identifier(table.expiresAt.name)
  const columns = sql`${id}, ${data}, ${expiresAt}`
  return {
    loadAlive: text(sql`SELECT ${columns} FROM ${table} WHERE ${id} = ANY($1::text[]) AND ${expiresAt} > $2`),
    // Every statement that locks several rows locks them in id order, so two groups never deadlock.
    lockRows: text(sql`SELECT ${columns} FROM ${table} WHERE ${id} = ANY($1::text[]) ORDER BY ${id} FOR UPDATE`),
    writeRows: text(
      // Aliased, so no table name can clash with the alias of the given values.
      sql`UPDATE ${table} AS stored SET ${data} = given.data, ${expiresAt} = given.expires_at
        FROM unnest($1::text[], $2::text[], $3::bigint[]) AS given(id, data, expires_at) WHERE stored.${id} = given.id`,
    ),
    insertRows: text(
      sql`INSERT INTO ${table} (${columns}) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS given(id, data, expires_at)
        ORDER BY given.id ON CONFLICT (${id}) DO NOTHING RETURNING ${id}`,
    ),
  }
}
