import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { RedisClient } from 'bun'
import { isOwnerSetKey, ownerSetKeyOf, scanPatternOf, sessionIdOf } from '../../src/engines/redis/keys.js'
import { deleteKeysStartingWith, openRawClient, uniquePrefix } from '../support/redis.js'
import { testService } from '../support/services.js'

const redis = testService('REDIS_URL', 'redis keys')
const HOUR = 3_600_000
const root = uniquePrefix('keys')

describe('owner set keys', () => {
  const prefix = 'sess:'
  const owners = ['alice', '', 'a"b', 'a\\"b', 'a:b', 'owner:"x"', '\uD800', '\uFFFD', 'ü', 'a*?[b]']

  test('every owner has a key of its own, which is taken for an owner set and never for a session', () => {
    const keys = owners.map((owner) => ownerSetKeyOf(prefix, owner))
    expect(new Set(keys).size).toBe(owners.length)
    for (const key of keys) {
      expect(isOwnerSetKey(prefix, key)).toBe(true)
      expect(sessionIdOf(prefix, key)).toBeUndefined()
    }
  })

  test('owner sets of nested prefixes, and keys that only look like owner sets, are not taken for this prefix’s', () => {
    for (const nested of ['sess:owner:', 'sess:owner:"', 'sess:a:', 'sess:owner:"x:']) {
      for (const owner of owners) expect(isOwnerSetKey(prefix, ownerSetKeyOf(nested, owner))).toBe(false)
    }
    const lookalikes = [
      'sess:owner:alice',
      'sess:owner:"alice',
      'sess:owner:"a"b"',
      'sess:owner:"\\u0061"',
      'sess:owner:1',
    ]
    for (const key of lookalikes) expect(isOwnerSetKey(prefix, key)).toBe(false)
    expect(isOwnerSetKey('other:', ownerSetKeyOf(prefix, 'alice'))).toBe(false)
  })
})

describe.skipIf(!redis.url)(redis.label, () => {
  let raw: RedisClient

  beforeAll(async () => {
    raw = await openRawClient(redis.url as string)
  })

  afterAll(async () => {
    await deleteKeysStartingWith(raw, root)
    raw.close()
  })

  test('the SCAN pattern of a prefix with glob characters matches exactly the keys that start with it', async () => {
    const base = `${root}glob:`
    const prefix = `${base}a*?[bc]\\:`
    const own = [`${prefix}one`, `${prefix}two`, `${prefix}`]
    // Each one matches the prefix read as a glob (`*`, `?`, `[bc]` and `\:` are special there), but not literally.
    const lookalikes = [`${base}aXYZ!b:one`, `${base}a!c:two`, `${base}a*?b:x`, `${base}a*?[bc]:x`, `${base}a*?[bc]\\`]
    for (const key of [...own, ...lookalikes]) await raw.send('SET', [key, '1', 'PX', String(HOUR)])
    const matched: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = (await raw.send('SCAN', [cursor, 'MATCH', scanPatternOf(prefix), 'COUNT', '1000'])) as [
        string,
        string[],
      ]
      cursor = next
      matched.push(...keys)
    } while (cursor !== '0')
    expect(matched.toSorted()).toEqual(own.toSorted())
  })
})
