import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { type SessionChanges, SessionConfigError, type SessionEngine, session } from 'elysia-sessions'
import { MIGRATIONS_TABLE, sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { cookiePairOf, idOf, SECRET, send } from './support/http.js'
import { freshDatabasePath, migrateAsOlderRelease, openRaw, SQLITE_MIGRATIONS } from './support/sqlite.js'

/** Where the plugin keeps the owner in a session's data; the engine stores it like any other key. */
const OWNER_KEY = 'meta:owner'
const HOUR = 3_600_000

const opened: { close(): unknown }[] = []
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close()
})

async function openEngine(path = freshDatabasePath()): Promise<SessionEngine> {
  const engine = await sqliteEngine({ path })
  opened.push(engine)
  return engine
}

function rawOn(path: string): Database {
  const raw = openRaw(path)
  opened.push(raw)
  return raw
}

/** A commit as the plugin sends it when a request binds the session to `owner`. */
function bindTo(owner: string, now: number, set: Record<string, string> = {}): SessionChanges {
  return { set: { ...set, [OWNER_KEY]: owner }, deleted: [], expiresAt: now + HOUR, owner }
}

/** A commit as the plugin sends it when a request changes other keys and leaves the owner alone. */
function write(set: Record<string, string>, now: number, expiresAt = now + HOUR): SessionChanges {
  return { set, deleted: [], expiresAt }
}

async function idsOf(engine: SessionEngine, owner: string, now: number): Promise<string[]> {
  return (await engine.listByOwner!(owner, now)).map((entry) => entry.id).sort()
}

function ownerColumn(raw: Database, id: string): unknown {
  return (raw.query('SELECT owner FROM sessions WHERE id = ?').get(id) as { owner: unknown } | null)?.owner
}

describe('the SQLite engine indexes sessions by owner', () => {
  test('declares the owners capability', async () => {
    expect((await openEngine()).capabilities?.owners).toBe(true)
  })

  test('lists an owner’s live sessions with their data and expiry, and no one else’s', async () => {
    const engine = await openEngine()
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now, { 'string:name': 'Ada' }), now)
    await engine.commit('b', bindTo('ada', now), now)
    await engine.commit('c', bindTo('bob', now), now)
    await engine.commit('d', write({ 'string:x': 'y' }, now), now)
    const listed = await engine.listByOwner!('ada', now)
    expect([...listed].sort((left, right) => left.id.localeCompare(right.id))).toEqual([
      { id: 'a', data: { 'string:name': 'Ada', [OWNER_KEY]: 'ada' }, expiresAt: now + HOUR },
      { id: 'b', data: { [OWNER_KEY]: 'ada' }, expiresAt: now + HOUR },
    ])
    expect(await idsOf(engine, 'nobody', now)).toEqual([])
  })

  test('a commit that leaves the owner alone keeps it, and does not write the owner column', async () => {
    const path = freshDatabasePath()
    const engine = await openEngine(path)
    const raw = rawOn(path)
    // UPDATE OF fires whenever a statement assigns the column, even to the value it already holds.
    raw.run('CREATE TABLE owner_writes (id TEXT)')
    raw.run(
      'CREATE TRIGGER count_owner_writes AFTER UPDATE OF owner ON sessions BEGIN INSERT INTO owner_writes VALUES (new.id); END',
    )
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now), now)
    await engine.commit('a', write({ 'string:n': '1' }, now), now)
    await engine.commit('a', { ...write({ 'string:n': '2' }, now), existingOnly: true }, now)
    expect(raw.query('SELECT count(*) AS n FROM owner_writes').get()).toEqual({ n: 0 })
    expect(await idsOf(engine, 'ada', now)).toEqual(['a'])
    expect((await engine.load('a', now))?.data).toEqual({ [OWNER_KEY]: 'ada', 'string:n': '2' })
    await engine.commit('a', { ...bindTo('bob', now), existingOnly: true }, now)
    expect(raw.query('SELECT count(*) AS n FROM owner_writes').get()).toEqual({ n: 1 })
  })

  test('a commit that changes the owner moves the session, and one that removes it unlists it', async () => {
    const path = freshDatabasePath()
    const engine = await openEngine(path)
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now), now)
    await engine.commit('a', { ...bindTo('bob', now), existingOnly: true }, now)
    expect(await idsOf(engine, 'ada', now)).toEqual([])
    expect(await idsOf(engine, 'bob', now)).toEqual(['a'])
    await engine.commit('a', { set: {}, deleted: [OWNER_KEY], expiresAt: now + HOUR, owner: null }, now)
    expect(await idsOf(engine, 'bob', now)).toEqual([])
    expect(ownerColumn(rawOn(path), 'a')).toBeNull()
    expect((await engine.load('a', now))?.data).toEqual({})
  })

  test('an expired session is never listed, even before GC, nor kept under its owner when its id is used again', async () => {
    const engine = await openEngine()
    const now = Date.now()
    await engine.commit('a', { ...bindTo('ada', now), expiresAt: now + 10 }, now)
    await engine.commit('b', bindTo('ada', now), now)
    expect(await idsOf(engine, 'ada', now + 10)).toEqual(['b'])
    // The expired row is still there; a new session under its id starts from empty data and without an owner.
    await engine.commit('a', write({ 'string:n': '1' }, now + 10), now + 10)
    expect(await idsOf(engine, 'ada', now + 10)).toEqual(['b'])
    expect((await engine.load('a', now + 10))?.data).toEqual({ 'string:n': '1' })
  })

  test('deleteByOwner deletes the owner’s live sessions but those in except, and counts only those', async () => {
    const engine = await openEngine()
    const now = Date.now()
    for (const id of ['a', 'b', 'c', 'd']) await engine.commit(id, bindTo('ada', now), now)
    await engine.commit('old', { ...bindTo('ada', now), expiresAt: now + 10 }, now)
    await engine.commit('e', bindTo('bob', now), now)
    await engine.commit('f', write({ 'string:n': '1' }, now), now)
    expect(await engine.deleteByOwner!('ada', ['a', 'c', 'unknown'], now + 10)).toBe(2)
    expect(await idsOf(engine, 'ada', now + 10)).toEqual(['a', 'c'])
    for (const id of ['b', 'd']) expect(await engine.load(id, now)).toBeNull()
    for (const id of ['a', 'c', 'e', 'f']) expect(await engine.load(id, now)).not.toBeNull()
    expect(await engine.deleteByOwner!('ada', [], now + 10)).toBe(2)
    expect(await engine.deleteByOwner!('nobody', [], now + 10)).toBe(0)
    expect(await engine.count(now + 10)).toBe(2)
  })

  test('except is read when deleteByOwner is called, not when its statement runs', async () => {
    const engine = await openEngine()
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now), now)
    await engine.commit('b', bindTo('ada', now), now)
    const except = ['a']
    const deleting = engine.deleteByOwner!('ada', except, now)
    except.push('b')
    expect(await deleting).toBe(1)
    expect(await idsOf(engine, 'ada', now)).toEqual(['a'])
  })

  test('a session deleted by owner after a request loaded it (from the row cache) is not brought back by that request', async () => {
    const engine = await openEngine()
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now, { 'string:n': '1' }), now)
    expect(await engine.load('a', now)).not.toBeNull()
    expect(await engine.deleteByOwner!('ada', [], now)).toBe(1)
    expect(await engine.load('a', now)).toBeNull()
    expect(await engine.commit('a', { ...write({ 'string:n': '2' }, now), existingOnly: true }, now)).toBe(false)
    expect(await engine.load('a', now)).toBeNull()
    expect(await idsOf(engine, 'ada', now)).toEqual([])
  })

  test('two engines on one file see each other’s owners, and a delete by owner empties the other’s row cache', async () => {
    const path = freshDatabasePath()
    const first = await openEngine(path)
    const second = await openEngine(path)
    const now = Date.now()
    await first.commit('a', bindTo('ada', now), now)
    expect(await first.load('a', now)).not.toBeNull()
    expect(await idsOf(second, 'ada', now)).toEqual(['a'])
    expect(await second.deleteByOwner!('ada', [], now)).toBe(1)
    expect(await first.load('a', now)).toBeNull()
    expect(await first.commit('a', { ...write({ 'string:n': '1' }, now), existingOnly: true }, now)).toBe(false)
  })

  test('delete, deleteAll and GC take sessions off their owner’s list', async () => {
    const engine = await openEngine()
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now), now)
    await engine.commit('b', { ...bindTo('ada', now), expiresAt: now + 10 }, now)
    await engine.commit('c', bindTo('ada', now), now)
    await engine.delete('a')
    expect(await idsOf(engine, 'ada', now)).toEqual(['b', 'c'])
    expect(await engine.deleteExpired(now + 10)).toBe(1)
    expect(await idsOf(engine, 'ada', now)).toEqual(['c'])
    await engine.deleteAll()
    expect(await idsOf(engine, 'ada', now)).toEqual([])
  })

  test('the owner column has a partial index that sessions without an owner stay out of', async () => {
    const path = freshDatabasePath()
    await openEngine(path)
    const raw = rawOn(path)
    const index = raw.query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'sessions_owner_idx'").get()
    expect(index).toEqual({ sql: expect.stringMatching(/ON `sessions` \(`owner`\) WHERE .*owner.* is not null$/) })
  })

  test('a table of the app’s own without the owner column fails at startup and says how to add it', async () => {
    const database = new Database(':memory:')
    opened.push(database)
    database.run(
      'CREATE TABLE user_sessions (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, expires_at INTEGER NOT NULL)',
    )
    expect(sqliteEngine({ database, table: 'user_sessions' })).rejects.toThrow(
      new SessionConfigError(
        "SQLite table 'user_sessions' in an in-memory database has no 'owner' column, which sessionsTable('user_sessions') now defines. Generate a migration for it with drizzle-kit (drizzle-kit generate), or let the engine migrate the default 'sessions' table with migrate: true.",
      ),
    )
  })
})

describe('the SQLite engine under the plugin', () => {
  test('owners go through the owner column: login, regenerate and unbind move it, and nothing is scanned or warned', async () => {
    const path = freshDatabasePath()
    const engine = await sqliteEngine({ path })
    let scans = 0
    const scanned: SessionEngine = {
      ...engine,
      entries: (now, options) => {
        scans++
        return engine.entries(now, options)
      },
    }
    const warnings: string[] = []
    const app = new Elysia()
      .use(
        session({
          secret: SECRET,
          engine: scanned,
          gcInterval: 0,
          logger: { error: (message) => warnings.push(message), warn: (message) => warnings.push(message) },
        }),
      )
      .post('/login/:user', async ({ session, params }) => {
        await session.regenerate()
        session.owner(params.user)
        return 'logged in'
      })
      .post('/regenerate', ({ session }) => session.regenerate().then(() => 'regenerated'))
      .post('/unbind', ({ session }) => {
        session.deleteOwner()
        return 'unbound'
      })
      .post('/touch', ({ session }) => {
        session.int('visits', 1)
        return 'touched'
      })
    opened.push({ close: () => app.decorator.sessions.close() })
    const raw = rawOn(path)

    const phone = cookiePairOf(await send(app, '/login/ada', { method: 'POST' }))!
    const laptop = cookiePairOf(await send(app, '/login/ada', { method: 'POST' }))!
    expect(ownerColumn(raw, idOf(phone))).toBe('ada')
    await send(app, '/touch', { method: 'POST', headers: { cookie: phone } })
    expect(ownerColumn(raw, idOf(phone))).toBe('ada')
    const renewed = cookiePairOf(await send(app, '/regenerate', { method: 'POST', headers: { cookie: laptop } }))!
    expect(ownerColumn(raw, idOf(renewed))).toBe('ada')
    expect((await app.decorator.sessions.listByOwner('ada')).map((each) => each.id).sort()).toEqual(
      [idOf(phone), idOf(renewed)].sort(),
    )
    await send(app, '/unbind', { method: 'POST', headers: { cookie: phone } })
    expect(ownerColumn(raw, idOf(phone))).toBeNull()
    expect(await app.decorator.sessions.destroyByOwner('ada')).toBe(1)
    expect(raw.query('SELECT count(*) AS n FROM sessions WHERE owner IS NOT NULL').get()).toEqual({ n: 0 })
    expect(scans).toBe(0)
    expect(warnings).toEqual([])
  })
})

describe('upgrading a SQLite database made before owners', () => {
  test('keeps its sessions, without an owner, and indexes owners from then on', async () => {
    const path = freshDatabasePath()
    await migrateAsOlderRelease(path, 1)
    const old = new Database(path, { strict: true })
    const now = Date.now()
    const insert = old.prepare('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)')
    insert.run('a', '{"string:name":"Ada"}', now + HOUR)
    insert.run('b', '{"int:n":1}', now + HOUR)
    expect(old.query("SELECT 1 FROM pragma_table_info('sessions') WHERE name = 'owner'").get()).toBeNull()
    old.close()

    const engine = await openEngine(path)
    const raw = rawOn(path)
    expect(raw.query(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get()).toEqual({ n: 2 })
    expect(raw.query('SELECT id, owner FROM sessions ORDER BY id').all()).toEqual([
      { id: 'a', owner: null },
      { id: 'b', owner: null },
    ])
    expect(await engine.load('a', now)).toEqual({ data: { 'string:name': 'Ada' }, expiresAt: now + HOUR })
    expect(await engine.load('b', now)).toEqual({ data: { 'int:n': 1 }, expiresAt: now + HOUR })

    await engine.commit('a', { ...bindTo('ada', now), existingOnly: true }, now)
    expect(await idsOf(engine, 'ada', now)).toEqual(['a'])
    expect((await engine.load('a', now))?.data).toEqual({ 'string:name': 'Ada', [OWNER_KEY]: 'ada' })
    expect(await engine.deleteByOwner!('ada', [], now)).toBe(1)
    expect(await engine.load('b', now)).not.toBeNull()
  })

  test('a process that finds another one upgrading the same file at the same moment comes up too', async () => {
    const path = freshDatabasePath()
    await migrateAsOlderRelease(path, 1)
    // The other process holds the write lock from before this one reads which migrations are applied until after it
    // has applied the new one: this one then tries the same migration, and must see it applied.
    const other = Bun.spawn(
      [process.execPath, join(import.meta.dir, 'fixtures/sqlite-upgrade-holder.ts'), path, '1', '300'],
      {
        stdout: 'pipe',
        stderr: 'inherit',
      },
    )
    const reader = other.stdout.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('locked\n')
    const engine = await openEngine(path)
    expect(await other.exited).toBe(0)
    const now = Date.now()
    await engine.commit('a', bindTo('ada', now), now)
    expect(await idsOf(engine, 'ada', now)).toEqual(['a'])
    expect(rawOn(path).query(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get()).toEqual({ n: 2 })
  }, 15_000)

  test('adds the column and its index in place, without copying the table', () => {
    const migration = readFileSync(join(SQLITE_MIGRATIONS, '0001_owners.sql'), 'utf8')
    expect(migration).toContain('ALTER TABLE `sessions` ADD `owner` text;')
    expect(migration).not.toMatch(/DROP TABLE|INSERT INTO/)
  })
})
