import { afterEach, describe, expect, expectTypeOf, test } from 'bun:test'
import { Elysia, redirect } from 'elysia'
import { type Flash, type SessionChanges, type SessionEngine, session } from 'elysia-sessions'
import { FEATURE_ENGINES } from './support/engines.js'
import { appDataOf, callsOf, cookiePairOf, idOf, recordingEngine, SECRET, send, setCookieOf } from './support/http.js'

/** What a handler shows for a message that is absent, since JSON has no undefined. */
const NONE = '(none)'
const shown = (value: unknown) => (value === undefined ? NONE : value)

/** The `flash:<stamp>:` start of a message's storage key, as docs/flash.md describes it. */
const FLASH_STORAGE_PREFIX = /^flash:[0-9a-z]+:/

/** Stored data with each message's stamp written as `<stamp>`, so that a test names the storage keys it expects. */
function unstamped(data: Record<string, unknown> | null): Record<string, unknown> | null {
  if (data === null) return null
  const keys = Object.keys(data)
  const renamed = Object.fromEntries(
    keys.map((key) => [key.replace(FLASH_STORAGE_PREFIX, 'flash:<stamp>:'), data[key]]),
  )
  // Two messages under one key would collapse into one entry here.
  expect(Object.keys(renamed)).toHaveLength(keys.length)
  return renamed
}

/** Lets `count` requests wait for each other inside their handlers, after every one of them loaded the session. */
function barrier(count: number) {
  let arrived = 0
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return () => {
    arrived++
    if (arrived === count) open()
    return opened
  }
}

/** Holds one request inside its handler, after it loaded the session, until the test lets it go. */
function hold() {
  let arrive = () => {}
  let release = () => {}
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve
  })
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  return {
    /** Settles once the request is held. */
    arrived,
    release,
    wait: () => {
      arrive()
      return released
    },
  }
}

const openApps: { decorator: { sessions: { close(): Promise<void> } } }[] = []
afterEach(async () => {
  await Promise.all(openApps.splice(0).map((app) => app.decorator.sessions.close()))
})

function flashApp(engine: SessionEngine) {
  let arriveAtBarrier = barrier(2)
  let held = hold()
  const app = new Elysia()
    .use(session({ secret: SECRET, engine, gcInterval: 0 }))
    .post('/posts', ({ flash }) => {
      flash.set('notice', 'Post saved.')
      return redirect('/', 303)
    })
    .get('/', ({ flash }) => flash.get<string>('notice') ?? NONE)
    .get('/set/:key/:value', ({ flash, params }) => {
      flash.set(params.key, params.value)
      // The message travels to the next request: this one still sees what came in under the key.
      return { seen: shown(flash.peek(params.key)) }
    })
    .get('/set-twice', ({ flash }) => {
      flash.set('notice', 'first')
      flash.set('notice', 'second')
      return 'ok'
    })
    .get('/set-two', ({ flash }) => {
      flash.set('a', '1')
      flash.set('b', '2')
      return 'ok'
    })
    .get('/set-disguised', ({ flash }) => {
      flash.set('notice', 'hello')
      flash.set('string:name', 'disguised')
      return 'ok'
    })
    .get('/set-json', ({ flash }) => {
      const value = { text: 'Saved', tags: ['a', 'b'], count: 2, ok: true, none: null, nested: { deep: [1, { x: 2 }] } }
      flash.set('data', value)
      value.tags.push('mutated after set')
      return 'ok'
    })
    .get('/throw-after-set', ({ flash }) => {
      flash.set('alert', 'Something failed.')
      throw new Error('handler failed')
    })
    .get('/get-twice/:key', ({ flash, params }) => [shown(flash.get(params.key)), shown(flash.get(params.key))])
    .get('/peek-twice-then-get/:key', ({ flash, params }) => [
      shown(flash.peek(params.key)),
      shown(flash.peek(params.key)),
      shown(flash.get(params.key)),
    ])
    .get('/all', ({ flash }) => flash.all())
    .get('/all-twice', ({ flash }) => {
      const first = flash.all()
      return { first, plain: Object.getPrototypeOf(first) === Object.prototype, second: flash.all() }
    })
    .get('/keep/:key', ({ flash, params }) => {
      flash.keep(params.key)
      return 'kept'
    })
    .get('/get-and-keep/:key', ({ flash, params }) => {
      const value = flash.get(params.key)
      flash.keep(params.key)
      return { value: shown(value), again: shown(flash.get(params.key)) }
    })
    .get('/keep-all', ({ flash }) => {
      flash.keep()
      return 'kept'
    })
    .get('/keep-then-set/:key/:value', ({ flash, params }) => {
      flash.keep(params.key)
      flash.set(params.key, params.value)
      return 'ok'
    })
    .get('/now/:key/:value', ({ flash, params }) => {
      flash.now(params.key, params.value)
      const peeked = flash.peek(params.key)
      return { peeked: shown(peeked), all: flash.all(), after: shown(flash.get(params.key)) }
    })
    .get('/ignore', () => 'ignored')
    .get('/strings', ({ session }) => session.strings)
    .get('/name/:name', ({ session, params }) => {
      session.string('name', params.name)
      return 'ok'
    })
    .get('/set-then-save', async ({ flash, session }) => {
      flash.set('notice', 'saved early')
      await session.save()
      return 'ok'
    })
    .get('/set-at-barrier/:key', async ({ flash, params }) => {
      await arriveAtBarrier()
      flash.set(params.key, params.key)
      return 'ok'
    })
    .get('/get-when-released/:key', async ({ flash, params }) => {
      const value = flash.get(params.key)
      await held.wait()
      return { value: shown(value) }
    })
    .get('/set-when-released/:key/:value', async ({ flash, params }) => {
      await held.wait()
      flash.set(params.key, params.value)
      return 'ok'
    })
    .get('/set-then-wait/:key/:value', async ({ flash, params }) => {
      flash.set(params.key, params.value)
      await held.wait()
      return 'ok'
    })
    .get('/login', async ({ flash, session }) => {
      await session.regenerate()
      return { notice: shown(flash.get('notice')), id: session.id }
    })
    .get('/login-welcome', async ({ flash, session }) => {
      flash.set('welcome', 'Welcome back.')
      await session.regenerate()
      flash.set('hint', 'Set after regenerate.')
      return { notice: shown(flash.get('notice')), welcome: shown(flash.peek('welcome')), all: flash.all() }
    })
    .get('/logout', async ({ flash, session }) => {
      const before = flash.peek('notice')
      await session.destroy()
      const after = flash.peek('notice')
      flash.set('bye', 'You are logged out.')
      return Response.json({ before: shown(before), after: shown(after), all: flash.all() }, { status: 200 })
    })
    .get('/off', ({ flash }) => ({ peek: shown(flash.peek('notice')), all: flash.all() }), { session: false })
    .get(
      '/off-write',
      ({ flash }) => {
        flash.keep()
        flash.keep('notice')
        const errors: string[] = []
        for (const write of [() => flash.set('notice', 'x'), () => flash.now('notice', 'x')]) {
          try {
            write()
          } catch (error) {
            errors.push((error as Error).message)
          }
        }
        return errors
      },
      { session: false },
    )
  return {
    app,
    resetBarrier: () => {
      arriveAtBarrier = barrier(2)
    },
    /** Holds the next request to a `when-released` or `then-wait` route. */
    holdNext: () => {
      held = hold()
      return held
    },
  }
}

for (const [engineName, makeEngine] of FEATURE_ENGINES) {
  describe(`flash messages on the ${engineName} engine`, () => {
    async function setUp(wrap: (engine: SessionEngine) => SessionEngine = (engine) => engine) {
      const engine = wrap(await makeEngine())
      const { app, resetBarrier, holdNext } = flashApp(engine)
      openApps.push(app)
      const storedAsIs = async (pair: string | undefined) =>
        appDataOf((await engine.load(idOf(pair), Date.now()))?.data) ?? null
      const stored = async (pair: string | undefined) => unstamped(await storedAsIs(pair))
      return { app, engine, stored, storedAsIs, resetBarrier, holdNext }
    }

    async function textOf(response: Response | Promise<Response>): Promise<string> {
      return (await response).text()
    }

    test('redirect after post: the next GET shows the message, a reload does not', async () => {
      const { app } = await setUp()
      const posted = await send(app, '/posts', { method: 'POST' })
      expect(posted.status).toBe(303)
      expect(posted.headers.get('location')).toBe('/')
      const pair = cookiePairOf(posted)
      expect(pair).toBeDefined()
      expect(await textOf(send(app, '/', { cookie: pair }))).toBe('Post saved.')
      expect(await textOf(send(app, '/', { cookie: pair }))).toBe(NONE)
    })

    test('a message set before the handler throws still reaches the next request', async () => {
      const { app } = await setUp()
      const failed = await send(app, '/throw-after-set')
      expect(failed.status).toBe(500)
      const pair = cookiePairOf(failed)
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ alert: 'Something failed.' })
    })

    test('a message is not visible in the request that sets it', async () => {
      const { app } = await setUp()
      const response = await send(app, '/set/notice/hello')
      expect(await response.json()).toEqual({ seen: NONE })
      const pair = cookiePairOf(response)
      // Setting again shows the incoming message, and the new one travels on.
      expect(await (await send(app, '/set/notice/again', { cookie: pair })).json()).toEqual({ seen: 'hello' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'again' })
    })

    test('get consumes: a second get in the same request returns undefined', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      expect(await (await send(app, '/get-twice/notice', { cookie: pair })).json()).toEqual(['hello', NONE])
    })

    test('peek does not consume', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      expect(await (await send(app, '/peek-twice-then-get/notice', { cookie: pair })).json()).toEqual([
        'hello',
        'hello',
        'hello',
      ])
    })

    test('an unread message is gone after the next request that loads the session', async () => {
      const { app, stored } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      expect(await stored(pair)).toEqual({ 'flash:<stamp>:notice': 'hello' })
      expect(await textOf(send(app, '/ignore', { cookie: pair }))).toBe('ignored')
      expect(await stored(pair)).toEqual({})
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('keep(key) carries one unread message to exactly one more request', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set-two'))
      expect(await textOf(send(app, '/keep/a', { cookie: pair }))).toBe('kept')
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ a: '1' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('keep(key) keeps a message that was already read', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/a/1'))
      expect(await (await send(app, '/get-and-keep/a', { cookie: pair })).json()).toEqual({ value: '1', again: NONE })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ a: '1' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('keep() carries every incoming message to exactly one more request', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set-two'))
      await send(app, '/keep-all', { cookie: pair })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ a: '1', b: '2' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('keep(key) then set(key): the new value replaces the kept one and travels for one request', async () => {
      const { app, stored } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/old'))
      await send(app, '/keep-then-set/notice/new', { cookie: pair })
      expect(await stored(pair)).toEqual({ 'flash:<stamp>:notice': 'new' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'new' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('now is visible in this request only, over an incoming message, and is never stored', async () => {
      const { app, engine, stored } = await setUp((engine) => recordingEngine(engine))
      const recorded = engine as ReturnType<typeof recordingEngine>
      const fresh = await send(app, '/now/notice/hi')
      expect(await fresh.json()).toEqual({ peeked: 'hi', all: { notice: 'hi' }, after: NONE })
      expect(fresh.headers.getSetCookie()).toEqual([])
      expect(callsOf(recorded, 'commit')).toHaveLength(0)

      const pair = cookiePairOf(await send(app, '/set/notice/incoming'))
      expect(await (await send(app, '/now/notice/over', { cookie: pair })).json()).toEqual({
        peeked: 'over',
        all: { notice: 'over' },
        after: NONE,
      })
      expect(await stored(pair)).toEqual({})
    })

    test('all() returns a plain object of every message and consumes them', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set-two'))
      expect(await (await send(app, '/all-twice', { cookie: pair })).json()).toEqual({
        first: { a: '1', b: '2' },
        plain: true,
        second: {},
      })
    })

    test('JSON values arrive as they were when set', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set-json'))
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({
        data: { text: 'Saved', tags: ['a', 'b'], count: 2, ok: true, none: null, nested: { deep: [1, { x: 2 }] } },
      })
    })

    test('a { session: false } route neither sees nor consumes messages, and cannot set any', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      expect(await (await send(app, '/off', { cookie: pair })).json()).toEqual({ peek: NONE, all: {} })
      const refused = await (await send(app, '/off-write', { cookie: pair })).json()
      expect(refused).toEqual([
        'flash.set() needs the session, which is turned off on this route by { session: false }; remove that option to use it',
        'flash.now() needs the session, which is turned off on this route by { session: false }; remove that option to use it',
      ])
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'hello' })
    })

    test('setting a message on a new session creates the session', async () => {
      const { app, stored } = await setUp()
      const response = await send(app, '/set/notice/hello')
      expect(setCookieOf(response)).toBeDefined()
      expect(await stored(cookiePairOf(response))).toEqual({ 'flash:<stamp>:notice': 'hello' })
    })

    test('reading when there is no message creates nothing and writes nothing', async () => {
      const { app, engine } = await setUp((engine) => recordingEngine(engine))
      const recorded = engine as ReturnType<typeof recordingEngine>
      for (const path of ['/', '/all', '/get-twice/x', '/peek-twice-then-get/x', '/keep/x', '/keep-all']) {
        const response = await send(app, path)
        expect(response.status).toBe(200)
        expect(response.headers.getSetCookie()).toEqual([])
      }
      expect(recorded.calls).toEqual([])
    })

    test('a stored session without messages costs no engine call beyond its load, used or not', async () => {
      const { app, engine } = await setUp((engine) => recordingEngine(engine))
      const recorded = engine as ReturnType<typeof recordingEngine>
      const pair = cookiePairOf(await send(app, '/name/Ada'))
      for (const path of ['/ignore', '/', '/all', '/keep-all', '/keep/x', '/now/x/y', '/strings']) {
        recorded.calls.length = 0
        const response = await send(app, path, { cookie: pair })
        expect(response.headers.getSetCookie()).toEqual([])
        expect(recorded.calls.map((call) => call.method)).toEqual(['load'])
      }
    })

    test("consuming a message is part of the request's single commit", async () => {
      const { app, engine } = await setUp((engine) => recordingEngine(engine))
      const recorded = engine as ReturnType<typeof recordingEngine>
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      recorded.calls.length = 0
      await send(app, '/name/Ada', { cookie: pair })
      const commits = callsOf(recorded, 'commit')
      expect(commits).toHaveLength(1)
      expect(commits[0]?.args[1]).toMatchObject({
        set: { 'string:name': 'Ada' },
        deleted: [expect.stringMatching(/^flash:[0-9a-z]+:notice$/)],
      })
    })

    test('typed snapshots and sessions.get(id) never show flash data, and a detached save keeps the messages', async () => {
      const { app, stored } = await setUp()
      const pair = cookiePairOf(await send(app, '/name/Ada'))
      await send(app, '/set-disguised', { cookie: pair })
      const detached = await app.decorator.sessions.get(idOf(pair))
      if (!detached) throw new Error('the session should exist')
      const snapshots = [
        detached.ints,
        detached.bigints,
        detached.strings,
        detached.floats,
        detached.bools,
        detached.objects,
      ]
      expect(snapshots).toEqual([{}, {}, { name: 'Ada' }, {}, {}, {}])
      detached.string('note', 'by admin')
      await detached.save()
      expect(await stored(pair)).toMatchObject({
        'flash:<stamp>:notice': 'hello',
        'flash:<stamp>:string:name': 'disguised',
      })
      // This request reads the strings snapshot, which shows no message, and consumes both messages.
      expect(await (await send(app, '/strings', { cookie: pair })).json()).toEqual({ name: 'Ada', note: 'by admin' })
      expect(await stored(pair)).toEqual({ 'string:name': 'Ada', 'string:note': 'by admin' })
    })

    test('a message set before an explicit save() travels like any other', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set-then-save'))
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'saved early' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('concurrent requests that set different messages both keep them', async () => {
      const { app, resetBarrier } = await setUp()
      const pair = cookiePairOf(await send(app, '/name/Ada'))
      resetBarrier()
      const responses = await Promise.all(
        ['a', 'b'].map((key) => send(app, `/set-at-barrier/${key}`, { cookie: pair })),
      )
      expect(responses.map((response) => response.status)).toEqual([200, 200])
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ a: 'a', b: 'b' })
    })

    test('a message set while a slower request holds the old one under the same key survives that request', async () => {
      const { app, holdNext } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/old'))
      const held = holdNext()
      const slow = send(app, '/get-when-released/notice', { cookie: pair })
      await held.arrived
      expect(await (await send(app, '/set/notice/new', { cookie: pair })).json()).toEqual({ seen: 'old' })
      held.release()
      expect(await (await slow).json()).toEqual({ value: 'old' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'new' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('a kept message and a newer one under its key: the next request sees the newer, and both end there', async () => {
      const { app, storedAsIs, holdNext } = await setUp()
      const pair = cookiePairOf(await send(app, '/name/Ada'))
      // This request loads the session before "old" exists, so it never removes it.
      const held = holdNext()
      const setter = send(app, '/set-when-released/notice/new', { cookie: pair })
      await held.arrived
      await send(app, '/set/notice/old', { cookie: pair })
      await send(app, '/keep/notice', { cookie: pair })
      held.release()
      expect((await setter).status).toBe(200)
      const storageKeys = Object.keys((await storedAsIs(pair)) ?? {}).filter((key) => key.startsWith('flash:'))
      expect(storageKeys).toHaveLength(2)
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'new' })
      expect(await storedAsIs(pair)).toEqual({ 'string:name': 'Ada' })
    })

    test('of two messages set concurrently under one key, the one set last wins, whichever is saved first', async () => {
      const { app, holdNext } = await setUp()
      const pair = cookiePairOf(await send(app, '/name/Ada'))
      const held = holdNext()
      const first = send(app, '/set-then-wait/notice/first', { cookie: pair })
      await held.arrived
      await send(app, '/set/notice/second', { cookie: pair })
      held.release()
      expect((await first).status).toBe(200)
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'second' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({})
    })

    test('setting a key twice in one request stores one message, the last value', async () => {
      const { app, engine, stored } = await setUp((engine) => recordingEngine(engine))
      const recorded = engine as ReturnType<typeof recordingEngine>
      const pair = cookiePairOf(await send(app, '/set-twice'))
      // One storage key, written once: no second key that the commit would have to delete again.
      const commits = callsOf(recorded, 'commit')
      expect(commits).toHaveLength(1)
      const changes = commits[0]?.args[1] as SessionChanges
      expect(unstamped(appDataOf(changes.set) ?? null)).toEqual({ 'flash:<stamp>:notice': 'second' })
      expect(changes.deleted).toEqual([])
      expect(await stored(pair)).toEqual({ 'flash:<stamp>:notice': 'second' })
      expect(await (await send(app, '/all', { cookie: pair })).json()).toEqual({ notice: 'second' })
    })

    test('regenerate keeps the incoming messages known, and consumes them under the new id', async () => {
      const { app, stored } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      const response = await send(app, '/login', { cookie: pair })
      const renewed = cookiePairOf(response)
      expect(await response.json()).toEqual({ notice: 'hello', id: idOf(renewed) })
      expect(idOf(renewed)).not.toBe(idOf(pair))
      expect(await stored(pair)).toBeNull()
      expect(await stored(renewed)).toEqual({})
    })

    test('messages set before and after regenerate reach the next request under the new id', async () => {
      const { app } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      const response = await send(app, '/login-welcome', { cookie: pair })
      expect(await response.json()).toEqual({ notice: 'hello', welcome: NONE, all: {} })
      const renewed = cookiePairOf(response)
      expect(idOf(renewed)).not.toBe(idOf(pair))
      expect(await (await send(app, '/all', { cookie: renewed })).json()).toEqual({
        welcome: 'Welcome back.',
        hint: 'Set after regenerate.',
      })
      expect(await (await send(app, '/all', { cookie: renewed })).json()).toEqual({})
    })

    test('destroy drops the old messages, and a message set afterwards goes into the new session', async () => {
      const { app, stored } = await setUp()
      const pair = cookiePairOf(await send(app, '/set/notice/hello'))
      const response = await send(app, '/logout', { cookie: pair })
      expect(await response.json()).toEqual({ before: 'hello', after: NONE, all: {} })
      const fresh = cookiePairOf(response)
      expect(idOf(fresh)).not.toBe(idOf(pair))
      expect(await stored(pair)).toBeNull()
      expect(await (await send(app, '/all', { cookie: fresh })).json()).toEqual({ bye: 'You are logged out.' })
    })
  })
}

describe('flash values and keys', () => {
  function rejected(write: (flash: Flash) => void) {
    const app = new Elysia().use(session({ secret: SECRET, gcInterval: 0 })).get('/', ({ flash }) => {
      try {
        write(flash)
      } catch (error) {
        return { name: (error as Error).name, message: (error as Error).message }
      }
      return { name: 'none', message: '' }
    })
    openApps.push(app)
    return send(app, '/').then(async (response) => ({
      ...((await response.json()) as { name: string; message: string }),
      cookie: setCookieOf(response),
    }))
  }

  class Point {
    constructor(readonly x: number) {}
  }
  const cycle: Record<string, unknown> = { name: 'loop' }
  cycle['self'] = { back: cycle }
  const sparse: unknown[] = [1]
  sparse[2] = 3
  const cases: [string, unknown, string][] = [
    ['undefined', undefined, 'got undefined'],
    ['a function', function greet() {}, 'got a function (greet)'],
    ['a symbol', Symbol('s'), 'got symbol Symbol(s)'],
    ['a bigint', 10n, 'got a bigint'],
    ['NaN', Number.NaN, 'got number NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'got number Infinity'],
    ['a Date', new Date(0), 'got an object (Date)'],
    ['a Map', new Map(), 'got an object (Map)'],
    ['a class instance', new Point(1), 'got an object (Point)'],
    ['a nested undefined', { a: { b: [1, undefined] } }, 'got undefined at value.a.b[1]'],
    ['a nested Date under an odd key', { 'my key': new Date(0) }, 'got an object (Date) at value["my key"]'],
    ['an array hole', sparse, 'got an empty array slot at value[1]'],
    ['a cycle', cycle, 'got a cycle: it refers back to an object that contains it at value.self.back'],
  ]
  for (const [what, value, problem] of cases) {
    test(`set and now refuse ${what} with a TypeError naming the key, and write nothing`, async () => {
      for (const method of ['set', 'now'] as const) {
        const outcome = await rejected((flash) => flash[method]('notice', value as never))
        expect(outcome.name).toBe('TypeError')
        expect(outcome.message).toStartWith(`flash.${method}("notice", value) needs a JSON-safe value`)
        expect(outcome.message).toEndWith(problem)
        expect(outcome.cookie).toBeUndefined()
      }
    })
  }

  test('a shared object that is not a cycle is fine', async () => {
    const shared = { x: 1 }
    const outcome = await rejected((flash) => flash.set('notice', { a: shared, b: [shared, shared] }))
    expect(outcome.name).toBe('none')
    expect(outcome.cookie).toBeDefined()
  })

  test('keys are strings', async () => {
    for (const write of [
      (flash: Flash) => flash.get(1 as never),
      (flash: Flash) => flash.peek(null as never),
      (flash: Flash) => flash.keep(2 as never),
      (flash: Flash) => flash.set(3 as never, 'x'),
      (flash: Flash) => flash.now({} as never, 'x'),
    ]) {
      expect((await rejected(write)).message).toMatch(/^Flash keys are strings, got /)
    }
  })

  test('types: get, peek and all take the message type; set and now refuse what can never be JSON', () => {
    const app = new Elysia().use(session({ secret: SECRET, gcInterval: 0 })).get('/', ({ flash }) => {
      expectTypeOf(flash).toEqualTypeOf<Flash>()
      expectTypeOf(flash.get<string>('notice')).toEqualTypeOf<string | undefined>()
      expectTypeOf(flash.peek('notice')).toEqualTypeOf<unknown>()
      expectTypeOf(flash.all<{ text: string }>()).toEqualTypeOf<Record<string, { text: string }>>()
      interface Notice {
        text: string
        level: 'info' | 'error'
      }
      const notice: Notice = { text: 'Saved', level: 'info' }
      flash.set('notice', notice)
      flash.now('notice', [notice, null, 1, true])
      const maybe = undefined as string | undefined
      // @ts-expect-error undefined is no JSON value
      flash.set('notice', maybe)
      // @ts-expect-error nor is a function
      flash.now('notice', () => 1)
      // @ts-expect-error nor a bigint
      flash.set('notice', 1n)
      return 'ok'
    })
    openApps.push(app)
    expect(app).toBeDefined()
  })
})
