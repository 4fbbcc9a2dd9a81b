import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SessionChanges, SessionEngine } from 'elysia-sessions'
import { fileEngine } from 'elysia-sessions/engines/file'
import { randomSessionId } from './support/cookie-format.js'
import { fillOwnedStore, listingCostRatio } from './support/owner-scale.js'

const HOUR = 3_600_000
/** The data key the plugin keeps the owner under, mirrored in each commit's `owner`. */
const OWNER_KEY = 'meta:owner'
/** The folder of the owner index inside the session folder: part of the engine's storage layout. */
const INDEX = '.owners'

/** The folder of `owner` in the index: the SHA-256 of its JSON text in base64url (the engine's storage layout). */
const folderOf = (owner: string) => createHash('sha256').update(Buffer.from(owner, 'utf16le')).digest('base64url')

const tempDirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'file-owners-'))
  tempDirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

const engines: SessionEngine[] = []
afterEach(() => Promise.all(engines.splice(0).map((engine) => engine.close())))
function openEngine(dir: string): SessionEngine {
  const engine = fileEngine({ dir, fsync: false })
  engines.push(engine)
  return engine
}

/** What a test commits: the owner as the plugin sends it (set, removed with null, or left alone when absent). */
interface TestCommit {
  readonly owner?: string | null
  readonly lifetime?: number
  readonly existingOnly?: boolean
  readonly now?: number
}

/** Commits to `id` as the plugin would, with the owner both in the data and in `owner`; resolves to whether it wrote. */
function commit(
  engine: SessionEngine,
  id: string,
  { owner, lifetime = HOUR, existingOnly, now = Date.now() }: TestCommit,
) {
  const set: Record<string, string> = owner ? { [OWNER_KEY]: owner } : {}
  const deleted = owner === null ? [OWNER_KEY] : []
  const changes: SessionChanges = { set, deleted, expiresAt: now + lifetime, existingOnly, owner }
  return engine.commit(id, changes, now)
}

/** The ids listed for `owner` at `now`, sorted. */
async function idsOf(engine: SessionEngine, owner: string, now = Date.now()): Promise<string[]> {
  const listed = (await engine.listByOwner?.(owner, now)) ?? []
  return listed.map((entry) => entry.id).toSorted()
}

/** The ids in `owner`'s index folder, sorted; none when it has no folder. */
function entriesOf(dir: string, owner: string): string[] {
  const folder = join(dir, INDEX, folderOf(owner))
  return existsSync(folder) ? readdirSync(folder).toSorted() : []
}

describe('fileEngine owner index', () => {
  test('each owner has a folder with one entry per session, moved, dropped and removed with the session', async () => {
    const dir = tempDir()
    const engine = openEngine(dir)
    const [first, second] = [randomSessionId(), randomSessionId()]
    await commit(engine, first, { owner: 'alice' })
    await commit(engine, second, { owner: 'alice' })
    expect(entriesOf(dir, 'alice')).toEqual([first, second].toSorted())
    expect(JSON.parse(readFileSync(join(dir, `${first}.session.json`), 'utf8')).owner).toBe('alice')

    // A commit that leaves the owner alone keeps it, in the file and in the index.
    await commit(engine, first, { existingOnly: true })
    expect(await idsOf(engine, 'alice')).toEqual([first, second].toSorted())

    await commit(engine, first, { owner: 'bob', existingOnly: true })
    expect([entriesOf(dir, 'alice'), entriesOf(dir, 'bob')]).toEqual([[second], [first]])
    await commit(engine, first, { owner: null, existingOnly: true })
    expect(entriesOf(dir, 'bob')).toEqual([])
    expect(JSON.parse(readFileSync(join(dir, `${first}.session.json`), 'utf8'))).not.toHaveProperty('owner')
    await engine.delete(second)
    expect(entriesOf(dir, 'alice')).toEqual([])

    await commit(engine, first, { owner: 'alice', existingOnly: true })
    await engine.deleteAll()
    expect(readdirSync(dir)).toEqual([])
  })

  test('an expired session is never listed, keeps its entry until GC removes both, and is not deleted by owner', async () => {
    const dir = tempDir()
    const engine = openEngine(dir)
    const [dying, living] = [randomSessionId(), randomSessionId()]
    const now = Date.now()
    await commit(engine, dying, { owner: 'alice', lifetime: 1_000, now })
    await commit(engine, living, { owner: 'alice', now })
    const later = now + 2_000
    expect(await idsOf(engine, 'alice', later)).toEqual([living])
    expect(await engine.deleteByOwner?.('alice', [living], later)).toBe(0)
    expect(entriesOf(dir, 'alice')).toEqual([dying, living].toSorted())
    expect(await engine.deleteExpired(later)).toBe(1)
    expect(entriesOf(dir, 'alice')).toEqual([living])
  })

  test('an entry without its session is dropped when listed; GC drops such entries and restores lost ones', async () => {
    const dir = tempDir()
    const engine = openEngine(dir)
    const [kept, lost, moved] = [randomSessionId(), randomSessionId(), randomSessionId()]
    for (const id of [kept, lost, moved]) await commit(engine, id, { owner: 'alice' })
    const ghost = randomSessionId()
    writeFileSync(join(dir, INDEX, folderOf('alice'), ghost), '')
    expect(await idsOf(engine, 'alice')).toEqual([kept, lost, moved].toSorted())
    expect(entriesOf(dir, 'alice')).toEqual([kept, lost, moved].toSorted())

    // Entries that went stale behind the engine's back, and one that went missing.
    for (const [owner, id] of [
      ['nobody', ghost],
      ['bob', moved],
      ['alice', ghost],
    ] as const) {
      mkdirSync(join(dir, INDEX, folderOf(owner)), { recursive: true })
      writeFileSync(join(dir, INDEX, folderOf(owner), id), '')
    }
    rmSync(join(dir, INDEX, folderOf('alice'), lost))
    expect(await engine.deleteExpired(Date.now())).toBe(0)
    expect(entriesOf(dir, 'alice')).toEqual([kept, lost, moved].toSorted())
    expect(existsSync(join(dir, INDEX, folderOf('nobody')))).toBe(false)
    expect(existsSync(join(dir, INDEX, folderOf('bob')))).toBe(false)
  })

  test('a listing that runs while commits give sessions to the owner never drops their new entries', async () => {
    const dir = tempDir()
    // With fsync each write takes long enough for listings to read the entries of commits still under way.
    const engine = fileEngine({ dir })
    engines.push(engine)
    const ids = Array.from({ length: 50 }, () => randomSessionId())
    for (const id of ids) await commit(engine, id, { owner: 'bob' })
    let committing = true
    const commits = Promise.all(ids.map((id) => commit(engine, id, { owner: 'alice', existingOnly: true }))).finally(
      () => {
        committing = false
      },
    )
    const listings = (async () => {
      while (committing) await engine.listByOwner?.('alice', Date.now())
    })()
    await Promise.all([commits, listings])
    expect(await idsOf(engine, 'alice')).toEqual(ids.toSorted())
    expect(entriesOf(dir, 'alice')).toEqual(ids.toSorted())
  })

  test('owners with separators, dots, lone surrogates or 256 characters each get a folder of their own', async () => {
    const dir = tempDir()
    const engine = openEngine(dir)
    const owners = ['a/b', '..', '.', 'a\\b', '\uD800', '\uDC00', '\uFFFD', 'ü', ' ', 'x'.repeat(256)]
    const ids = new Map(owners.map((owner) => [owner, randomSessionId()]))
    for (const [owner, id] of ids) await commit(engine, id, { owner })
    for (const [owner, id] of ids) {
      expect(await idsOf(engine, owner)).toEqual([id])
      expect((await engine.listByOwner?.(owner, Date.now()))?.[0]?.data).toEqual({ [OWNER_KEY]: owner })
    }
    expect(readdirSync(join(dir, INDEX))).toHaveLength(owners.length)
    expect(await engine.deleteByOwner?.('..', [], Date.now())).toBe(1)
    expect(await engine.count(Date.now())).toBe(owners.length - 1)
  })

  test('listing an owner’s 5 sessions among 100,000 of other owners takes at most twice as long as among 1,000', async () => {
    const [small, large] = [openEngine(tempDir()), openEngine(tempDir())]
    const now = Date.now()
    try {
      await Promise.all([
        fillOwnedStore(small, { count: 995, owned: 5, owner: 'the-owner', now }),
        fillOwnedStore(large, { count: 100_000, owned: 5, owner: 'the-owner', now }),
      ])
      expect(await large.count(now)).toBe(100_005)
      for (const engine of [small, large]) expect(await idsOf(engine, 'the-owner', now)).toHaveLength(5)
      // Fewer samples than the helper's default: each listing reads a folder and five files.
      const ratio = await listingCostRatio(small, large, 'the-owner', { samples: 21, listingsPerSample: 10 })
      expect(ratio).toBeLessThanOrEqual(2)
    } finally {
      // Here rather than in afterAll, within this test's own time limit.
      await Promise.all([small.deleteAll(), large.deleteAll()])
    }
  }, 300_000)
})
