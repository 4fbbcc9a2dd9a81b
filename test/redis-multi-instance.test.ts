import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { RedisClient } from 'bun'
import { idOf } from './support/http.js'
import { deleteKeysStartingWith, keysStartingWith, openRawClient, uniquePrefix } from './support/redis.js'
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

const redis = testService('REDIS_URL', 'redis engine across server processes')

describe.skipIf(!redis.url)(redis.label, () => {
  const url = redis.url as string
  const prefix = uniquePrefix('multi-instance')
  let raw: RedisClient

  beforeAll(async () => {
    raw = await openRawClient(url)
  })

  afterAll(async () => {
    await killAllServers()
    await deleteKeysStartingWith(raw, prefix)
    raw.close()
  })

  test('two servers started at once on one prefix share sessions and lose none of 100 concurrent writes', async () => {
    expect(await keysStartingWith(raw, prefix)).toEqual([])
    // Both open the engine at the same moment (once booted), on a prefix that holds nothing yet.
    const startAt = Date.now() + 1_000
    const started = await Promise.allSettled([
      startServer('redis', { options: { url, prefix }, startAt }),
      startServer('redis', { options: { url, prefix }, startAt }),
    ])
    const servers: Server[] = started.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []))
    try {
      expect(started.flatMap((each) => (each.status === 'rejected' ? [String(each.reason)] : []))).toEqual([])
      const [a, b] = servers as [Server, Server]
      expect(new URL(a.origin).port).not.toBe(new URL(b.origin).port)

      // Created through one, read and changed through the other.
      const created = await setKey(a, 'origin', 'a')
      expect(created.status).toBe(200)
      const cookie = created.cookie as string
      expect(cookie).toBeString()
      const id = idOf(cookie)
      expect(await keysOf(b, cookie)).toEqual({ status: 200, keys: { origin: 'a' } })
      const changed = await setKey(b, 'changed-by', 'b', cookie)
      expect([changed.status, changed.id]).toEqual([200, id])
      expect(await keysOf(a, cookie)).toEqual({ status: 200, keys: { origin: 'a', 'changed-by': 'b' } })

      const expected: Record<string, string> = { origin: 'a', 'changed-by': 'b' }
      const writes = Array.from({ length: 100 }, (_, index) => {
        expected[`key-${index}`] = `value-${index}`
        return setKey(index % 2 === 0 ? a : b, `key-${index}`, `value-${index}`, cookie)
      })
      const results = await Promise.all(writes)
      expect(results.filter((result) => result.status !== 200).map((result) => result.text)).toEqual([])
      // Every write went to the one session: none lost it and started another.
      expect(new Set(results.map((result) => result.id))).toEqual(new Set([id]))

      for (const server of [a, b]) expect(await keysOf(server, cookie)).toEqual({ status: 200, keys: expected })
      expect(await keysStartingWith(raw, prefix)).toEqual([prefix + id])

      expect(await Promise.all(servers.map(stopServer))).toEqual([CLEAN_STOP, CLEAN_STOP])
    } finally {
      await Promise.all(servers.map((server) => killNow(server.child)))
    }
  }, 15_000)
})
