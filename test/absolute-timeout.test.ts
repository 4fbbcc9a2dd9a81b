import { afterEach, describe, expect, setSystemTime, test } from 'bun:test'
import { Elysia } from 'elysia'
import { type SessionEngine, type SessionOptions, session } from 'elysia-sessions'
import { randomSessionId, signedCookieValue } from './support/cookie-format.js'
import { FEATURE_ENGINES } from './support/engines.js'
import {
  appDataOf,
  CREATED_AT_KEY,
  callsOf,
  cookiePairOf,
  idOf,
  maxAgeOf,
  recordingEngine,
  SECRET,
  send,
  setCookieOf,
  type Writable,
} from './support/http.js'

const TIMEOUT = 60_000
const TOUCH_INTERVAL = 10_000
const ABSOLUTE = 150_000
const T0 = 1_900_000_000_000

/** Moves the frozen clock `ms` forward; the plugin reads the time through Date.now. */
function advance(ms: number): number {
  setSystemTime(Date.now() + ms)
  return Date.now()
}

interface PeekBody {
  strings: Record<string, string>
  createdAt: number | null
}

for (const [engineName, makeEngine] of FEATURE_ENGINES) {
  describe(`absoluteTimeout (${engineName} engine)`, () => {
    const closers: (() => Promise<void>)[] = []

    afterEach(async () => {
      setSystemTime()
      for (const close of closers.splice(0)) await close()
    })

    async function recorded() {
      setSystemTime(T0)
      return recordingEngine(await makeEngine())
    }

    function appOn(engine: SessionEngine, options: Partial<SessionOptions> = {}) {
      const app = new Elysia()
        .use(
          session({
            secret: SECRET,
            engine,
            timeout: TIMEOUT,
            touchInterval: TOUCH_INTERVAL,
            absoluteTimeout: ABSOLUTE,
            gcInterval: 0,
            ...options,
          }),
        )
        .get('/set/:key', ({ session, params }) => {
          session.string(params.key, 'v')
          return 'ok'
        })
        .get('/peek', ({ session }): PeekBody => ({ strings: session.strings, createdAt: session.createdAt }))
        .get('/save-now/:key', async ({ session, params }) => {
          const before = session.createdAt
          session.string(params.key, 'v')
          await session.save()
          return { before, after: session.createdAt, expiresAt: session.expiresAt }
        })
        .get('/regenerate', async ({ session }) => {
          await session.regenerate()
          return { createdAt: session.createdAt }
        })
        .get('/write-after-destroyed-elsewhere', async ({ session, sessions }) => {
          await sessions.destroy(session.id)
          session.string('late', 'v')
          return 'written'
        })
        .get('/reset-then-save', async ({ session }) => {
          await session.reset()
          const before = session.createdAt
          session.string('after', 'reset')
          await session.save()
          return { before, after: session.createdAt }
        })
      closers.push(() => app.decorator.sessions.close())
      return app
    }

    async function engineExpiry(engine: SessionEngine, pair: string | undefined): Promise<number | undefined> {
      return (await engine.load(idOf(pair), Date.now()))?.expiresAt
    }

    async function peek(app: ReturnType<typeof appOn>, cookie: string | undefined) {
      const response = await send(app, '/peek', { cookie })
      return { response, body: (await response.json()) as PeekBody }
    }

    /** Stores a session the way a version without creation times did: data only, no creation time. */
    async function storeLegacySession(engine: SessionEngine): Promise<string> {
      const id = randomSessionId()
      const changes = { set: { 'string:old': 'v' }, deleted: [], expiresAt: Date.now() + TIMEOUT }
      expect(await engine.commit(id, changes, Date.now())).toBe(true)
      return `sessid=${signedCookieValue(id, SECRET)}`
    }

    describe('createdAt', () => {
      test('is null before the first save and the time of that save after it', async () => {
        const app = appOn(await recorded())
        const first = await send(app, '/save-now/a')
        expect(await first.json()).toEqual({ before: null, after: T0, expiresAt: T0 + TIMEOUT })
        advance(5_000)
        expect((await peek(app, cookiePairOf(first))).body.createdAt).toBe(T0)
      })

      test('regenerate keeps it under the new id; reset starts a new one at the next save', async () => {
        const app = appOn(await recorded())
        const pair = cookiePairOf(await send(app, '/set/a'))
        advance(20_000)
        const regenerated = await send(app, '/regenerate', { cookie: pair })
        expect(await regenerated.json()).toEqual({ createdAt: T0 })
        const renewed = cookiePairOf(regenerated)
        expect(idOf(renewed)).not.toBe(idOf(pair))
        expect((await peek(app, renewed)).body).toEqual({ strings: { a: 'v' }, createdAt: T0 })

        const resetAt = advance(20_000)
        const reset = await send(app, '/reset-then-save', { cookie: renewed })
        expect(await reset.json()).toEqual({ before: null, after: resetAt })
        expect((await peek(app, cookiePairOf(reset))).body).toEqual({ strings: { after: 'reset' }, createdAt: resetAt })
      })

      test('a write to a session destroyed meanwhile starts a fresh session with a creation time of its own', async () => {
        const app = appOn(await recorded())
        const pair = cookiePairOf(await send(app, '/set/a'))
        const restartedAt = advance(20_000)
        const fresh = cookiePairOf(await send(app, '/write-after-destroyed-elsewhere', { cookie: pair }))
        expect(idOf(fresh)).not.toBe(idOf(pair))
        expect((await peek(app, fresh)).body).toEqual({ strings: { late: 'v' }, createdAt: restartedAt })
      })
    })

    describe('an active session ends at its absolute end', () => {
      test('when it is only read', async () => {
        const app = appOn(await recorded())
        const pair = cookiePairOf(await send(app, '/set/a'))
        for (let elapsed = 20_000; elapsed < ABSOLUTE; elapsed += 20_000) {
          advance(20_000)
          expect((await peek(app, pair)).body.strings).toEqual({ a: 'v' })
        }
        setSystemTime(T0 + ABSOLUTE)
        const { response, body } = await peek(app, pair)
        expect(body).toEqual({ strings: {}, createdAt: null })
        expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
      })

      test('when it is written on every request', async () => {
        const engine = await recorded()
        const app = appOn(engine)
        const pair = cookiePairOf(await send(app, '/set/a'))
        for (let elapsed = 20_000; elapsed < ABSOLUTE; elapsed += 20_000) {
          advance(20_000)
          const response = await send(app, `/set/k${elapsed}`, { cookie: pair })
          expect(cookiePairOf(response) ?? pair).toBe(pair!)
        }
        expect(Object.keys((await peek(app, pair)).body.strings)).toHaveLength(8)
        const endedAt = T0 + ABSOLUTE
        setSystemTime(endedAt)
        const late = await send(app, '/set/late', { cookie: pair })
        const fresh = cookiePairOf(late)
        expect(idOf(fresh)).not.toBe(idOf(pair))
        expect((await peek(app, fresh)).body).toEqual({ strings: { late: 'v' }, createdAt: endedAt })
        expect(await engine.load(idOf(pair), Date.now())).toBeNull()
      })
    })

    describe("the cookie's Max-Age follows the engine's expiry", () => {
      test('before the cap, at the cap, and never a touch once the expiry sits at the cap', async () => {
        const engine = await recorded()
        const app = appOn(engine)
        const first = await send(app, '/set/a')
        const pair = cookiePairOf(first)
        expect(maxAgeOf(first)).toBe(TIMEOUT / 1000)
        expect(await engineExpiry(engine, pair)).toBe(T0 + TIMEOUT)

        advance(50_000)
        const slid = await send(app, '/peek', { cookie: pair })
        expect(await engineExpiry(engine, pair)).toBe(T0 + 110_000)
        expect(maxAgeOf(slid)).toBe(TIMEOUT / 1000)

        advance(50_000)
        const capped = await send(app, '/peek', { cookie: pair })
        expect(callsOf(engine, 'touch').at(-1)?.args[1]).toBe(T0 + ABSOLUTE)
        expect(await engineExpiry(engine, pair)).toBe(T0 + ABSOLUTE)
        expect(maxAgeOf(capped)).toBe(50)

        advance(30_000)
        engine.calls.length = 0
        const read = await send(app, '/peek', { cookie: pair })
        expect(callsOf(engine, 'touch')).toHaveLength(0)
        expect(read.headers.getSetCookie()).toEqual([])
        const written = await send(app, '/set/b', { cookie: pair })
        expect(callsOf(engine, 'commit')[0]?.args[1]).toMatchObject({ expiresAt: T0 + ABSOLUTE })
        expect(written.headers.getSetCookie()).toEqual([])
      })

      test('a write near the cap gets the absolute end as its expiry, and the cookie says so', async () => {
        const app = appOn(await recorded())
        const pair = cookiePairOf(await send(app, '/set/a'))
        advance(50_000)
        await send(app, '/peek', { cookie: pair })
        advance(ABSOLUTE - 50_000 - 55_500)
        const response = await send(app, '/save-now/b', { cookie: pair })
        expect(((await response.json()) as { expiresAt: number }).expiresAt).toBe(T0 + ABSOLUTE)
        expect(maxAgeOf(response)).toBe(56)
      })

      test('with an absoluteTimeout shorter than timeout, a new session lives for absoluteTimeout', async () => {
        const engine = await recorded()
        const app = appOn(engine, { absoluteTimeout: 30_000 })
        const response = await send(app, '/save-now/a')
        expect(((await response.json()) as { expiresAt: number }).expiresAt).toBe(T0 + 30_000)
        expect(maxAgeOf(response)).toBe(30)
        expect(await engineExpiry(engine, cookiePairOf(response))).toBe(T0 + 30_000)
      })
    })

    describe('sessions stored before absoluteTimeout was set or lowered', () => {
      async function storedWithoutAbsoluteTimeout() {
        const engine = await recorded()
        const before = appOn(engine, { absoluteTimeout: undefined })
        const pair = cookiePairOf(await send(before, '/set/a'))
        advance(50_000)
        await send(before, '/set/b', { cookie: pair })
        expect(await engineExpiry(engine, pair)).toBe(T0 + 110_000)
        return { engine, pair }
      }

      test('a session past its absolute end is no session: a fresh one, the cookie cleared, the record deleted', async () => {
        const { engine, pair } = await storedWithoutAbsoluteTimeout()
        advance(10_000)
        const app = appOn(engine, { absoluteTimeout: 30_000 })
        engine.calls.length = 0
        const { response, body } = await peek(app, pair)
        expect(body).toEqual({ strings: {}, createdAt: null })
        expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
        expect(callsOf(engine, 'delete').map((call) => call.args[0])).toEqual([idOf(pair)])
        expect(await engine.load(idOf(pair), Date.now())).toBeNull()
      })

      test('a failure to delete it is logged, and the request still gets a fresh session', async () => {
        const { engine, pair } = await storedWithoutAbsoluteTimeout()
        advance(10_000)
        const deleteIsDown = () => {
          throw new Error('delete is down')
        }
        const failingDelete: Writable<SessionEngine> = {
          ...engine,
          name: engine.name,
          delete: async () => deleteIsDown(),
        }
        // An engine with synchronous calls keeps them, failing too, so the plugin's synchronous path is the one tested.
        if (engine.sync) failingDelete.sync = { ...engine.sync, engine: failingDelete, delete: deleteIsDown }
        const logged: string[] = []
        const logger = { error: (message: string) => logged.push(message) }
        const { response, body } = await peek(appOn(failingDelete, { absoluteTimeout: 30_000, logger }), pair)
        expect(response.status).toBe(200)
        expect(body).toEqual({ strings: {}, createdAt: null })
        expect(setCookieOf(response)).toStartWith('sessid=; Max-Age=0')
        expect(logged).toEqual([
          'elysia-sessions: session engine failed to delete a session past its absoluteTimeout: delete is down (more failures in the next 10 s are counted, not logged)',
        ])
      })

      test('the admin API neither finds nor lists a session past its absolute end', async () => {
        const { engine, pair } = await storedWithoutAbsoluteTimeout()
        advance(10_000)
        const { sessions } = appOn(engine, { absoluteTimeout: 30_000 }).decorator
        expect(await sessions.all()).toEqual([])
        expect(await sessions.get(idOf(pair))).toBeNull()
        expect(await engine.load(idOf(pair), Date.now())).toBeNull()
      })

      test('a session saved through the admin API keeps its stored expiry, but never past its absolute end', async () => {
        const { engine, pair } = await storedWithoutAbsoluteTimeout()
        advance(5_000)
        const { sessions } = appOn(engine, { absoluteTimeout: 100_000 }).decorator
        const found = await sessions.get(idOf(pair))
        found?.string('by', 'admin')
        await found?.save()
        expect(found?.expiresAt).toBe(T0 + 100_000)
        expect(await engineExpiry(engine, pair)).toBe(T0 + 100_000)
      })

      test('a stored expiry past the absolute end is pulled in on the next request, and the cookie follows', async () => {
        const { engine, pair } = await storedWithoutAbsoluteTimeout()
        advance(5_000)
        const app = appOn(engine, { absoluteTimeout: 100_000 })
        const response = await send(app, '/peek', { cookie: pair })
        expect(callsOf(engine, 'touch').at(-1)?.args[1]).toBe(T0 + 100_000)
        expect(await engineExpiry(engine, pair)).toBe(T0 + 100_000)
        expect(maxAgeOf(response)).toBe(45)
      })
    })

    describe('sessions stored before creation times were recorded', () => {
      for (const absoluteTimeout of [ABSOLUTE, undefined]) {
        test(`get one at their next save (absoluteTimeout ${absoluteTimeout ?? 'off'})`, async () => {
          const engine = await recorded()
          const pair = await storeLegacySession(engine)
          const app = appOn(engine, { absoluteTimeout })
          expect((await peek(app, pair)).body.createdAt).toBeNull()
          const savedAt = advance(1_000)
          await send(app, '/set/b', { cookie: pair })
          const stored = await engine.load(idOf(pair), Date.now())
          expect(stored?.data[CREATED_AT_KEY]).toBe(savedAt)
          expect((await peek(app, pair)).body).toEqual({ strings: { old: 'v', b: 'v' }, createdAt: savedAt })
        })
      }

      test('with absoluteTimeout, one only read gets it at its next due touch, written in place of the touch', async () => {
        const engine = await recorded()
        const pair = await storeLegacySession(engine)
        const app = appOn(engine)
        advance(TOUCH_INTERVAL - 1)
        engine.calls.length = 0
        expect((await peek(app, pair)).body.createdAt).toBeNull()
        expect(engine.calls.map((call) => call.method)).toEqual(['load'])

        const stampedAt = advance(1)
        const response = await send(app, '/peek', { cookie: pair })
        expect(callsOf(engine, 'touch')).toHaveLength(0)
        expect(callsOf(engine, 'commit').map((call) => call.args[1])).toEqual([
          { set: { [CREATED_AT_KEY]: stampedAt }, deleted: [], expiresAt: stampedAt + TIMEOUT, existingOnly: true },
        ])
        expect(maxAgeOf(response)).toBe(TIMEOUT / 1000)
        expect(appDataOf((await engine.load(idOf(pair), Date.now()))?.data)).toEqual({ 'string:old': 'v' })

        // From then on it ends like any other session, however often it is read.
        while (Date.now() + 40_000 < stampedAt + ABSOLUTE) {
          advance(40_000)
          expect((await peek(app, pair)).body.createdAt).toBe(stampedAt)
        }
        setSystemTime(stampedAt + ABSOLUTE)
        expect((await peek(app, pair)).body).toEqual({ strings: {}, createdAt: null })
      })

      test('without absoluteTimeout, one only read is touched as before and stays without a creation time', async () => {
        const engine = await recorded()
        const pair = await storeLegacySession(engine)
        const app = appOn(engine, { absoluteTimeout: undefined })
        advance(TOUCH_INTERVAL)
        engine.calls.length = 0
        await send(app, '/peek', { cookie: pair })
        expect(callsOf(engine, 'touch')).toHaveLength(1)
        expect(callsOf(engine, 'commit')).toHaveLength(0)
        expect((await engine.load(idOf(pair), Date.now()))?.data).toEqual({ 'string:old': 'v' })
      })
    })
  })
}
