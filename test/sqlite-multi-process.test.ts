import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MIGRATIONS_TABLE, sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { idOf } from './support/http.js'
import {
  CLEAN_STOP,
  keysOf,
  killAllServers,
  killNow,
  type Server,
  setKey,
  startServer,
  stopServer,
} from './support/server-process.js'
import {
  bundledMigrations,
  eventually,
  insertRows,
  migrateAsOlderRelease,
  openRaw,
  rowCount,
} from './support/sqlite.js'

const folder = mkdtempSync(join(tmpdir(), 'elysia-sessions-multi-process-'))

afterAll(async () => {
  await killAllServers()
  rmSync(folder, { recursive: true, force: true })
})

let files = 0
function newDatabasePath(): string {
  return join(folder, `sessions-${files++}.sqlite`)
}

function tableExists(database: Database, name: string): boolean {
  return database.query('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', name) !== null
}

describe('sqlite engine across processes', () => {
  test('four processes starting at once on a fresh file all come up and migrate it once', async () => {
    const path = newDatabasePath()
    expect(existsSync(path)).toBe(false)
    // All four open the file at the same moment (once booted), so their migrations really race.
    const startAt = Date.now() + 1_500
    const started = await Promise.allSettled(
      Array.from({ length: 4 }, () => startServer('sqlite', { options: { path: path }, startAt })),
    )
    const servers = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
    try {
      const failures = started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))
      expect(failures).toEqual([])

      // Each engine can write: one session per server, all in the one file.
      const writes = await Promise.all(servers.map((server, index) => setKey(server, 'who', `server ${index}`)))
      expect(writes.map((write) => write.status)).toEqual([200, 200, 200, 200])

      const raw = openRaw(path)
      try {
        const applied = raw.query(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get() as { n: number }
        expect(applied.n).toBe(bundledMigrations().length)
        expect(tableExists(raw, 'sessions')).toBe(true)
        expect(rowCount(raw)).toBe(4)
      } finally {
        raw.close()
      }

      expect(await Promise.all(servers.map(stopServer))).toEqual(servers.map(() => CLEAN_STOP))
    } finally {
      await Promise.all(servers.map((server) => killNow(server.child)))
    }
  }, 20_000)

  test('four processes of a new release starting at once on a file of the previous one all come up and upgrade it once', async () => {
    const path = newDatabasePath()
    await migrateAsOlderRelease(path, bundledMigrations().length - 1)
    const old = openRaw(path)
    old.query('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)').run('kept', '{}', Date.now() + 60_000)
    old.close()
    const startAt = Date.now() + 1_500
    const started = await Promise.allSettled(
      Array.from({ length: 4 }, () => startServer('sqlite', { options: { path: path }, startAt })),
    )
    const servers = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
    try {
      const failures = started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))
      expect(failures).toEqual([])
      const writes = await Promise.all(servers.map((server, index) => setKey(server, 'who', `server ${index}`)))
      expect(writes.map((write) => write.status)).toEqual([200, 200, 200, 200])
      const raw = openRaw(path)
      try {
        const applied = raw.query(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get() as { n: number }
        expect(applied.n).toBe(bundledMigrations().length)
        expect(rowCount(raw)).toBe(5)
      } finally {
        raw.close()
      }
      expect(await Promise.all(servers.map(stopServer))).toEqual(servers.map(() => CLEAN_STOP))
    } finally {
      await Promise.all(servers.map((server) => killNow(server.child)))
    }
  }, 20_000)

  test('processes opening the same fresh files at the same moment never fail with "database is locked"', async () => {
    const race = Bun.spawn([process.execPath, join(import.meta.dir, 'fixtures', 'sqlite-open-race.ts'), '4', '30'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [output, errors, exitCode] = await Promise.all([
      new Response(race.stdout).text(),
      new Response(race.stderr).text(),
      race.exited,
    ])
    expect(errors).toBe('')
    expect(output).toContain('0 of 120 opens failed')
    expect(exitCode).toBe(0)
  }, 20_000)

  test('two processes under concurrent writes to one session, with GC sweeping, lose no key', async () => {
    const path = newDatabasePath()
    // Started one after the other: this test is about load, not about racing migrations.
    const a = await startServer('sqlite', { options: { path: path }, gcInterval: 50 })
    const servers = [a]
    try {
      const b = await startServer('sqlite', { options: { path: path }, gcInterval: 50 })
      servers.push(b)

      const first = await setKey(a, 'origin', 'a')
      expect(first.status).toBe(200)
      const cookie = first.cookie
      expect(cookie).toBeString()
      const id = idOf(cookie)

      const raw = openRaw(path)
      try {
        const expected: Record<string, string> = { origin: 'a' }
        const rounds = 5
        for (let round = 0; round < rounds; round++) {
          // The last two rounds race the GC workers' deletes (and this process's inserts) for the write lock.
          const sweeping = round >= rounds - 2
          if (sweeping) insertRows(raw, 3_000, Date.now() - 60_000)
          const requests = Array.from({ length: 40 }, (_, index) => {
            const key = `k-${round}-${index}`
            expected[key] = `v-${round}-${index}`
            return setKey(index % 2 === 0 ? a : b, key, `v-${round}-${index}`, cookie)
          })
          if (sweeping) {
            for (let batch = 0; batch < 4; batch++) {
              await Bun.sleep(5)
              insertRows(raw, 1_000, Date.now() - 60_000)
            }
          }
          const results = await Promise.all(requests)
          const failed = results.filter((result) => result.status !== 200)
          expect(failed.map((result) => `${result.status} ${result.text}`)).toEqual([])
          // Every write went to the one session: no request lost it and started another.
          expect(new Set(results.map((result) => result.id))).toEqual(new Set([id]))
          for (const result of results) if (result.cookie !== undefined) expect(idOf(result.cookie)).toBe(id)
        }
        expect(Object.keys(expected)).toHaveLength(201)

        for (const server of [a, b]) {
          const read = await keysOf(server, cookie as string)
          expect(read.status).toBe(200)
          expect(read.keys).toEqual(expected)
        }

        // The workers swept every expired row and kept the live session.
        const expired = raw.query('SELECT count(*) AS n FROM sessions WHERE expires_at <= ?')
        expect(await eventually(() => (expired.get(Date.now()) as { n: number }).n === 0, 5_000)).toBe(true)
        expect(rowCount(raw)).toBe(1)
      } finally {
        raw.close()
      }

      // Nothing failed behind the users' backs either: no failed request or GC sweep was logged.
      expect(await Promise.all(servers.map(stopServer))).toEqual([CLEAN_STOP, CLEAN_STOP])
    } finally {
      await Promise.all(servers.map((server) => killNow(server.child)))
    }
  }, 30_000)

  test('a session outlives its server: a new process on the same file reads it and starts new ones', async () => {
    const path = newDatabasePath()
    const first = await startServer('sqlite', { options: { path: path }, gcInterval: 50 })
    let second: Server | undefined
    try {
      const written = await setKey(first, 'name', 'ada')
      expect(written.status).toBe(200)
      const cookie = written.cookie as string
      expect(cookie).toBeString()

      expect(await stopServer(first)).toEqual(CLEAN_STOP)
      // A clean stop closed every connection, which folds the WAL back into the file.
      expect(existsSync(`${path}-wal`)).toBe(false)

      second = await startServer('sqlite', { options: { path: path }, gcInterval: 50 })
      const read = await keysOf(second, cookie)
      expect(read).toEqual({ status: 200, keys: { name: 'ada' } })
      const more = await setKey(second, 'city', 'london', cookie)
      expect(more.status).toBe(200)
      expect(more.id).toBe(idOf(cookie))
      expect(await keysOf(second, cookie)).toEqual({ status: 200, keys: { name: 'ada', city: 'london' } })

      const fresh = await setKey(second, 'name', 'grace')
      expect(fresh.status).toBe(200)
      expect(fresh.cookie).toBeString()
      expect(idOf(fresh.cookie)).not.toBe(idOf(cookie))
      expect(await keysOf(second, fresh.cookie as string)).toEqual({ status: 200, keys: { name: 'grace' } })

      expect(await stopServer(second)).toEqual(CLEAN_STOP)
    } finally {
      await killNow(first.child)
      if (second) await killNow(second.child)
    }
  }, 20_000)

  test("a host app's newer Drizzle migrations in __drizzle_migrations do not hide the engine's", async () => {
    const path = newDatabasePath()
    const host = new Database(path, { create: true, strict: true })
    try {
      // What drizzle-kit's migrator creates and records for a host app's migration made after ours.
      host.run('CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)')
      const future = Date.now() + 10 * 365 * 24 * 3_600_000
      host.query('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('host-app-hash', future)
      host.run('CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL)')
    } finally {
      host.close()
    }

    const engine = await sqliteEngine({ path })
    try {
      const now = Date.now()
      const changes = { set: { 'string:name': 'ada' }, deleted: [], expiresAt: now + 60_000, existingOnly: false }
      expect(await engine.commit('host-session', changes, now)).toBe(true)
      expect(await engine.load('host-session', now)).toEqual({
        data: { 'string:name': 'ada' },
        expiresAt: now + 60_000,
      })
    } finally {
      await engine.close()
    }

    const raw = openRaw(path)
    try {
      expect(tableExists(raw, 'sessions')).toBe(true)
      expect((raw.query(`SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`).get() as { n: number }).n).toBe(
        bundledMigrations().length,
      )
      // The host's bookkeeping is untouched.
      expect(raw.query('SELECT hash FROM __drizzle_migrations').all()).toEqual([{ hash: 'host-app-hash' }])
    } finally {
      raw.close()
    }
  })

  // The GC worker is unref'd so it never keeps a process alive, but while it stops it must: an app that awaits
  // sessions.close() on SIGTERM, with nothing else pending, has to get to the code after it.
  test('a process with nothing else to keep it alive finishes sessions.close() before it exits', async () => {
    const server = await startServer('sqlite', { options: { path: newDatabasePath() }, gcInterval: 50 })
    try {
      expect((await setKey(server, 'name', 'ada')).status).toBe(200)
      expect(await stopServer(server)).toEqual(CLEAN_STOP)
    } finally {
      await killNow(server.child)
    }
  }, 15_000)
})
