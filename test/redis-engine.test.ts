import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { Elysia } from 'elysia'
import {
  EngineTimeoutError,
  SessionConfigError,
  type SessionEngine,
  SessionEngineError,
  session,
} from 'elysia-sessions'
import { type RedisEngineOptions, redisEngine } from 'elysia-sessions/engines/redis'
import { runEngineConformance } from 'elysia-sessions/testing'
import { randomSessionId } from './support/cookie-format.js'
import { cookiePairOf, SECRET, send } from './support/http.js'
import { PROPERTY_SEED } from './support/property-runs.js'
import { deleteKeysStartingWith, keysStartingWith, openRawClient, uniquePrefix, urlWithPort } from './support/redis.js'
import { testService } from './support/services.js'
import { startTcpProxy } from './support/tcp-proxy.js'

const redis = testService('REDIS_URL', 'redis engine')
const HOUR = 3_600_000
const DAY = 24 * HOUR
/** The hash field the engine keeps each session's expiry in: part of its storage layout. */
const EXPIRY_FIELD = 'expiresAt'
/** How many keys the engine asks SCAN for per page. */
const SCAN_PAGE_SIZE = 1_000

/** Every key of this file's run starts with it; each engine below gets a prefix of its own under it. */
const root = uniquePrefix('engine')

/** Commits `set` to `id` for an hour from now and resolves to the expiry. */
async function commitForAnHour(engine: SessionEngine, id: string, set: Record<string, string> = {}) {
  const now = Date.now()
  await engine.commit(id, { set, deleted: [], expiresAt: now + HOUR }, now)
  return now + HOUR
}

/** How long `work` took to settle, and the error it rejected with (undefined when it resolved). */
async function settle(work: () => Promise<unknown>): Promise<{ elapsed: number; error: unknown }> {
  const started = performance.now()
  try {
    await work()
    return { elapsed: performance.now() - started, error: undefined }
  } catch (error) {
    return { elapsed: performance.now() - started, error }
  }
}

describe('redisEngine options', () => {
  const client = new RedisClient('redis://127.0.0.1:1', { autoReconnect: false })
  const url = 'redis://127.0.0.1:6379'
  const bad: [string, unknown, RegExp][] = [
    ['no options', undefined, /needs \{ url: 'redis:\/\/127.0.0.1:6379' \} or \{ client \}/],
    ['neither url nor client', {}, /exactly one of/],
    ['both url and client', { url, client }, /exactly one of/],
    ['a url of another scheme', { url: 'http://127.0.0.1:6379' }, /needs a redis:\/\/, rediss:\/\/, valkey:\/\//],
    ['a url that is no URL', { url: 'localhost' }, /needs a redis:\/\//],
    ['a client that is no RedisClient', { client: { send() {} } }, /needs a RedisClient from 'bun'/],
    ['an empty prefix', { url, prefix: '' }, /needs a non-empty string ending with a character no session id has/],
    ['a prefix ending with a letter', { url, prefix: 'sess' }, /such as 'sess:'.*got "sess"$/],
    ['a prefix ending with a digit', { url, prefix: 'app1' }, /got "app1"$/],
    ['a prefix ending with _', { url, prefix: 'sess_' }, /got "sess_"$/],
    ['a prefix ending with -', { url, prefix: 'sess-' }, /got "sess-"$/],
    ['a prefix that is no string', { url, prefix: 5 }, /got 5$/],
    ['an operationTimeout of 0', { url, operationTimeout: 0 }, /whole number of milliseconds > 0, got 0$/],
    ['a negative operationTimeout', { url, operationTimeout: -1 }, /got -1$/],
    ['a fractional operationTimeout', { url, operationTimeout: 1.5 }, /got 1.5$/],
    ['an operationTimeout as text', { url, operationTimeout: '100' }, /got 100$/],
  ]
  test.each(bad)(
    '%s fails at startup with a SessionConfigError that says how to fix it',
    async (_, options, message) => {
      const error = await redisEngine(options as RedisEngineOptions).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(SessionConfigError)
      expect((error as Error).message).toMatch(message)
    },
  )
})

describe.skipIf(!redis.url)(redis.label, () => {
  const url = redis.url as string
  let raw: RedisClient

  beforeAll(async () => {
    raw = await openRawClient(url)
  })

  afterAll(async () => {
    await deleteKeysStartingWith(raw, root)
    raw.close()
  })

  runEngineConformance('redis', () => redisEngine({ url, prefix: `${root}conformance:` }), {
    sharedStore: true,
    timeout: 15_000,
    owners: true,
    synchronous: false,
    modelRuns: 40,
    modelSeed: PROPERTY_SEED,
  })

  /** Engines a test opens; closed after the file. */
  const opened: SessionEngine[] = []
  afterAll(() => Promise.all(opened.splice(0).map((engine) => engine.close())))
  const open = async (options: RedisEngineOptions) => {
    const engine = await redisEngine(options)
    opened.push(engine)
    return engine
  }

  describe('keys', () => {
    test('a session is one hash that keeps an expiry field when its data is empty, so it still exists', async () => {
      const prefix = `${root}empty:`
      const engine = await open({ url, prefix })
      const id = randomSessionId()
      const expiresAt = await commitForAnHour(engine, id)
      expect(await engine.load(id, Date.now())).toEqual({ data: {}, expiresAt })
      expect(await raw.send('HGETALL', [prefix + id])).toEqual({ [EXPIRY_FIELD]: String(expiresAt) })

      const now = Date.now()
      await engine.commit(id, { set: { 'string:a': 'x' }, deleted: [], expiresAt, existingOnly: true }, now)
      await engine.commit(id, { set: {}, deleted: ['string:a'], expiresAt, existingOnly: true }, now)
      expect(await engine.load(id, Date.now())).toEqual({ data: {}, expiresAt })
      expect(await engine.count(Date.now())).toBe(1)
    })

    test('a session key named like the expiry field is data: setting or deleting it keeps the session', async () => {
      const engine = await open({ url, prefix: `${root}marker-name:` })
      const id = randomSessionId()
      const expiresAt = await commitForAnHour(engine, id, { [EXPIRY_FIELD]: 'mine', 'string:kept': 'yes' })
      expect(await engine.load(id, Date.now())).toEqual({
        data: { [EXPIRY_FIELD]: 'mine', 'string:kept': 'yes' },
        expiresAt,
      })
      const now = Date.now()
      await engine.commit(id, { set: {}, deleted: [EXPIRY_FIELD, 'string:kept'], expiresAt, existingOnly: true }, now)
      expect(await engine.load(id, Date.now())).toEqual({ data: {}, expiresAt })
    })

    test('ids outside [A-Za-z0-9_-]{1,128} are unknown to load, touch and delete; commit refuses them', async () => {
      const prefix = `${root}unsafe-ids:`
      const engine = await open({ url, prefix })
      const id = randomSessionId()
      await commitForAnHour(engine, id, { 'string:n': '1' })
      const now = Date.now()
      for (const unsafe of ['*', `${id.slice(0, 5)}*`, '?', '[a-z]*', 'a:b', '', 'x'.repeat(129)]) {
        expect(await engine.load(unsafe, now)).toBeNull()
        expect(await engine.touch(unsafe, now + HOUR, now)).toBe(false)
        await engine.delete(unsafe)
        expect(engine.commit(unsafe, { set: {}, deleted: [], expiresAt: now + HOUR }, now)).rejects.toThrow(
          /redisEngine cannot store the session id .*: ids must match/,
        )
      }
      expect(await engine.count(now)).toBe(1)
      expect(await keysStartingWith(raw, prefix)).toEqual([prefix + id])
    })
  })

  describe('round trips', () => {
    test('commits made in one event-loop turn land in the order they were made: the last one wins', async () => {
      const engine = await open({ url, prefix: `${root}one-turn:` })
      const id = randomSessionId()
      const now = Date.now()
      const commits = ['1', '2', '3'].map((value) =>
        engine.commit(id, { set: { 'string:n': value }, deleted: [], expiresAt: now + HOUR }, now),
      )
      expect(await Promise.all(commits)).toEqual([true, true, true])
      expect((await engine.load(id, now))?.data).toEqual({ 'string:n': '3' })
    })

    test('a call made in the same turn as close() is refused, not sent after it', async () => {
      const engine = await open({ url, prefix: `${root}close-race:` })
      const id = randomSessionId()
      const now = Date.now()
      const commit = engine.commit(id, { set: { 'string:n': 'late' }, deleted: [], expiresAt: now + HOUR }, now)
      await engine.close()
      await expect(commit).rejects.toThrow('closed')
      const check = await open({ url, prefix: `${root}close-race:` })
      expect(await check.load(id, now)).toBeNull()
    })

    test('a commit of more keys than one call inside the script takes sets and deletes every one of them', async () => {
      const engine = await open({ url, prefix: `${root}many-keys:` })
      const id = randomSessionId()
      const keys = Array.from({ length: 3_000 }, (_, index) => `string:k${index}`)
      const now = Date.now()
      const set = Object.fromEntries(keys.map((key) => [key, key]))
      expect(await engine.commit(id, { set, deleted: [], expiresAt: now + HOUR }, now)).toBe(true)
      const kept = keys.slice(0, 10)
      const deleted = keys.slice(10)
      expect(await engine.commit(id, { set: {}, deleted, expiresAt: now + HOUR, existingOnly: true }, now)).toBe(true)
      expect((await engine.load(id, Date.now()))?.data).toEqual(Object.fromEntries(kept.map((key) => [key, key])))
    })

    test('a hash under the prefix without an expiry is no session: load finds nothing', async () => {
      const prefix = `${root}no-ttl:`
      const engine = await open({ url, prefix })
      const id = randomSessionId()
      await raw.send('HSET', [prefix + id, EXPIRY_FIELD, String(Date.now() + HOUR), '"string:n"', '"1"'])
      expect(await engine.load(id, Date.now())).toBeNull()
      expect(await engine.commit(id, { set: {}, deleted: [], expiresAt: Date.now() + HOUR }, Date.now())).toBe(true)
      expect((await engine.load(id, Date.now()))?.data).toEqual({ 'string:n': '1' })
    })
  })

  describe('prefix', () => {
    test('an engine on sess: never counts, lists or deletes keys of sess:admin: or outside sess:', async () => {
      const outer = `${root}nest:sess:`
      const inner = `${outer}admin:`
      const [users, admins] = [await open({ url, prefix: outer }), await open({ url, prefix: inner })]
      const userIds = [randomSessionId(), randomSessionId(), randomSessionId()]
      const adminIds = [randomSessionId(), randomSessionId()]
      for (const id of userIds) await commitForAnHour(users, id, { 'string:who': 'user' })
      for (const id of adminIds) await commitForAnHour(admins, id, { 'string:who': 'admin' })
      // Hashes and strings with similar names, each of which a careless pattern or a missing id check would take.
      const foreign = [
        `${root}nest:sess`,
        `${root}nest:sessabc`,
        `${root}nest:sess_abc`,
        `${outer}has space`,
        `${outer}abc:extra`,
        `${outer}${'x'.repeat(129)}`,
        `${outer}*`,
        `${root}nest:Sess:abc`,
        `${root}nest:sess-admin:abc`,
      ]
      for (const key of foreign) await raw.send('HSET', [key, EXPIRY_FIELD, '1', '"string:who"', '"foreign"'])

      const now = Date.now()
      expect(await users.count(now)).toBe(3)
      expect(await admins.count(now)).toBe(2)
      const listed = []
      for await (const batch of users.entries(now, { batchSize: 2 })) listed.push(...batch.map((entry) => entry.id))
      expect(listed.toSorted()).toEqual(userIds.toSorted())
      expect(await users.load(`admin:${adminIds[0]}`, now)).toBeNull()

      await users.deleteAll()
      expect(await users.count(Date.now())).toBe(0)
      expect(await admins.count(Date.now())).toBe(2)
      for (const id of adminIds) expect((await admins.load(id, Date.now()))?.data).toEqual({ 'string:who': 'admin' })
      for (const key of foreign) expect(await raw.send('EXISTS', [key])).toBe(1)
    })

    test('count, entries and deleteAll go through every SCAN page: more sessions than one page holds', async () => {
      const engine = await open({ url, prefix: `${root}many:` })
      const total = 2 * SCAN_PAGE_SIZE + 500
      const now = Date.now()
      const ids = Array.from({ length: total }, () => randomSessionId())
      for (let start = 0; start < total; start += 500) {
        await Promise.all(
          ids
            .slice(start, start + 500)
            .map((id) => engine.commit(id, { set: { 'string:id': id }, deleted: [], expiresAt: now + HOUR }, now)),
        )
      }
      expect(await engine.count(Date.now())).toBe(total)
      const listed = new Set<string>()
      for await (const batch of engine.entries(Date.now(), { batchSize: 400 })) {
        expect(batch.length).toBeLessThanOrEqual(400)
        for (const entry of batch) listed.add(entry.id)
      }
      expect(listed.size).toBe(total)
      await engine.deleteAll()
      expect(await engine.count(Date.now())).toBe(0)
    }, 15_000)
  })

  describe('expiry', () => {
    test('lifetimes count on the server’s clock: a skewed now gives the same PTTL', async () => {
      const prefix = `${root}skew:`
      const engine = await open({ url, prefix })
      const lifetime = 60_000
      const clocks = [-DAY, 0, DAY]
      const ids = clocks.map(() => randomSessionId())
      for (const [index, skew] of clocks.entries()) {
        const now = Date.now() + skew
        await engine.commit(ids[index] as string, { set: {}, deleted: [], expiresAt: now + lifetime }, now)
      }
      for (const id of ids) {
        const pttl = (await raw.send('PTTL', [prefix + id])) as number
        expect(pttl).toBeGreaterThan(lifetime - 1_000)
        expect(pttl).toBeLessThanOrEqual(lifetime)
      }

      const skewedNow = Date.now() + DAY
      expect(await engine.touch(ids[0] as string, skewedNow + 2 * lifetime, skewedNow)).toBe(true)
      expect(await raw.send('PTTL', [prefix + ids[0]])).toBeGreaterThan(2 * lifetime - 1_000)

      // Each server reads the expiry on its own clock: what PTTL leaves, from its now.
      const loaderNow = Date.now() - DAY
      const loaded = await engine.load(ids[1] as string, loaderNow)
      expect(Math.abs((loaded?.expiresAt ?? 0) - (loaderNow + lifetime))).toBeLessThan(1_000)
    })

    test('a session read back on the clock that wrote it has exactly the expiry it was given', async () => {
      const engine = await open({ url, prefix: `${root}exact:` })
      const id = randomSessionId()
      const expiresAt = await commitForAnHour(engine, id)
      await Bun.sleep(30)
      expect((await engine.load(id, Date.now()))?.expiresAt).toBe(expiresAt)
    })
  })

  describe('clients', () => {
    test('a client passed in is connected if needed and never closed', async () => {
      const client = new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false })
      expect(client.connected).toBe(false)
      const engine = await redisEngine({ client, prefix: `${root}passed-in:` })
      const id = randomSessionId()
      await commitForAnHour(engine, id, { 'string:n': '1' })
      await engine.close()
      await engine.close()
      expect(client.connected).toBe(true)
      expect(await client.send('PING', [])).toBe('PONG')
      expect(engine.load(id, Date.now())).rejects.toThrow(/closed/)
      client.close()
    })

    test('the client it opens from a url is closed by close()', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      try {
        const engine = await redisEngine({ url: urlWithPort(url, proxy.port), prefix: `${root}owned:` })
        await commitForAnHour(engine, randomSessionId())
        expect(proxy.openConnections).toBe(1)
        await engine.close()
        for (let waited = 0; proxy.openConnections > 0 && waited < 1_000; waited += 10) await Bun.sleep(10)
        expect(proxy.openConnections).toBe(0)
        expect(engine.count(Date.now())).rejects.toThrow(/closed/)
      } finally {
        await proxy.close()
      }
    })

    test('a server that does not answer fails startup within operationTimeout, with the cause', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      try {
        proxy.blackHole('black-hole')
        const stalled = await settle(() => redisEngine({ url: urlWithPort(url, proxy.port), operationTimeout: 300 }))
        expect(stalled.error).toBeInstanceOf(SessionEngineError)
        expect((stalled.error as Error).message).toStartWith('Session engine failed to connect to Redis at 127.0.0.1:')
        expect((stalled.error as Error).cause).toBeInstanceOf(EngineTimeoutError)
        expect(stalled.elapsed).toBeLessThan(800)

        await proxy.cut()
        const refused = await settle(() => redisEngine({ url: urlWithPort(url, proxy.port), operationTimeout: 300 }))
        expect(refused.error).toBeInstanceOf(SessionEngineError)
        expect((refused.error as Error).cause).toHaveProperty('code', 'ERR_REDIS_CONNECTION_CLOSED')
        expect(refused.elapsed).toBeLessThan(800)
      } finally {
        await proxy.close()
      }
    })
  })

  describe('outages', () => {
    const OPERATION_TIMEOUT = 500
    /** How late past operationTimeout a call may still settle: timers and a loaded machine. */
    const MARGIN = 400

    test('server cut off: calls and requests fail fast with the cause, other routes answer, then recover', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      try {
        const engine = await open({
          url: urlWithPort(url, proxy.port),
          prefix: `${root}cut:`,
          operationTimeout: OPERATION_TIMEOUT,
        })
        const failures: unknown[] = []
        const app = new Elysia()
          .onError(({ error }) => {
            failures.push(error)
          })
          .use(session({ secret: SECRET, engine, logger: { error: () => {} } }))
          .get('/set/:value', ({ session, params }) => {
            session.string('value', params.value)
            return 'set'
          })
          .get('/value', ({ session }) => session.stringOrNull('value') ?? 'none')
          .get('/health', () => 'ok', { session: false })

        const first = await send(app, '/set/before')
        expect(first.status).toBe(200)
        const cookie = cookiePairOf(first)
        const id = randomSessionId()
        await commitForAnHour(engine, id, { 'string:n': '1' })

        await proxy.cut()
        const now = Date.now()
        const calls: [string, () => Promise<unknown>][] = [
          ['load', () => engine.load(id, now)],
          ['commit', () => engine.commit(id, { set: {}, deleted: [], expiresAt: now + HOUR }, now)],
          ['touch', () => engine.touch(id, now + HOUR, now)],
          ['delete', () => engine.delete(id)],
          ['count', () => engine.count(now)],
          ['deleteAll', () => engine.deleteAll()],
        ]
        for (const [name, call] of calls) {
          const { elapsed, error } = await settle(call)
          expect({ name, code: (error as { code?: unknown } | undefined)?.code }).toEqual({
            name,
            code: 'ERR_REDIS_CONNECTION_CLOSED',
          })
          expect(elapsed).toBeLessThan(OPERATION_TIMEOUT + MARGIN)
        }

        const started = performance.now()
        const [during, health] = await Promise.all([send(app, '/value', { cookie }), send(app, '/health')])
        expect(performance.now() - started).toBeLessThan(OPERATION_TIMEOUT + MARGIN)
        expect(during.status).toBe(503)
        expect(await during.text()).toBe('Session engine failed to load a session')
        expect(during.headers.getSetCookie()).toEqual([])
        expect(failures.at(-1)).toBeInstanceOf(SessionEngineError)
        expect((failures.at(-1) as Error).cause).toHaveProperty('code', 'ERR_REDIS_CONNECTION_CLOSED')
        expect([health.status, await health.text()]).toEqual([200, 'ok'])

        await proxy.restore()
        const after = await send(app, '/value', { cookie })
        expect([after.status, await after.text()]).toEqual([200, 'before'])
        expect((await engine.load(id, Date.now()))?.data).toEqual({ 'string:n': '1' })
      } finally {
        await proxy.close()
      }
    })

    test('server stalled: calls reject with EngineTimeoutError within operationTimeout, then recover', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      try {
        const engine = await open({
          url: urlWithPort(url, proxy.port),
          prefix: `${root}stall:`,
          operationTimeout: OPERATION_TIMEOUT,
        })
        const id = randomSessionId()
        await commitForAnHour(engine, id, { 'string:n': '1' })

        proxy.blackHole('black-hole')
        const now = Date.now()
        const results = await Promise.all([
          settle(() => engine.load(id, now)),
          settle(() => engine.commit(id, { set: {}, deleted: [], expiresAt: now + HOUR }, now)),
          settle(() => engine.count(now)),
        ])
        for (const { elapsed, error } of results) {
          expect(error).toBeInstanceOf(EngineTimeoutError)
          expect((error as Error).message).toMatch(/^Redis at 127\.0\.0\.1:\d+ \(.+\) got no answer within 500 ms$/)
          expect(elapsed).toBeGreaterThanOrEqual(OPERATION_TIMEOUT - 5)
          expect(elapsed).toBeLessThan(OPERATION_TIMEOUT + MARGIN)
        }

        await proxy.restore()
        expect((await engine.load(id, Date.now()))?.data).toEqual({ 'string:n': '1' })
      } finally {
        await proxy.close()
      }
    })

    test('a connection that hangs without closing is dropped at the timeout; the next call reconnects', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      try {
        const engine = await open({
          url: urlWithPort(url, proxy.port),
          prefix: `${root}black-hole:`,
          operationTimeout: OPERATION_TIMEOUT,
        })
        const id = randomSessionId()
        await commitForAnHour(engine, id, { 'string:n': '1' })

        proxy.blackHole('forward')
        const hung = await settle(() => engine.load(id, Date.now()))
        expect(hung.error).toBeInstanceOf(EngineTimeoutError)
        expect(hung.elapsed).toBeLessThan(OPERATION_TIMEOUT + MARGIN)

        const next = await settle(() => engine.load(id, Date.now()))
        expect(next).toEqual({ elapsed: expect.any(Number), error: undefined })
        expect(next.elapsed).toBeLessThan(OPERATION_TIMEOUT / 2)
        expect((await engine.load(id, Date.now()))?.data).toEqual({ 'string:n': '1' })
      } finally {
        await proxy.close()
      }
    })

    test('a commit that timed out is never sent again: a later commit of the same key keeps its value', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      try {
        const prefix = `${root}no-replay:`
        const engine = await open({ url: urlWithPort(url, proxy.port), prefix, operationTimeout: OPERATION_TIMEOUT })
        const id = randomSessionId()
        const commit = (value: string) => {
          const now = Date.now()
          return engine.commit(id, { set: { 'string:x': value }, deleted: [], expiresAt: now + HOUR }, now)
        }
        await commit('old')

        proxy.blackHole('forward')
        const stale = await settle(() => commit('stale'))
        expect(stale.error).toBeInstanceOf(EngineTimeoutError)
        expect(await commit('new')).toBe(true)
        // Time for a re-send of the abandoned commit to land, were there one.
        await Bun.sleep(OPERATION_TIMEOUT)
        expect(await raw.send('HGET', [prefix + id, '"string:x"'])).toBe('"new"')
        expect((await engine.load(id, Date.now()))?.data).toEqual({ 'string:x': 'new' })
      } finally {
        await proxy.close()
      }
    })

    test.each([
      ['the client it opens', false],
      ['a client passed in', true],
    ])('a call whose connection closes under it is sent once more on a new one: %s', async (_, passedIn) => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      const routed = urlWithPort(url, proxy.port)
      const client = passedIn ? new RedisClient(routed) : undefined
      try {
        const prefix = `${root}resent-${passedIn}:`
        const options = { prefix, operationTimeout: 4 * OPERATION_TIMEOUT }
        await client?.connect()
        const engine = await open(client ? { client, ...options } : { url: routed, ...options })
        const id = randomSessionId()
        await commitForAnHour(engine, id, { 'string:x': 'old' })

        proxy.blackHole('forward')
        const now = Date.now()
        const commit = settle(() =>
          engine.commit(id, { set: { 'string:x': 'new' }, deleted: [], expiresAt: now + HOUR }, now),
        )
        await Bun.sleep(50)
        // The connection ends while the call waits on it: a restart, say, that drops what it had not read.
        await proxy.cut()
        await proxy.restore()
        expect((await commit).error).toBeUndefined()
        expect(await raw.send('HGET', [prefix + id, '"string:x"'])).toBe('"new"')
      } finally {
        client?.close()
        await proxy.close()
      }
    })

    test('a client passed in is never closed on a timeout, and a call that timed out is never sent again', async () => {
      const proxy = await startTcpProxy(Number(new URL(url).port))
      const client = new RedisClient(urlWithPort(url, proxy.port), { autoReconnect: true })
      try {
        const prefix = `${root}passed-in-timeout:`
        const engine = await open({ client, prefix, operationTimeout: OPERATION_TIMEOUT })
        const id = randomSessionId()
        await commitForAnHour(engine, id, { 'string:x': 'old' })

        proxy.blackHole('forward')
        const now = Date.now()
        const stale = await settle(() =>
          engine.commit(id, { set: { 'string:x': 'stale' }, deleted: [], expiresAt: now + HOUR }, now),
        )
        expect(stale.error).toBeInstanceOf(EngineTimeoutError)
        expect(client.connected).toBe(true)
        // The app's client learns its connection is gone: its queued commands fail and are not re-sent.
        await proxy.cut()
        await proxy.restore()
        await Bun.sleep(OPERATION_TIMEOUT)
        expect(await raw.send('HGET', [prefix + id, '"string:x"'])).toBe('"old"')
      } finally {
        client.close()
        await proxy.close()
      }
    })
  })
})
