import { describe, expect, test } from 'bun:test'
import { type CookieAction, cookieActionFor } from '../../src/cookie-decision.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { type IncomingCookie, type SessionReport, SessionState } from '../../src/session-state.js'

const quiet: SessionReport = { status: 'unmodified', idChanged: false, expiryMoved: false, incomingCookie: 'none' }

/** One row of the mapping: a report (over a quiet one) and the action it must give. */
const rows: [string, Partial<SessionReport>, CookieAction][] = [
  ['nothing happened and no cookie came in', {}, 'none'],
  ['nothing happened to a session named by a current cookie', { incomingCookie: 'current' }, 'none'],
  ['a session named by a cookie signed with an older secret', { incomingCookie: 'old-secret' }, 'send'],
  ['a cookie that names no live session', { incomingCookie: 'names-no-session' }, 'clear'],
  ['a save that moved neither id nor expiry', { status: 'modified', incomingCookie: 'current' }, 'none'],
  [
    'a save that moved neither id nor expiry, under an old secret',
    { status: 'modified', incomingCookie: 'old-secret' },
    'send',
  ],
  ['a save under a new id', { status: 'modified', idChanged: true, expiryMoved: true }, 'send'],
  ['a save that slid the expiry', { status: 'modified', expiryMoved: true, incomingCookie: 'current' }, 'send'],
  ['a touch', { expiryMoved: true, incomingCookie: 'current' }, 'send'],
  [
    'a new session written over a cookie that named none',
    { status: 'modified', idChanged: true, incomingCookie: 'names-no-session' },
    'send',
  ],
  ['a destroyed session', { status: 'destroyed', incomingCookie: 'current' }, 'clear'],
  ['a destroyed session that came with no cookie', { status: 'destroyed' }, 'clear'],
  ['a destroyed session under an old secret', { status: 'destroyed', incomingCookie: 'old-secret' }, 'clear'],
]

describe('cookieActionFor', () => {
  for (const [name, report, action] of rows) {
    test(`${name}: ${action}`, () => {
      expect(cookieActionFor({ ...quiet, ...report })).toBe(action)
    })
  }
})

describe('what a SessionState reports', () => {
  const TIMEOUT = 60_000
  const clock = { now: 1_000_000 }
  const runtime = { engine: memoryEngine(), timeout: TIMEOUT, touchInterval: 6_000, now: () => clock.now }

  function report(state: SessionState): SessionReport {
    const { status, idChanged, expiryMoved, incomingCookie } = state
    return { status, idChanged, expiryMoved, incomingCookie }
  }

  async function stored(incomingCookie: IncomingCookie = 'current'): Promise<SessionState> {
    const fresh = new SessionState(runtime, null, null)
    fresh.write('int:k', 1)
    await fresh.save()
    const loaded = await runtime.engine.load(fresh.id, clock.now)
    return new SessionState(runtime, fresh.id, loaded, 'request', incomingCookie)
  }

  test('a loaded session reports what the plugin knew of its cookie, and nothing else', async () => {
    expect(report(await stored('old-secret'))).toEqual({ ...quiet, incomingCookie: 'old-secret' })
    expect(report(new SessionState(runtime, null, null, 'request', 'names-no-session'))).toEqual({
      ...quiet,
      incomingCookie: 'names-no-session',
    })
  })

  test('saving a new session reports it modified under a new id with a new expiry', async () => {
    const state = new SessionState(runtime, null, null)
    state.write('int:k', 1)
    await state.save()
    expect(report(state)).toEqual({ ...quiet, status: 'modified', idChanged: true, expiryMoved: true })
  })

  test('a save that keeps id and expiry reports only modified', async () => {
    const state = await stored()
    state.write('int:k', 2)
    await state.save()
    expect(report(state)).toEqual({ ...quiet, status: 'modified', incomingCookie: 'current' })
  })

  test('a touch reports the expiry moved and the session unmodified', async () => {
    const state = await stored()
    clock.now += TIMEOUT / 2
    await state.touchIfDue()
    expect(report(state)).toEqual({ ...quiet, expiryMoved: true, incomingCookie: 'current' })
  })

  test('deleteAndStartOver reports destroyed and forgets earlier moves, and a later save reports modified', async () => {
    const state = new SessionState(runtime, null, null)
    state.write('int:k', 1)
    await state.save()
    await state.deleteAndStartOver()
    expect(report(state)).toEqual({ ...quiet, status: 'destroyed' })
    state.write('int:k', 2)
    await state.save()
    expect(report(state)).toEqual({ ...quiet, status: 'modified', idChanged: true, expiryMoved: true })
  })
})
