import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSQLiteDrizzleJson, generateSQLiteMigration } from 'drizzle-kit/api'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { SessionConfigError, type SessionEngine, type StoredSession } from 'elysia-sessions'
import {
  MIGRATIONS_TABLE,
  type SqliteEngineOptions,
  sessions,
  sessionsTable,
  sqliteEngine,
} from 'elysia-sessions/engines/sqlite'
import { runEngineConformance } from 'elysia-sessions/testing'
import { PROPERTY_SEED } from './support/property-runs.js'
import { bundledMigrations, freshDatabasePath, openRaw, SQLITE_MIGRATIONS } from './support/sqlite.js'

const folder = mkdtempSync(join(tmpdir(), 'elysia-sessions-sqlite-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

let files = 0
// Said here rather than read from the engine: an engine that stopped declaring owners would fail the owner tests.
runEngineConformance('sqlite (file)', () => sqliteEngine({ path: join(folder, `own-${files++}.sqlite`) }), {
  owners: true,
  modelRuns: 30,
  modelSeed: PROPERTY_SEED,
})
runEngineConformance(
  'sqlite (two connections on one file)',
  () => sqliteEngine({ path: join(folder, 'shared.sqlite') }),
  {
    sharedStore: true,
    owners: true,
    modelRuns: 30,
    modelSeed: PROPERTY_SEED,
  },
)
runEngineConformance('sqlite (:memory:)', () => sqliteEngine({ path: ':memory:' }), {
  owners: true,
  modelRuns: 30,
  modelSeed: PROPERTY_SEED,
})

const HOUR = 3_600_000

async function commitAndLoad(engine: SessionEngine): Promise<StoredSession | null> {
  const now = Date.now()
  await engine.commit('abc', { set: { 'string:name': 'Ada' }, deleted: [], expiresAt: now + HOUR }, now)
  return engine.load('abc', now)
}

describe('sqliteEngine({ path })', () => {
  test('opens the file with busy_timeout, WAL and synchronous = NORMAL, and indexes the expiry', async () => {
    const path = freshDatabasePath()
    const engine = await sqliteEngine({ path, busyTimeout: 1234 })
    const raw = openRaw(path)
    expect(raw.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    const indexes = raw.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions'").all()
    expect(indexes).toContainEqual({ name: 'sessions_expires_at_idx' })
    await engine.close()
    raw.close()
  })

  test('records its migrations in its own __session_migrations table, once', async () => {
    const path = freshDatabasePath()
    await (await sqliteEngine({ path })).close()
    await (await sqliteEngine({ path })).close()
    const raw = openRaw(path)
    expect(raw.query(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get()).toEqual({ n: bundledMigrations().length })
    expect(raw.query("SELECT name FROM sqlite_master WHERE name = '__drizzle_migrations'").get()).toBeNull()
    raw.close()
  })

  test('sessions written before a restart are there after it', async () => {
    const path = freshDatabasePath()
    const before = await sqliteEngine({ path })
    expect(await commitAndLoad(before)).not.toBeNull()
    await before.close()
    const after = await sqliteEngine({ path })
    expect((await after.load('abc', Date.now()))?.data).toEqual({ 'string:name': 'Ada' })
    await after.close()
  })

  test('close() closes the file it opened, and calling it twice is a no-op', async () => {
    const path = freshDatabasePath()
    const engine = await sqliteEngine({ path })
    expect(await commitAndLoad(engine)).not.toBeNull()
    expect(existsSync(`${path}-wal`)).toBe(true)
    await engine.close()
    await engine.close()
    // SQLite folds the WAL back and deletes it when the last connection closes.
    expect(existsSync(`${path}-wal`)).toBe(false)
    expect(engine.load('abc', Date.now())).rejects.toThrow('closed')
  })

  test('a folder that does not exist fails at startup with the path in the error', async () => {
    expect(sqliteEngine({ path: '/nonexistent-folder/sessions.sqlite' })).rejects.toThrow()
  })
})

describe('sqliteEngine({ database })', () => {
  test('uses an open bun:sqlite Database, sets its busy_timeout, leaves its journal mode and never closes it', async () => {
    const database = new Database(freshDatabasePath())
    const engine = await sqliteEngine({ database, migrate: true, busyTimeout: 4321 })
    expect(database.query('PRAGMA busy_timeout').get()).toEqual({ timeout: 4321 })
    expect(database.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'delete' })
    expect(await commitAndLoad(engine)).not.toBeNull()
    await engine.close()
    expect(database.query('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 1 })
    database.close()
  })

  test('uses a Drizzle instance, whose app keeps the table in its own schema', async () => {
    const db = drizzle({ client: new Database(':memory:'), schema: { sessions } })
    const engine = await sqliteEngine({ database: db, migrate: true })
    expect(await commitAndLoad(engine)).not.toBeNull()
    const rows = await db.select().from(sessions)
    expect(rows).toEqual([{ id: 'abc', data: { 'string:name': 'Ada' }, expiresAt: expect.any(Number), owner: null }])
    await engine.close()
  })

  test('does not migrate by default: a missing table fails at startup and says how to create it', async () => {
    const database = new Database(':memory:')
    expect(sqliteEngine({ database })).rejects.toThrow(
      new SessionConfigError(
        "SQLite table 'sessions' does not exist in an in-memory database. Create it from sessionsTable('sessions') in your migrations, or let the engine create the default 'sessions' table with migrate: true.",
      ),
    )
  })

  test('a host app whose newer migrations are in Drizzle’s default table still gets the sessions table', async () => {
    const database = new Database(':memory:')
    database.run('CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)')
    database.run("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('host', 99999999999999)")
    const engine = await sqliteEngine({ database, migrate: true })
    expect(await commitAndLoad(engine)).not.toBeNull()
    await engine.close()
  })
})

describe('sqliteEngine({ table })', () => {
  test('a custom table created from sessionsTable(name) by drizzle-kit works with migrate: false', async () => {
    const database = new Database(':memory:')
    const empty = await generateSQLiteDrizzleJson({})
    const schema = await generateSQLiteDrizzleJson({ userSessions: sessionsTable('user_sessions') })
    for (const statement of await generateSQLiteMigration(empty, schema)) database.run(statement)
    const engine = await sqliteEngine({ database, table: 'user_sessions' })
    expect(await commitAndLoad(engine)).not.toBeNull()
    expect(database.query('SELECT id FROM user_sessions').all()).toEqual([{ id: 'abc' }])
    expect(database.query("SELECT name FROM sqlite_master WHERE name = 'sessions'").get()).toBeNull()
    await engine.close()
  })

  test('a custom table with the bundled migrations fails at startup and says to pass migrate: false', async () => {
    expect(sqliteEngine({ path: ':memory:', table: 'user_sessions' })).rejects.toThrow(
      /Pass migrate: false and create the table from sessionsTable\('user_sessions'\)/,
    )
  })
})

describe('sqliteEngine options', () => {
  const bad: [string, unknown, RegExp][] = [
    ['no options', undefined, /needs \{ path: 'sessions.sqlite' \} or \{ database \}/],
    ['neither path nor database', {}, /exactly one of/],
    ['both path and database', { path: ':memory:', database: new Database() }, /exactly one of/],
    ['an empty path', { path: '' }, /needs a file path/],
    ['a database that is not one', { database: { run() {} } }, /bun:sqlite Database or a Drizzle instance/],
    ['a table name with a quote', { path: ':memory:', table: 'x"; DROP', migrate: false }, /letters, digits and _/],
    [
      'a table name of 64 characters',
      { path: ':memory:', table: 't'.repeat(64), migrate: false },
      /at most 63 letters/,
    ],
    ['a negative busyTimeout', { path: ':memory:', busyTimeout: -1 }, /busyTimeout/],
    ['a fractional busyTimeout', { path: ':memory:', busyTimeout: 1.5 }, /busyTimeout/],
    ['a migrate that is not a boolean', { path: ':memory:', migrate: 'yes' }, /migrate/],
    ['a logger without an error method', { path: ':memory:', logger: {} }, /logger/],
  ]
  for (const [what, options, message] of bad) {
    test(`${what} fails at startup with a SessionConfigError that says what to pass`, async () => {
      const failure = sqliteEngine(options as SqliteEngineOptions)
      expect(failure).rejects.toBeInstanceOf(SessionConfigError)
      expect(failure).rejects.toThrow(message)
    })
  }
})

describe('bundled migrations', () => {
  test('match the schema: drizzle-kit finds nothing to generate (run bun run db:generate after a schema change)', async () => {
    const last = bundledMigrations().at(-1)!
    const snapshot = JSON.parse(
      readFileSync(join(SQLITE_MIGRATIONS, `meta/${String(last.idx).padStart(4, '0')}_snapshot.json`), 'utf8'),
    )
    const current = await generateSQLiteDrizzleJson({ sessions })
    expect(await generateSQLiteMigration(snapshot, current)).toEqual([])
  })
})
