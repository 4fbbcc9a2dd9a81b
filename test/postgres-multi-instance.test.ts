import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { MIGRATIONS_TABLE } from 'elysia-sessions/engines/postgres'
import { idOf } from './support/http.js'
import { createFreshDatabase, type FreshDatabase } from './support/postgres.js'
import {
  CLEAN_STOP,
  keysOf,
  killAllServers,
  type Server,
  setKey,
  startServer,
  stopServer,
} from './support/server-process.js'
import { testService } from './support/services.js'

/** How many migrations are bundled, each applied once. */
const BUNDLED_MIGRATIONS = (
  JSON.parse(readFileSync(new URL('../drizzle/postgres/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: unknown[]
  }
).entries.length

const postgres = testService('DATABASE_URL', 'postgres engine across processes')

/** How many requests race to set one key each of a single session. */
const CONCURRENT_REQUESTS = 100

describe.skipIf(!postgres.url)(postgres.label, () => {
  let fresh: FreshDatabase
  let servers: Server[] = []
  let cookie = ''

  beforeAll(async () => {
    fresh = await createFreshDatabase(postgres.url as string, 'multi')
  })
  afterAll(async () => {
    await killAllServers()
    await fresh?.drop()
  })

  test('two processes started at the same moment on an empty database both come up and migrate it once', async () => {
    const [before] = await fresh.raw`SELECT to_regclass('sessions') IS NULL AS empty`
    expect(before).toEqual({ empty: true })
    // Both open the engine at the same moment (once booted), so their migrations really race.
    const startAt = Date.now() + 1_500
    const options = { options: { url: fresh.url }, startAt }
    const started = await Promise.allSettled([startServer('postgres', options), startServer('postgres', options)])
    servers = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
    expect(started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))).toEqual([])
    expect(servers[0]!.origin).not.toBe(servers[1]!.origin)
    const [applied] = await fresh.raw.unsafe(`SELECT count(*)::int AS n FROM drizzle.${MIGRATIONS_TABLE}`)
    expect(applied).toEqual({ n: BUNDLED_MIGRATIONS })
  }, 15_000)

  test('a session created through one process is read and changed through the other', async () => {
    const [a, b] = servers as [Server, Server]
    const created = await setKey(a, 'origin', 'a')
    expect(created.status).toBe(200)
    cookie = created.cookie as string
    expect(cookie).toBeString()
    expect(await keysOf(b, cookie)).toEqual({ status: 200, keys: { origin: 'a' } })

    const changed = await setKey(b, 'changed', 'b', cookie)
    expect(changed.status).toBe(200)
    expect(changed.id).toBe(idOf(cookie))
    expect(await keysOf(a, cookie)).toEqual({ status: 200, keys: { origin: 'a', changed: 'b' } })
  })

  test(`${CONCURRENT_REQUESTS} requests at once over both, each setting a key of one session, lose none`, async () => {
    const [a, b] = servers as [Server, Server]
    const expected: Record<string, string> = { origin: 'a', changed: 'b' }
    const requests = Array.from({ length: CONCURRENT_REQUESTS }, (_, index) => {
      expected[`k${index}`] = `v${index}`
      return setKey(index % 2 === 0 ? a : b, `k${index}`, `v${index}`, cookie)
    })
    const results = await Promise.all(requests)
    expect(
      results.filter((result) => result.status !== 200).map((result) => `${result.status} ${result.text}`),
    ).toEqual([])
    // Every write went to the one session: none lost it and started another.
    expect(new Set(results.map((result) => result.id))).toEqual(new Set([idOf(cookie)]))
    for (const server of [a, b]) expect(await keysOf(server, cookie)).toEqual({ status: 200, keys: expected })
    const [row] = await fresh.raw`SELECT count(*)::int AS n FROM sessions`
    expect(row).toEqual({ n: 1 })
  })

  test('both processes stop cleanly, having logged no failed request', async () => {
    expect(await Promise.all(servers.map(stopServer))).toEqual([CLEAN_STOP, CLEAN_STOP])
  })
})
