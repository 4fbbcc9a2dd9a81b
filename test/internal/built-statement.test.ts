import { describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { drizzle as postgresDrizzle } from 'drizzle-orm/bun-sql'
import { drizzle as sqliteDrizzle } from 'drizzle-orm/bun-sqlite'
import { sessions as postgresSessions } from 'elysia-sessions/engines/postgres'
import { sessions as sqliteSessions } from 'elysia-sessions/engines/sqlite'
import { bindValues, buildStatement, checkPlaceholderOrder, fixedStatement } from '../../src/engines/built-statement.js'

const placeholder = sql.placeholder

describe('a statement built once by Drizzle', () => {
  test('keeps the SQL text Drizzle writes for the schema', () => {
    const db = sqliteDrizzle.mock()
    const query = db.delete(sqliteSessions).where(eq(sqliteSessions.id, placeholder('id')))
    expect(buildStatement(query).sql).toBe(query.toSQL().sql)
    expect(fixedStatement('commit')).toEqual({ sql: 'commit', params: [] })
  })

  test('binds a call’s values by placeholder name, encoded by the column, with the fixed values in their place', () => {
    const db = postgresDrizzle.mock()
    const claim = buildStatement(
      db
        .insert(postgresSessions)
        .values({ id: placeholder('id'), data: {}, expiresAt: 0 })
        .onConflictDoNothing(),
    )
    expect(bindValues(claim, { id: 'abc' })).toEqual(['abc', '{}', 0])
    const write = buildStatement(
      db
        .update(postgresSessions)
        .set({ data: sql`${sql.param(placeholder('data'), postgresSessions.data)}` })
        .where(eq(postgresSessions.id, placeholder('id'))),
    )
    expect(bindValues(write, { id: 'abc', data: { 'int:n': 1 } })).toEqual(['{"int:n":1}', 'abc'])
    expect(() => bindValues(write, { id: 'abc' })).toThrow(/data/)
  })

  test('run with values by position, it must name its placeholders in the order its values are passed', () => {
    const db = sqliteDrizzle.mock()
    const query = buildStatement(
      db
        .update(sqliteSessions)
        .set({ expiresAt: sql`${placeholder('expiresAt')}` })
        .where(eq(sqliteSessions.id, placeholder('id'))),
    )
    expect(() => checkPlaceholderOrder(query, ['expiresAt', 'id'])).not.toThrow()
    expect(() => checkPlaceholderOrder(query, ['id', 'expiresAt'])).toThrow(/Expected the placeholders id, expiresAt/)
    const inlineValue = buildStatement(db.delete(sqliteSessions).where(eq(sqliteSessions.id, 'abc')))
    expect(() => checkPlaceholderOrder(inlineValue, [])).toThrow(/placeholders only/)
  })
})
