import { describe, expect, test } from 'bun:test'
import { memoryEngine } from '../../src/engines/memory.js'
import { type SessionRuntime, SessionState } from '../../src/session-state.js'

const HOUR = 3_600_000

function runtime(): SessionRuntime {
  return { engine: memoryEngine(), timeout: HOUR, touchInterval: HOUR, now: Date.now }
}

/** A request session over `data` as stored under a fixed id. */
async function loaded(data: Record<string, string>) {
  const shared = runtime()
  const now = Date.now()
  await shared.engine.commit('id-1', { set: data, deleted: [], expiresAt: now + HOUR }, now)
  return new SessionState(shared, 'id-1', await shared.engine.load('id-1', now))
}

describe('SessionState.keysWithPrefix', () => {
  test('finds matching keys in the loaded data only', async () => {
    const state = await loaded({ 'flash:a': '1', 'string:flash:b': '2', 'flash:c': '3' })
    expect([...state.keysWithPrefix('flash:')].sort()).toEqual(['flash:a', 'flash:c'])
  })

  test('sees saved and pending changes, lists each key once, and hides removed keys', async () => {
    const state = await loaded({ 'flash:a': '1', 'flash:b': '2', 'flash:c': '3' })
    state.write('flash:a', 'saved over')
    state.write('flash:d', 'saved new')
    state.remove('flash:b')
    await state.save()
    state.write('flash:a', 'pending over')
    state.write('flash:e', 'pending new')
    state.remove('flash:c')
    state.remove('flash:d')
    expect([...state.keysWithPrefix('flash:')].sort()).toEqual(['flash:a', 'flash:e'])
    expect(state.keysWithPrefix('flash:e')).toEqual(['flash:e'])
  })

  test('a key removed, then written again, is listed', async () => {
    const state = await loaded({ 'flash:a': '1' })
    state.remove('flash:a')
    expect(state.keysWithPrefix('flash:')).toEqual([])
    state.write('flash:a', 'back')
    expect(state.keysWithPrefix('flash:')).toEqual(['flash:a'])
  })

  test('finding nothing returns one shared, frozen empty array', async () => {
    const state = await loaded({ 'string:a': '1' })
    const none = state.keysWithPrefix('flash:')
    expect(none).toEqual([])
    expect(Object.isFrozen(none)).toBe(true)
    expect(new SessionState(runtime(), null, null).keysWithPrefix('flash:')).toBe(none)
  })

  test('startedOver counts destroys and resets', async () => {
    const state = await loaded({ 'flash:a': '1' })
    expect(state.startedOver).toBe(0)
    await state.deleteAndStartOver()
    expect(state.startedOver).toBe(1)
    expect(state.keysWithPrefix('flash:')).toEqual([])
    await state.regenerate()
    expect(state.startedOver).toBe(1)
  })
})
