import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { MIGRATIONS_TABLE } from 'elysia-sessions/engines/mysql'
import { idOf } from './support/http.js'
import { freshDatabases, scalar } from './support/mysql.js'
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
import { testService } from './support/services.js'

/** How many migrations are bundled, each applied once. */
const BUNDLED_MIGRATIONS = (
  JSON.parse(readFileSync(new URL('../drizzle/mysql/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: unknown[]
  }
).entries.length

const mysql = testService('MYSQL_URL', 'mysql engine across server processes')

describe.skipIf(!mysql.url)(mysql.label, () => {
  let databases: ReturnType<typeof freshDatabases>

  beforeAll(() => {
    databases = freshDatabases(mysql.url as string)
  })
  afterAll(async () => {
    await killAllServers()
    await databases.dropAll()
  })

  test('two servers started at once on an empty database share one store and lose no concurrent write', async () => {
    const db = await databases.create()
    expect(await db.tables()).toEqual([])
    // Both open the engine at the same moment (once booted), so both migrate the empty database at once.
    const startAt = Date.now() + 1_500
    const started = await Promise.allSettled(
      [0, 1].map(() => startServer('mysql', { options: { url: db.url }, startAt })),
    )
    const servers = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
    try {
      expect(started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))).toEqual([])
      const [a, b] = servers as [Server, Server]
      expect(a.origin).not.toBe(b.origin)
      expect(await db.tables()).toEqual([MIGRATIONS_TABLE, 'sessions'])
      expect(await scalar(databases.admin, `SELECT count(*) FROM \`${db.name}\`.${MIGRATIONS_TABLE}`)).toBe(
        BUNDLED_MIGRATIONS,
      )

      // Created through one server, read and changed through the other.
      const created = await setKey(a, 'origin', 'a')
      expect(created.status).toBe(200)
      const cookie = created.cookie as string
      expect(cookie).toBeString()
      expect(await keysOf(b, cookie)).toEqual({ status: 200, keys: { origin: 'a' } })
      const changed = await setKey(b, 'city', 'london', cookie)
      expect(changed.status).toBe(200)
      expect(changed.id).toBe(idOf(cookie))
      expect(await keysOf(a, cookie)).toEqual({ status: 200, keys: { origin: 'a', city: 'london' } })

      // 100 requests at once, alternating between the servers, each setting its own key of the one session.
      const expected: Record<string, string> = { origin: 'a', city: 'london' }
      const writes = await Promise.all(
        Array.from({ length: 100 }, (_, index) => {
          expected[`k${index}`] = `v${index}`
          return setKey(index % 2 === 0 ? a : b, `k${index}`, `v${index}`, cookie)
        }),
      )
      expect(writes.filter((write) => write.status !== 200).map((write) => `${write.status} ${write.text}`)).toEqual([])
      expect(new Set(writes.map((write) => write.id))).toEqual(new Set([idOf(cookie)]))
      for (const server of [a, b]) expect(await keysOf(server, cookie)).toEqual({ status: 200, keys: expected })

      expect(await Promise.all(servers.map(stopServer))).toEqual([CLEAN_STOP, CLEAN_STOP])
    } finally {
      await Promise.all(servers.map((server) => killNow(server.child)))
    }
  }, 20_000)
})
