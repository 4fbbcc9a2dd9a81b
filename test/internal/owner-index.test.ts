import { afterAll, describe, expect, spyOn, test } from 'bun:test'
import type { SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { OwnerIndex } from '../../src/engines/owner-index.js'
import { OWNER_KEY } from '../../src/internal-keys.js'

describe('OwnerIndex', () => {
  test('bind moves a session between owners, null and unbind remove it, clear empties the index', () => {
    const index = new OwnerIndex(2)
    index.bind('a', 'alice')
    index.bind('b', 'alice')
    index.bind('a', 'bob')
    expect([...index.idsOf('alice')]).toEqual(['b'])
    expect([...index.idsOf('bob')]).toEqual(['a'])
    index.bind('b', null)
    index.unbind('a')
    index.unbind('unknown')
    expect(index.idsOf('alice').size + index.idsOf('bob').size + index.size).toBe(0)
    index.bind('c', 'carol')
    index.clear()
    expect(index.idsOf('carol').size + index.size).toBe(0)
  })
})

// The memory engine never lists a session it no longer holds, so a stale index entry would only leak memory: these
// tests look at the index itself.
describe('the memory engine owner index', () => {
  interface Handle {
    readonly engine: SessionEngine
    index: OwnerIndex | undefined
  }
  const originalBind = OwnerIndex.prototype.bind
  // The index is private to the engine: a spy on bind finds it as the engine binds its first owner.
  let committing: Handle | undefined
  const spy = spyOn(OwnerIndex.prototype, 'bind').mockImplementation(function (this: OwnerIndex, id, owner) {
    if (committing) committing.index = this
    originalBind.call(this, id, owner)
  })
  afterAll(() => spy.mockRestore())

  const now = Date.now()
  const engineAndIndex = (maxSessions?: number): Handle => ({
    engine: memoryEngine(maxSessions === undefined ? {} : { maxSessions }),
    index: undefined,
  })
  const indexOf = (handle: Handle): OwnerIndex => {
    if (!handle.index) throw new Error('nothing was bound yet')
    return handle.index
  }
  const commitOwned = async (handle: Handle, id: string, owner: string, lifetime = 60_000) => {
    committing = handle
    const changes = { set: { [OWNER_KEY]: owner }, deleted: [], expiresAt: now + lifetime, owner }
    await handle.engine.commit(id, changes, now)
    committing = undefined
  }

  test('delete, deleteByOwner and deleteAll leave nothing in the index', async () => {
    const handle = engineAndIndex()
    for (const id of ['a', 'b', 'c']) await commitOwned(handle, id, 'alice')
    await commitOwned(handle, 'd', 'bob')
    await handle.engine.delete('a')
    expect([...indexOf(handle).idsOf('alice')].toSorted()).toEqual(['b', 'c'])
    expect(await handle.engine.deleteByOwner?.('alice', [], now)).toBe(2)
    expect(indexOf(handle).size).toBe(1)
    await handle.engine.deleteAll()
    expect(indexOf(handle).size).toBe(0)
  })

  test('GC and maxSessions eviction leave nothing in the index', async () => {
    const swept = engineAndIndex()
    await commitOwned(swept, 'short', 'alice', 1_000)
    await commitOwned(swept, 'long', 'alice')
    expect(await swept.engine.deleteExpired(now + 2_000)).toBe(1)
    expect([...indexOf(swept).idsOf('alice')]).toEqual(['long'])
    const bounded = engineAndIndex(2)
    for (const id of ['a', 'b', 'c']) await commitOwned(bounded, id, 'alice')
    expect([...indexOf(bounded).idsOf('alice')].toSorted()).toEqual(['b', 'c'])
    expect(indexOf(bounded).size).toBe(2)
  })
})
