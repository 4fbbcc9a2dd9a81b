import { describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { type SessionData, type SessionEngine, SessionSizeError, session } from 'elysia-sessions'
import { FEATURE_ENGINES } from './support/engines.js'
import {
  callsOf,
  closingAfterEach,
  cookiePairOf,
  type Handler,
  idOf,
  recordingEngine,
  SECRET,
  send,
  setCookieOf,
} from './support/http.js'

const opened = closingAfterEach()

/** The limit most tests run under: small enough that a test fills it with one value. */
const LIMIT = 1_000

/** The storage keys of what the routes below write; public tests see only the package, so they are repeated here. */
const STRING_KEY = 'string:note'
const DATA_KEY = 'data:note'
const OWNER_KEY = 'meta:owner'

/** How the routes below write: one kind of write per name. */
type WriteKind = 'string' | 'set' | 'flash' | 'owner'

/** What a write route answers: the write went through, or the SessionSizeError it threw, as data. */
type WriteResult =
  | { readonly ok: true }
  | { readonly refused: { name: string; limit: number; size: number; message: string; isSizeError: boolean } }

/** An app with routes that write, under `maxSize` (LIMIT unless given; `{}` for the default). */
function sizeApp(engine: SessionEngine, { maxSize }: { maxSize?: number } = { maxSize: LIMIT }) {
  return opened(
    new Elysia()
      .use(session({ secret: SECRET, engine, gcInterval: 0, maxSize, schema: { note: t.String() } }))
      .post(
        '/write/:kind',
        ({ session, flash, params, body }): WriteResult => {
          try {
            const kind = params.kind as WriteKind
            if (kind === 'string') session.string('note', body.value)
            else if (kind === 'set') session.set('note', body.value)
            else if (kind === 'flash') flash.set('note', body.value)
            else session.owner(body.value)
            return { ok: true }
          } catch (error) {
            if (!(error instanceof Error)) throw error
            const { name, message } = error
            const { limit, size } = error as SessionSizeError
            return { refused: { name, limit, size, message, isSizeError: error instanceof SessionSizeError } }
          }
        },
        { body: t.Object({ value: t.String() }) },
      )
      // Two writes, the second refused and not caught: the request fails, and the first write is still saved.
      .post(
        '/two-writes',
        ({ session, body }) => {
          session.int('count', 1)
          session.string('note', body.value)
          return 'unreachable'
        },
        { body: t.Object({ value: t.String() }) },
      )
      .get('/show', ({ session, flash }) => ({
        string: session.stringOrNull('note'),
        set: session.get('note') ?? null,
        owner: session.owner(),
        flash: flash.peek('note') ?? null,
        count: session.intOrNull('count'),
      }))
      .post('/delete/string', ({ session }) => {
        session.deleteString('note')
        return 'deleted'
      }),
  )
}

/** The data the engine stores for the session of `cookie`. */
async function storedOf(engine: SessionEngine, cookie: string | undefined): Promise<SessionData> {
  const stored = await engine.load(idOf(cookie), Date.now())
  if (!stored) throw new Error('no session is stored for this cookie')
  return stored.data
}

/** What `maxSize` counts: the UTF-8 bytes of the JSON of all of a session's data. */
function bytesOf(data: SessionData): number {
  return Buffer.byteLength(JSON.stringify(data), 'utf8')
}

async function write(app: Handler, kind: WriteKind, value: string, cookie?: string): Promise<WriteResult> {
  const response = await send(app, `/write/${kind}`, { method: 'POST', cookie, json: { value } })
  expect(response.status).toBe(200)
  return (await response.json()) as WriteResult
}

/** Stores a first value with `kind` and returns the session's cookie. */
async function started(app: Handler, kind: WriteKind): Promise<string> {
  const response = await send(app, `/write/${kind}`, { method: 'POST', json: { value: 'first' } })
  expect(await response.json()).toEqual({ ok: true })
  const cookie = cookiePairOf(response)
  if (!cookie) throw new Error('no cookie was set')
  return cookie
}

/**
 * The storage key of each kind of write; for a flash message, one of the same length as the key it gets (`flash:`, a
 * stamp of 17 characters, `:note`), which is enough to count its size.
 */
const STORAGE_KEYS: Record<WriteKind, string> = {
  string: STRING_KEY,
  set: DATA_KEY,
  flash: `flash:${'0'.repeat(17)}:note`,
  owner: OWNER_KEY,
}

/** The storage key a write of `kind` stored its value under, in `data`. */
function storageKeyIn(data: SessionData, kind: WriteKind): string {
  if (kind !== 'flash') return STORAGE_KEYS[kind]
  const key = Object.keys(data).find((each) => each.startsWith('flash:') && each.endsWith(':note'))
  if (key === undefined) throw new Error('no flash message is stored')
  return key
}

/** What `/show` answers. */
interface Shown {
  readonly string: string | null
  readonly set: string | null
  readonly owner: string | null
  readonly flash: unknown
  readonly count: number | null
}

async function shown(app: Handler, cookie: string): Promise<Shown> {
  return (await (await send(app, '/show', { cookie })).json()) as Shown
}

describe.each(FEATURE_ENGINES)('maxSize on the %s engine', (_name, makeEngine) => {
  for (const kind of ['string', 'set', 'flash'] as const) {
    test(`a ${kind} write one byte over the limit throws a SessionSizeError and changes nothing; up to it is stored`, async () => {
      const engine = await makeEngine()
      const app = sizeApp(engine)
      // A flash message set in an earlier request would still count in this one (it is removed at its end).
      const cookie = await started(app, kind === 'flash' ? 'string' : kind)
      const before = await storedOf(engine, cookie)
      const sizeWith = (value: string) => bytesOf({ ...before, [STORAGE_KEYS[kind]]: value })
      const fitting = 'x'.repeat(LIMIT - sizeWith(''))
      expect(sizeWith(fitting)).toBe(LIMIT)

      expect(await write(app, kind, `${fitting}y`, cookie)).toEqual({
        refused: {
          name: 'SessionSizeError',
          isSizeError: true,
          limit: LIMIT,
          size: LIMIT + 1,
          message: expect.stringContaining(`maxSize limit of ${LIMIT} bytes`),
        },
      })
      expect(await storedOf(engine, cookie)).toEqual(before)

      expect(await write(app, kind, fitting, cookie)).toEqual({ ok: true })
      const full = await storedOf(engine, cookie)
      expect(bytesOf(full)).toBe(LIMIT)
      expect(full[storageKeyIn(full, kind)]).toBe(fitting)
    })
  }

  test('an owner write one byte over the limit throws a SessionSizeError and changes nothing', async () => {
    const engine = await makeEngine()
    const app = sizeApp(engine)
    const cookie = await started(app, 'string')
    const before = await storedOf(engine, cookie)
    const owner = 'user-42'
    // A string that leaves room for exactly this owner.
    const fill = `first${'x'.repeat(LIMIT - bytesOf({ ...before, [OWNER_KEY]: owner }))}`
    expect(await write(app, 'string', fill, cookie)).toEqual({ ok: true })
    const full = await storedOf(engine, cookie)

    expect(await write(app, 'owner', `${owner}!`, cookie)).toMatchObject({
      refused: { name: 'SessionSizeError', isSizeError: true, limit: LIMIT, size: LIMIT + 1 },
    })
    expect(await storedOf(engine, cookie)).toEqual(full)
    expect((await shown(app, cookie)).owner).toBeNull()

    expect(await write(app, 'owner', owner, cookie)).toEqual({ ok: true })
    expect(bytesOf(await storedOf(engine, cookie))).toBe(LIMIT)
    // Another owner of the same length leaves the size as it is.
    expect(await write(app, 'owner', 'user-43', cookie)).toEqual({ ok: true })
    expect((await shown(app, cookie)).owner).toBe('user-43')
  })

  test('the message names the limit and the maxSize option, never the value', async () => {
    const app = sizeApp(await makeEngine())
    const secret = `secret-${'s'.repeat(LIMIT)}`
    const result = await write(app, 'string', secret)
    if (!('refused' in result)) throw new Error('the write was not refused')
    expect(result.refused.message).toContain(`${LIMIT}`)
    expect(result.refused.message).toContain('session({ maxSize })')
    expect(result.refused.message).not.toContain('secret-')
    expect(result.refused.message).not.toContain('sss')
  })

  test('a refused write to a new session stores nothing and sets no cookie', async () => {
    const engine = recordingEngine(await makeEngine())
    const app = sizeApp(engine)
    const response = await send(app, '/write/flash', { method: 'POST', json: { value: 'x'.repeat(LIMIT) } })
    expect(await response.json()).toMatchObject({ refused: { name: 'SessionSizeError' } })
    expect(setCookieOf(response)).toBeUndefined()
    expect(callsOf(engine, 'commit')).toHaveLength(0)
  })

  test('the refused value is not there on the next request, the earlier one is', async () => {
    const engine = await makeEngine()
    const app = sizeApp(engine)
    const cookie = await started(app, 'set')
    expect(await write(app, 'set', 'x'.repeat(LIMIT), cookie)).toMatchObject({ refused: { limit: LIMIT } })
    expect(await write(app, 'flash', 'x'.repeat(LIMIT), cookie)).toMatchObject({ refused: { limit: LIMIT } })
    expect(await shown(app, cookie)).toMatchObject({ set: 'first', flash: null })
  })

  test('a refused flash.set leaves the kept incoming message under its key', async () => {
    const app = opened(
      new Elysia()
        .use(session({ secret: SECRET, engine: await makeEngine(), gcInterval: 0, maxSize: LIMIT }))
        .get('/set', ({ flash }) => {
          flash.set('note', 'hello')
          return 'set'
        })
        .get('/keep-and-replace', ({ flash }) => {
          flash.keep('note')
          try {
            flash.set('note', 'x'.repeat(LIMIT))
          } catch (error) {
            return (error as Error).name
          }
          return 'replaced'
        })
        .get('/show', ({ flash }) => flash.get<string>('note') ?? '(none)'),
    )
    const cookie = cookiePairOf(await send(app, '/set'))
    expect(await (await send(app, '/keep-and-replace', { cookie })).text()).toBe('SessionSizeError')
    expect(await (await send(app, '/show', { cookie })).text()).toBe('hello')
  })

  test('a SessionSizeError the handler does not catch answers 500; writes before it are saved', async () => {
    const engine = await makeEngine()
    const app = sizeApp(engine)
    const cookie = await started(app, 'string')
    const response = await send(app, '/two-writes', { method: 'POST', cookie, json: { value: 'x'.repeat(LIMIT) } })
    expect(response.status).toBe(500)
    expect(await shown(app, cookie)).toMatchObject({ string: 'first', count: 1 })
  })

  test("the app's onError receives the SessionSizeError and can answer 413", async () => {
    const app = opened(
      new Elysia()
        .use(session({ secret: SECRET, engine: await makeEngine(), gcInterval: 0, maxSize: LIMIT }))
        .onError(({ error }) =>
          error instanceof SessionSizeError ? new Response('Too much to remember', { status: 413 }) : undefined,
        )
        .get('/', ({ session }) => {
          session.string('note', 'x'.repeat(LIMIT))
          return 'unreachable'
        }),
    )
    const response = await send(app, '/')
    expect(response.status).toBe(413)
    expect(await response.text()).toBe('Too much to remember')
  })

  test('multibyte characters count as their UTF-8 bytes (€ is 3)', async () => {
    const engine = await makeEngine()
    const app = sizeApp(engine)
    const cookie = await started(app, 'string')
    const stored = await storedOf(engine, cookie)
    const sizeWith = (value: string) => bytesOf({ ...stored, [STRING_KEY]: value })
    // The most euros that fit, then one more: that string is far shorter in characters than the limit.
    let euros = 0
    while (sizeWith('€'.repeat(euros + 1)) <= LIMIT) euros++
    expect(sizeWith('€'.repeat(euros)) - sizeWith('')).toBe(3 * euros)
    expect(await write(app, 'string', '€'.repeat(euros), cookie)).toEqual({ ok: true })
    expect(await write(app, 'string', '€'.repeat(euros + 1), cookie)).toMatchObject({
      refused: { size: sizeWith('€'.repeat(euros + 1)) },
    })
    expect(sizeWith('€'.repeat(euros + 1))).toBeGreaterThan(LIMIT)
    expect(JSON.stringify({ ...stored, [STRING_KEY]: '€'.repeat(euros + 1) }).length).toBeLessThan(LIMIT)
    expect((await shown(app, cookie)).string).toBe('€'.repeat(euros))
  })

  test('a session stored over a lowered limit still loads; writes that shrink it or keep its size succeed', async () => {
    const engine = await makeEngine()
    const roomy = sizeApp(engine, { maxSize: 0 })
    const cookie = await started(roomy, 'string')
    const big = 'b'.repeat(LIMIT * 2)
    expect(await write(roomy, 'string', big, cookie)).toEqual({ ok: true })
    expect(await write(roomy, 'set', 'kept', cookie)).toEqual({ ok: true })

    const strict = sizeApp(engine)
    expect(await shown(strict, cookie)).toMatchObject({ string: big, set: 'kept' })
    const sizeBefore = bytesOf(await storedOf(engine, cookie))
    // Growing is refused, with the size it would have had.
    expect(await write(strict, 'set', 'kept!', cookie)).toMatchObject({
      refused: { name: 'SessionSizeError', limit: LIMIT, size: sizeBefore + 1 },
    })
    // The same size goes through: still over the limit, but no larger.
    expect(await write(strict, 'set', 'KEPT', cookie)).toEqual({ ok: true })
    expect(bytesOf(await storedOf(engine, cookie))).toBe(sizeBefore)
    // Shrinking goes through, still over the limit.
    const smaller = 'b'.repeat(LIMIT * 1.5)
    expect(await write(strict, 'string', smaller, cookie)).toEqual({ ok: true })
    expect((await shown(strict, cookie)).string).toBe(smaller)
    // And so does removing the big value, after which the session is under the limit again and grows as usual.
    expect(await (await send(strict, '/delete/string', { method: 'POST', cookie })).text()).toBe('deleted')
    expect(bytesOf(await storedOf(engine, cookie))).toBeLessThan(LIMIT)
    expect(await write(strict, 'flash', 'hello', cookie)).toEqual({ ok: true })
    expect(await shown(strict, cookie)).toMatchObject({ string: null, set: 'KEPT', flash: 'hello' })
  })

  test('maxSize 0 turns the limit off', async () => {
    const engine = await makeEngine()
    const app = sizeApp(engine, { maxSize: 0 })
    const big = '€'.repeat(100_000)
    const response = await send(app, '/write/string', { method: 'POST', json: { value: big } })
    expect(await response.json()).toEqual({ ok: true })
    expect((await storedOf(engine, cookiePairOf(response)))[STRING_KEY]).toBe(big)
  })

  test('the default limit is 64 KiB', async () => {
    const engine = await makeEngine()
    const app = sizeApp(engine, {})
    const cookie = await started(app, 'string')
    const room = 65_536 - bytesOf(await storedOf(engine, cookie))
    expect(await write(app, 'string', `first${'x'.repeat(room)}`, cookie)).toEqual({ ok: true })
    expect(bytesOf(await storedOf(engine, cookie))).toBe(65_536)
    expect(await write(app, 'set', 'x', cookie)).toMatchObject({ refused: { limit: 65_536 } })
  })
})

describe('oversized cookies', () => {
  function countingApp(engine: SessionEngine) {
    return opened(
      new Elysia().use(session({ secret: SECRET, engine, gcInterval: 0 })).get('/count', ({ session }) => {
        const count = (session.intOrNull('count') ?? 0) + 1
        session.int('count', count)
        return { count }
      }),
    )
  }

  test('a 100 KB cookie gets a fresh session without any engine load', async () => {
    const engine = recordingEngine()
    const app = countingApp(engine)
    const response = await send(app, '/count', { cookie: `sessid=${'a'.repeat(100_000)}` })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ count: 1 })
    expect(callsOf(engine, 'load')).toHaveLength(0)
    expect(cookiePairOf(response)).toBeDefined()
  })

  test('a valid signed cookie padded to 100 KB names no session', async () => {
    const engine = recordingEngine()
    const app = countingApp(engine)
    const cookie = cookiePairOf(await send(app, '/count'))
    expect(await (await send(app, '/count', { cookie })).json()).toEqual({ count: 2 })
    const loads = callsOf(engine, 'load').length
    const padded = await send(app, '/count', { cookie: `${cookie}${'A'.repeat(100_000)}` })
    expect(padded.status).toBe(200)
    expect(await padded.json()).toEqual({ count: 1 })
    expect(callsOf(engine, 'load')).toHaveLength(loads)
  })
})
