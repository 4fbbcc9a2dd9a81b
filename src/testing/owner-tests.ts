import { describe, expect, test } from 'bun:test'
import type { SessionData, SessionEngine, SessionEntry } from '../engine.js'
import { OWNER_KEY } from '../internal-keys.js'
import { type ConformanceHarness, EXPIRY_WAIT, LONG_LIFETIME, newId, SHORT_LIFETIME } from './harness.js'

/** How many concurrent commits the concurrency test runs against one session. */
const CONCURRENT_COMMITS = 50

/** How one test commit treats the owner: bind it to an owner id, remove it (`null`), or leave it as stored. */
type OwnerChange = string | null | undefined

interface OwnedCommit {
  readonly owner?: OwnerChange
  readonly set?: SessionData
  readonly lifetime?: number
  readonly existingOnly?: boolean
}

/**
 * Commits to `id` as the plugin does: the owner both under its reserved key in the data (in `set`, or in `deleted`
 * when removed) and in `changes.owner`. Resolves to whether it wrote and the expiry it set.
 */
async function commitOwned(
  harness: ConformanceHarness,
  id: string,
  { owner, set = {}, lifetime = LONG_LIFETIME, existingOnly = false }: OwnedCommit,
): Promise<{ written: boolean; expiresAt: number }> {
  const now = harness.clock.now()
  const expiresAt = now + lifetime
  const data: Record<string, SessionData[string]> = { ...set }
  const deleted: string[] = []
  if (typeof owner === 'string') data[OWNER_KEY] = owner
  else if (owner === null) deleted.push(OWNER_KEY)
  const changes = { set: data, deleted, expiresAt, existingOnly, ...(owner === undefined ? {} : { owner }) }
  const written = await harness.engine.commit(id, changes, now)
  return { written, expiresAt }
}

/** The engine's `listByOwner`, which the suite only calls on engines that declare `capabilities.owners`. */
function listByOwner(engine: SessionEngine, owner: string, now: number): Promise<readonly SessionEntry[]> {
  if (typeof engine.listByOwner !== 'function') throw new Error(`${engine.name} declares owners but has no listByOwner`)
  return engine.listByOwner(owner, now)
}

function deleteByOwner(engine: SessionEngine, owner: string, except: readonly string[], now: number): Promise<number> {
  if (typeof engine.deleteByOwner !== 'function') {
    throw new Error(`${engine.name} declares owners but has no deleteByOwner`)
  }
  return engine.deleteByOwner(owner, except, now)
}

/** The sorted ids `listByOwner` yields for `owner` at the suite clock's now. */
async function idsOf(harness: ConformanceHarness, owner: string): Promise<string[]> {
  const entries = await listByOwner(harness.engine, owner, harness.clock.now())
  return entries.map((entry) => entry.id).toSorted()
}

/**
 * Registers the tests of `listByOwner` and `deleteByOwner`, for engines that declare `capabilities.owners`: the owner
 * index follows every commit, delete, deleteAll and expiry.
 */
export function registerOwnerTests(harness: ConformanceHarness): void {
  const contractTest = (name: string, run: () => Promise<void>, timeout?: number) =>
    test.serial(
      name,
      async () => {
        const { engine } = harness
        if (engine.capabilities?.owners !== true) {
          throw new Error(`The ${engine.name} engine does not declare capabilities.owners`)
        }
        await run()
      },
      timeout,
    )

  describe('listByOwner', () => {
    contractTest('listByOwner yields the sessions a commit gave the owner, with their data and expiry', async () => {
      const owned = new Map<string, { data: SessionData; expiresAt: number }>()
      for (let index = 0; index < 3; index++) {
        const id = newId()
        const set = { 'int:device': index, 'string:agent': `browser ${index}` }
        const { expiresAt } = await commitOwned(harness, id, { owner: 'alice', set })
        owned.set(id, { data: { ...set, [OWNER_KEY]: 'alice' }, expiresAt })
      }
      await commitOwned(harness, newId(), { owner: 'bob', set: { 'int:device': 9 } })
      await commitOwned(harness, newId(), { set: { 'int:device': 10 } })
      const listed = await listByOwner(harness.engine, 'alice', harness.clock.now())
      expect(listed.map((entry) => entry.id).toSorted()).toEqual([...owned.keys()].toSorted())
      for (const { id, data, expiresAt } of listed)
        expect({ data, expiresAt }).toEqual(owned.get(id) ?? { data, expiresAt: -1 })
    })

    contractTest('listByOwner yields nothing for an unknown owner', async () => {
      await commitOwned(harness, newId(), { owner: 'alice' })
      expect(await idsOf(harness, 'nobody')).toEqual([])
      expect(await idsOf(harness, 'alic')).toEqual([])
    })

    contractTest('owners that differ only in characters UTF-8 cannot carry as they are stay apart', async () => {
      // A lone surrogate, its look-alikes, U+0000 and a control character: any string of up to 256 code units is an owner.
      const owners = ['a\uD800b', 'a\uDC00b', 'a\uFFFDb', 'a\u0000b', 'a\u0001b', '\u0001ab', 'a']
      const ids = new Map(owners.map((owner) => [owner, newId()]))
      for (const [owner, id] of ids) await commitOwned(harness, id, { owner })
      for (const [owner, id] of ids) expect(await idsOf(harness, owner)).toEqual([id])
      const now = harness.clock.now()
      expect(await deleteByOwner(harness.engine, 'a\uD800b', [], now)).toBe(1)
      for (const [owner, id] of ids) expect(await idsOf(harness, owner)).toEqual(owner === 'a\uD800b' ? [] : [id])
    })

    contractTest('a commit that leaves the owner unchanged keeps the session listed, with its new data', async () => {
      const id = newId()
      await commitOwned(harness, id, { owner: 'alice', set: { 'int:count': 1 } })
      const { expiresAt } = await commitOwned(harness, id, { set: { 'int:count': 2 }, existingOnly: true })
      const listed = await listByOwner(harness.engine, 'alice', harness.clock.now())
      expect(listed).toEqual([{ id, data: { 'int:count': 2, [OWNER_KEY]: 'alice' }, expiresAt }])
    })

    contractTest('a commit that changes the owner moves the session to the new owner', async () => {
      const id = newId()
      const other = newId()
      await commitOwned(harness, id, { owner: 'alice', set: { 'string:kept': 'yes' } })
      await commitOwned(harness, other, { owner: 'alice' })
      await commitOwned(harness, id, { owner: 'bob', existingOnly: true })
      expect(await idsOf(harness, 'alice')).toEqual([other])
      const listed = await listByOwner(harness.engine, 'bob', harness.clock.now())
      expect(listed.map(({ id, data }) => ({ id, data }))).toEqual([
        { id, data: { 'string:kept': 'yes', [OWNER_KEY]: 'bob' } },
      ])
    })

    contractTest('a commit with owner null removes the session from its owner, and keeps the session', async () => {
      const id = newId()
      await commitOwned(harness, id, { owner: 'alice', set: { 'string:kept': 'yes' } })
      await commitOwned(harness, id, { owner: null, existingOnly: true })
      expect(await idsOf(harness, 'alice')).toEqual([])
      expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'string:kept': 'yes' })
    })

    contractTest(
      'listByOwner never yields a deleted session, even when its id is committed again without an owner',
      async () => {
        const deleted = newId()
        const kept = newId()
        await commitOwned(harness, deleted, { owner: 'alice' })
        await commitOwned(harness, kept, { owner: 'alice' })
        await harness.engine.delete(deleted)
        expect(await idsOf(harness, 'alice')).toEqual([kept])
        await commitOwned(harness, deleted, { set: { 'string:someone': 'else' } })
        expect(await idsOf(harness, 'alice')).toEqual([kept])
      },
    )

    contractTest('listByOwner yields nothing after deleteAll', async () => {
      await commitOwned(harness, newId(), { owner: 'alice' })
      await commitOwned(harness, newId(), { owner: 'bob' })
      await harness.engine.deleteAll()
      expect(await idsOf(harness, 'alice')).toEqual([])
      expect(await idsOf(harness, 'bob')).toEqual([])
    })

    contractTest(
      'listByOwner never yields an expired session, before or after it has been swept',
      async () => {
        const live = newId()
        await commitOwned(harness, live, { owner: 'alice' })
        await commitOwned(harness, newId(), { owner: 'alice', lifetime: SHORT_LIFETIME })
        await harness.clock.advance(EXPIRY_WAIT)
        expect(await idsOf(harness, 'alice')).toEqual([live])
        await harness.engine.deleteExpired(harness.clock.now())
        expect(await idsOf(harness, 'alice')).toEqual([live])
      },
      harness.slowTimeout,
    )

    contractTest(
      'a commit that creates a session that expired at now from empty data leaves it without an owner',
      async () => {
        const id = newId()
        await commitOwned(harness, id, { owner: 'alice', lifetime: SHORT_LIFETIME })
        await harness.clock.advance(EXPIRY_WAIT)
        await commitOwned(harness, id, { set: { 'int:fresh': 1 } })
        expect(await idsOf(harness, 'alice')).toEqual([])
        expect((await harness.engine.load(id, harness.clock.now()))?.data).toEqual({ 'int:fresh': 1 })
      },
      harness.slowTimeout,
    )

    contractTest(
      'two concurrent commits to one session that set the owner and other keys keep both',
      async () => {
        const id = newId()
        await commitOwned(harness, id, { set: { 'string:before': 'kept' } })
        const results = await Promise.all(
          Array.from({ length: CONCURRENT_COMMITS }, (_, index) =>
            commitOwned(harness, id, {
              owner: index === CONCURRENT_COMMITS / 2 ? 'alice' : undefined,
              set: { [`int:key${index}`]: index },
              existingOnly: true,
            }),
          ),
        )
        expect(results.every(({ written }) => written)).toBe(true)
        const listed = await listByOwner(harness.engine, 'alice', harness.clock.now())
        expect(listed.map((entry) => entry.id)).toEqual([id])
        const data = listed[0]?.data ?? {}
        expect(Object.keys(data).length).toBe(CONCURRENT_COMMITS + 2)
        expect(data['string:before']).toBe('kept')
        expect(data[OWNER_KEY]).toBe('alice')
      },
      harness.slowTimeout,
    )
  })

  describe('deleteByOwner', () => {
    contractTest(
      "deleteByOwner deletes the owner's live sessions, keeps every other session and resolves to how many it deleted",
      async () => {
        const alices = [newId(), newId(), newId()]
        for (const id of alices) await commitOwned(harness, id, { owner: 'alice' })
        const bobs = newId()
        const nobodys = newId()
        await commitOwned(harness, bobs, { owner: 'bob' })
        await commitOwned(harness, nobodys, {})
        expect(await deleteByOwner(harness.engine, 'alice', [], harness.clock.now())).toBe(3)
        for (const id of alices) expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
        expect(await idsOf(harness, 'alice')).toEqual([])
        expect(await idsOf(harness, 'bob')).toEqual([bobs])
        expect(await harness.engine.load(nobodys, harness.clock.now())).not.toBeNull()
        expect(await harness.engine.count(harness.clock.now())).toBe(2)
      },
    )

    contractTest('deleteByOwner keeps the sessions whose id is in except', async () => {
      const [here, there, elsewhere, gone] = [newId(), newId(), newId(), newId()]
      for (const id of [here, there, elsewhere, gone]) await commitOwned(harness, id, { owner: 'alice' })
      expect(await deleteByOwner(harness.engine, 'alice', [here, there, newId()], harness.clock.now())).toBe(2)
      expect(await idsOf(harness, 'alice')).toEqual([here, there].toSorted())
      expect(await harness.engine.load(elsewhere, harness.clock.now())).toBeNull()
      expect(await deleteByOwner(harness.engine, 'alice', [here], harness.clock.now())).toBe(1)
      expect(await idsOf(harness, 'alice')).toEqual([here])
    })

    contractTest('deleteByOwner resolves to 0 for an unknown owner and deletes nothing', async () => {
      await commitOwned(harness, newId(), { owner: 'alice' })
      expect(await deleteByOwner(harness.engine, 'nobody', [], harness.clock.now())).toBe(0)
      expect(await harness.engine.count(harness.clock.now())).toBe(1)
    })

    contractTest('deleteByOwner never counts a session that was already deleted', async () => {
      const deleted = newId()
      await commitOwned(harness, deleted, { owner: 'alice' })
      await commitOwned(harness, newId(), { owner: 'alice' })
      await harness.engine.delete(deleted)
      expect(await deleteByOwner(harness.engine, 'alice', [], harness.clock.now())).toBe(1)
      expect(await deleteByOwner(harness.engine, 'alice', [], harness.clock.now())).toBe(0)
    })

    contractTest(
      'deleteByOwner never counts an expired session',
      async () => {
        await commitOwned(harness, newId(), { owner: 'alice' })
        await commitOwned(harness, newId(), { owner: 'alice', lifetime: SHORT_LIFETIME })
        await harness.clock.advance(EXPIRY_WAIT)
        expect(await deleteByOwner(harness.engine, 'alice', [], harness.clock.now())).toBe(1)
        expect(await idsOf(harness, 'alice')).toEqual([])
      },
      harness.slowTimeout,
    )

    contractTest('a commit with existingOnly to a session deleteByOwner deleted writes nothing', async () => {
      const id = newId()
      await commitOwned(harness, id, { owner: 'alice', set: { 'int:count': 1 } })
      expect(await deleteByOwner(harness.engine, 'alice', [], harness.clock.now())).toBe(1)
      const { written } = await commitOwned(harness, id, { set: { 'int:count': 2 }, existingOnly: true })
      expect(written).toBe(false)
      expect(await harness.engine.load(id, harness.clock.now())).toBeNull()
      expect(await idsOf(harness, 'alice')).toEqual([])
    })
  })
}
