import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import type { SessionData } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { freshDatabasePath, openRaw } from './support/sqlite.js'

const HOUR = 3_600_000

function changes(set: Record<string, unknown>, now: number) {
  return { set: set as SessionData, deleted: [], expiresAt: now + HOUR }
}

test('a load sees what another connection wrote to a session this engine read or wrote before', async () => {
  const path = freshDatabasePath()
  const engine = await sqliteEngine({ path })
  const now = Date.now()
  await engine.commit('abc', changes({ 'int:n': 1 }, now), now)
  expect((await engine.load('abc', now))?.data).toEqual({ 'int:n': 1 })
  const other = openRaw(path)
  other.run(`UPDATE sessions SET data = '{"int:n":2}' WHERE id = 'abc'`)
  expect((await engine.load('abc', now))?.data).toEqual({ 'int:n': 2 })
  await engine.commit('abc', { ...changes({ 'int:m': 3 }, now), existingOnly: true }, now)
  other.run(`DELETE FROM sessions WHERE id = 'abc'`)
  expect(await engine.load('abc', now)).toBeNull()
  other.close()
  await engine.close()
})

test('on a connection shared with the app, a load sees what the app wrote through that connection', async () => {
  const database = new Database(':memory:')
  const engine = await sqliteEngine({ database, migrate: true })
  const now = Date.now()
  await engine.commit('abc', changes({ 'int:n': 1 }, now), now)
  expect((await engine.load('abc', now))?.data).toEqual({ 'int:n': 1 })
  database.run(`UPDATE sessions SET data = '{"int:n":2}' WHERE id = 'abc'`)
  expect((await engine.load('abc', now))?.data).toEqual({ 'int:n': 2 })
  await engine.close()
  database.close()
})

test('a batch that rolls back leaves nothing of itself behind, and its other commits are written on their own', async () => {
  const engine = await sqliteEngine({ path: freshDatabasePath() })
  const now = Date.now()
  await engine.commit('abc', changes({ 'int:n': 1 }, now), now)
  const settled = await Promise.allSettled([
    engine.commit('abc', changes({ 'int:n': 2 }, now), now),
    // JSON cannot hold a bigint: this commit fails after the first one of its batch was written.
    engine.commit('def', changes({ 'int:n': 10n }, now), now),
    engine.load('abc', now),
  ])
  expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  expect((settled[2] as PromiseFulfilledResult<{ data: SessionData } | null>).value?.data).toEqual({ 'int:n': 2 })
  expect(await engine.load('def', now)).toBeNull()
  expect((await engine.load('abc', now))?.data).toEqual({ 'int:n': 2 })
  await engine.close()
})

test('expired sessions swept by the engine stay gone for loads at an earlier time', async () => {
  const engine = await sqliteEngine({ path: freshDatabasePath() })
  const now = Date.now()
  await engine.commit('abc', { set: { 'int:n': 1 }, deleted: [], expiresAt: now + 10 }, now)
  expect(await engine.load('abc', now)).not.toBeNull()
  expect(await engine.deleteExpired(now + 10)).toBe(1)
  expect(await engine.load('abc', now)).toBeNull()
  await engine.close()
})
