import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { session } from 'elysia-sessions'
import fc from 'fast-check'
import { signedCookieValue } from './support/cookie-format.js'
import { callsOf, cookiePairOf, idOf, recordingEngine, SECRET, send } from './support/http.js'
import { propertyRuns } from './support/property-runs.js'

/** The sessions an attacker wants to step into, each showing its owner's name to whoever holds it. */
const VICTIMS = ['alice-the-victim', 'bob-the-victim'] as const
/** Engine methods that name a session id in their first argument. */
const ID_METHODS = ['load', 'commit', 'touch', 'delete']
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const engine = recordingEngine()
const app = new Elysia()
  .use(session({ secret: SECRET, engine, gcInterval: 0 }))
  .post('/login/:name', ({ session, params }) => {
    session.string('user', params.name)
    return 'ok'
  })
  .get('/whoami', ({ session }) => session.stringOrNull('user') ?? 'nobody')
  .post('/note', ({ session }) => {
    session.string('note', 'written by whoever sent this cookie')
    return session.stringOrNull('user') ?? 'nobody'
  })

/** Each victim's session id and signed cookie value, made by logging in through the app. */
const victims: { id: string; value: string; name: string }[] = []

beforeAll(async () => {
  for (const name of VICTIMS) {
    const pair = cookiePairOf(await send(app, `/login/${name}`, { method: 'POST' }))
    victims.push({ id: idOf(pair), value: (pair as string).slice('sessid='.length), name })
  }
})
afterAll(() => app.decorator.sessions.close())

/**
 * The ids a Cookie header validly carries: the ids of its `sessid` cookies whose value is exactly the id signed with
 * the app's secret. Computed from the cookie format, not by the library; lenient about whitespace and quotes, so it
 * only ever allows more than the library should.
 */
function validlySignedIds(header: string): Set<string> {
  const ids = new Set<string>()
  for (const part of header.split(';')) {
    const equals = part.indexOf('=')
    if (equals < 0 || part.slice(0, equals).trim() !== 'sessid') continue
    let value = part.slice(equals + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    const id = value.slice(0, value.indexOf('.'))
    if (value.includes('.') && signedCookieValue(id, SECRET) === value) ids.add(id)
  }
  return ids
}

/**
 * Sends `header` to one route and checks the properties: no 5xx, no victim's data shown and no engine call on a
 * victim's id unless the header carries that victim's valid signed cookie, and no load at all without one.
 */
async function checkRequest(header: string, write: boolean): Promise<void> {
  engine.calls.length = 0
  const response = await app.handle(
    new Request(`http://localhost/${write ? 'note' : 'whoami'}`, {
      method: write ? 'POST' : 'GET',
      headers: { cookie: header },
    }),
  )
  expect(response.status).toBeLessThan(500)
  const body = await response.text()
  const valid = validlySignedIds(header)
  for (const victim of victims) {
    if (valid.has(victim.id)) continue
    expect(body).not.toContain(victim.name)
    for (const call of engine.calls) {
      if (ID_METHODS.includes(call.method)) expect(call.args[0]).not.toBe(victim.id)
    }
  }
  for (const call of callsOf(engine, 'load')) expect(valid.has(call.args[0] as string)).toBe(true)
}

/** A character a Cookie header may hold: tab, and every byte from space to 0xFF but DEL. */
const headerChar = fc.oneof(
  fc.constantFrom('\t', ' ', ';', '=', '.', '"', ',', '\\', '%'),
  fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)),
)
const base64urlChar = fc.constantFrom(...BASE64URL)
const victimIndex = fc.integer({ min: 0, max: VICTIMS.length - 1 })
const validValue = victimIndex.map((index) => victims[index]?.value as string)
/** A cookie value that looks like a signed id: base64url parts around a dot, of about the right lengths. */
const lookalikeValue = fc
  .tuple(fc.string({ unit: base64urlChar, maxLength: 34 }), fc.string({ unit: base64urlChar, maxLength: 45 }))
  .map(([id, signature]) => `${id}.${signature}`)

/** One edit of a victim's valid cookie value. */
const mutatedValue = fc
  .tuple(victimIndex, fc.nat(), fc.oneof(base64urlChar, headerChar), fc.nat({ max: 12 }))
  .chain(([index, position, char, kind]) => {
    const victim = victims[index] as (typeof victims)[number]
    const other = victims[(index + 1) % victims.length] as (typeof victims)[number]
    const { value } = victim
    const at = position % (value.length + 1)
    const [id, signature] = value.split('.') as [string, string]
    const edits: string[] = [
      `${value.slice(0, at)}${char}${value.slice(at + 1)}`,
      `${value.slice(0, at)}${char}${value.slice(at)}`,
      `${value.slice(0, at)}${value.slice(at + 1)}`,
      value.slice(0, at),
      `${signature}.${id}`,
      `${id}.${other.value.split('.')[1]}`,
      `${other.value.split('.')[0]}.${signature}`,
      `${value.slice(0, at)}${(value[at] ?? '').toUpperCase() === value[at] ? (value[at] ?? '').toLowerCase() : (value[at] ?? '').toUpperCase()}${value.slice(at + 1)}`,
      `${value}=`,
      `${id}=.${signature}`,
      `${id}.${signature}.${signature}`,
      `${id}..${signature}`,
      value.replace('.', char),
    ]
    return fc.constant(edits[kind % edits.length] as string)
  })

/** A victim's id signed with a secret other than the app's. */
const wronglySignedValue = fc
  .tuple(
    victimIndex,
    fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom(SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase(), ` ${SECRET}`, SECRET.slice(1)),
    ),
  )
  .filter(([, secret]) => secret !== SECRET)
  .map(([index, secret]) => signedCookieValue(victims[index]?.id as string, secret))

/** A Cookie header of `sessid` and other cookies, joined as browsers and hand-written clients join them. */
function headerOf(values: fc.Arbitrary<string>, maxCookies = 4): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constant('sessid') },
    { weight: 1, arbitrary: fc.constantFrom('SESSID', 'sessid ', ' sessid', 'xsessid', 'sessid2', 'sess', 'id') },
    { weight: 1, arbitrary: fc.string({ unit: headerChar, maxLength: 10 }) },
  )
  const quoted = fc.tuple(values, fc.boolean()).map(([value, quote]) => (quote ? `"${value}"` : value))
  const pair = fc.tuple(name, quoted).map(([cookie, value]) => `${cookie}=${value}`)
  return fc
    .tuple(fc.array(pair, { minLength: 1, maxLength: maxCookies }), fc.constantFrom('; ', ';', ' ; ', ';;'))
    .map(([pairs, separator]) => pairs.join(separator))
}

const anyValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 120 }),
  lookalikeValue,
  mutatedValue,
  wronglySignedValue,
)

describe('no cookie makes the app fail, show a victim session or read the engine without a valid signature', () => {
  test('arbitrary Cookie headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: headerChar, maxLength: 300 }), headerOf(anyValue)),
        fc.boolean(),
        checkRequest,
      ),
      propertyRuns(4_000),
    )
  })

  test('mutations of valid signed cookies: characters flipped, inserted or deleted, truncated, parts swapped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedValue.map((value) => `sessid=${value}`),
          headerOf(mutatedValue),
        ),
        fc.boolean(),
        checkRequest,
      ),
      propertyRuns(4_000),
    )
  })

  test('cookies signed with a wrong secret', async () => {
    await fc.assert(
      fc.asyncProperty(wronglySignedValue, fc.boolean(), (value, write) => checkRequest(`sessid=${value}`, write)),
      propertyRuns(1_000),
    )
  })

  test('several cookies of the same name, valid ones among forged ones', async () => {
    const sessidPair = fc.oneof(validValue, anyValue).map((value) => `sessid=${value}`)
    await fc.assert(
      fc.asyncProperty(fc.array(sessidPair, { minLength: 2, maxLength: 5 }), fc.boolean(), async (pairs, write) => {
        await checkRequest(pairs.join('; '), write)
        // The first sessid cookie decides, as in browsers' order (most specific path first): a forged one first
        // means a fresh session even when a valid one follows.
        if (validlySignedIds(pairs[0] as string).size === 0) {
          const response = await send(app, '/whoami', { headers: { cookie: pairs.join('; ') } })
          expect(await response.text()).toBe('nobody')
        }
      }),
      propertyRuns(1_000),
    )
  })

  test('huge cookie values and headers', async () => {
    const huge = fc.oneof(
      fc.string({ unit: base64urlChar, minLength: 4_000, maxLength: 100_000 }),
      fc.tuple(validValue, fc.integer({ min: 2, max: 2_000 })).map(([value, times]) => value.repeat(times)),
      fc
        .tuple(validValue, fc.string({ unit: base64urlChar, minLength: 4_000, maxLength: 50_000 }))
        .map(([value, tail]) => `${value}${tail}`),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          huge.map((value) => `sessid=${value}`),
          headerOf(huge, 2),
        ),
        fc.boolean(),
        checkRequest,
      ),
      propertyRuns(200),
    )
  })

  test('the oracle itself: the victims log in with their cookies, and each sees only their own session', async () => {
    for (const victim of victims) {
      expect(validlySignedIds(`sessid=${victim.value}`)).toEqual(new Set([victim.id]))
      const response = await send(app, '/whoami', { cookie: `sessid=${victim.value}` })
      expect(await response.text()).toBe(victim.name)
    }
  })
})
