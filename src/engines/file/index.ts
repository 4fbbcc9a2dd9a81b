import { lstat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { IterateOptions, SessionChanges, SessionEngine, SessionEntry, StoredSession } from '../../engine.js'
import { SessionConfigError } from '../../errors.js'
import type { SessionLogger } from '../../options.js'
import { applyChanges } from '../apply-changes.js'
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import { sessionFileName } from './file-names.js'
import { sessionFileQueue } from './keyed-queue.js'
import { openOwnerIndex, ownerFolderOf } from './owner-index.js'
import { listSessionDir, openSessionDir } from './session-dir.js'
import { hasCode, readSessionFile, removeSessionFile, type SessionFileRead, writeSessionFile } from './session-file.js'

/** A session file that was read whole: the session and its owner. */
type SessionFile = Extract<SessionFileRead, { readonly status: 'found' }>

/** Options of `fileEngine`. */
export interface FileEngineOptions {
  /**
   * The folder of the session files, created with its parents if missing. Each session is one file named
   * `<id>.session.json`; the engine never reads, counts or deletes any other file in it.
   */
  readonly dir: string
  /**
   * Flush each session file to disk before it replaces the old one, so a power loss leaves the old or the new
   * content, never a torn file. Without it writes are faster and still atomic against a crash of the process.
   * @default true
   */
  readonly fsync?: boolean
  /**
   * Receives the session files the engine skips because they cannot be read or do not hold a session.
   * @default console
   */
  readonly logger?: SessionLogger
}

/** How many session files one listing, count or sweep reads at once. */
const READS_AT_ONCE = 64

/** How old a temporary file must be before a sweep takes it for the leftover of a crashed write. */
const STALE_TEMP_AGE = 60_000

/**
 * Keeps each session in a JSON file of its own under `dir`, so sessions survive restarts. Writes are atomic
 * (temporary file, then rename), and the changes to one session are queued within this process, so concurrent
 * requests never lose each other's writes. Processes sharing one folder never see a torn file, but two of them
 * changing one session at the same moment may lose one change: run one process per folder for full merging.
 *
 * @example
 * import { fileEngine } from 'elysia-sessions/engines/file'
 *
 * app.use(session({ secret, engine: fileEngine({ dir: './data/sessions' }) }))
 */
export function fileEngine(options: FileEngineOptions): SessionEngine {
  const { dir, fsync = true, logger = console } = checkOptions(options)
  const root = openSessionDir(dir)
  const pathOf = (id: string) => join(root, sessionFileName(id))
  const owners = openOwnerIndex(root)
  const running = new Set<Promise<unknown>>()

  /** Runs `task` after every other queued change to the session `id` in this process; `close` waits for it. */
  const queued = <T>(id: string, task: () => Promise<T>): Promise<T> => {
    const result = sessionFileQueue.run(pathOf(id), task)
    const forget = () => {
      running.delete(settled)
    }
    const settled: Promise<void> = result.then(forget, forget)
    running.add(settled)
    return result
  }

  const reportSkipped = (id: string, read: SessionFileRead & { readonly cause: unknown }) => {
    const problem = read.status === 'corrupt' ? 'does not hold a session' : 'cannot be read'
    logger.error(`fileEngine skipped the session file ${JSON.stringify(pathOf(id))}: it ${problem}`, read.cause)
  }

  /** The session file a listing found under `id`, or `undefined` when it is gone or skipped. */
  const readListed = async (id: string): Promise<SessionFile | undefined> => {
    const read = await readSessionFile(pathOf(id))
    if (read.status === 'found') return read
    if (read.status !== 'missing') reportSkipped(id, read)
    return undefined
  }

  /** The session file of `id`, or null; a file that cannot be read is a failure of the engine, not a missing one. */
  const readStored = async (id: string): Promise<SessionFile | null> => {
    const read = await readSessionFile(pathOf(id))
    if (read.status === 'unreadable') throw read.cause
    if (read.status === 'corrupt') reportSkipped(id, read)
    return read.status === 'found' ? read : null
  }

  /** Reads the listed session files a few at a time, in order, each as found or `undefined`. */
  const readAllListed = async (ids: readonly string[]): Promise<(SessionFile | undefined)[]> => {
    const found: (SessionFile | undefined)[] = []
    for (let start = 0; start < ids.length; start += READS_AT_ONCE) {
      found.push(...(await Promise.all(ids.slice(start, start + READS_AT_ONCE).map(readListed))))
    }
    return found
  }

  /** Deletes the session file of `id` and its owner's index entry; resolves to whether the file was there. */
  const removeSession = async (id: string, owner: string | undefined): Promise<boolean> => {
    const removed = await removeSessionFile(pathOf(id))
    if (owner !== undefined) await owners.remove(ownerFolderOf(owner), id)
    return removed
  }

  const deleteIfExpired = (id: string, now: number): Promise<boolean> =>
    queued(id, async () => {
      // Read again in the queue: a request may have refreshed the session since the sweep first read it.
      const read = await readSessionFile(pathOf(id))
      return read.status === 'found' && read.session.expiresAt <= now && (await removeSession(id, read.owner))
    })

  /**
   * Forgets the index entry of `id` in `folder` unless the session file, read again in the session's queue, still
   * names that folder's owner; resolves to the session file when it does.
   */
  const checkEntry = (folder: string, id: string): Promise<SessionFile | null> =>
    queued(id, async () => {
      const read = await readSessionFile(pathOf(id))
      if (read.status === 'found' && read.owner !== undefined && ownerFolderOf(read.owner) === folder) return read
      // A file that cannot be read may still be this owner's: its entry stays until it can be read.
      if (read.status === 'found' || read.status === 'missing') await owners.remove(folder, id)
      return null
    })

  /** The ids the index lists for `owner` with their session files, each only when it names `owner`. */
  const ownedSessions = async (owner: string): Promise<[string, SessionFile][]> => {
    const folder = ownerFolderOf(owner)
    const ids = await owners.idsIn(folder)
    const files = await readAllListed(ids)
    const found: [string, SessionFile][] = []
    for (const [index, id] of ids.entries()) {
      const file = files[index]
      if (file?.owner === owner) found.push([id, file])
      else if (file === undefined || file.owner === undefined || ownerFolderOf(file.owner) !== folder) {
        // Stale, or written since it was read: checked again in the session's queue before it is dropped.
        const checked = await checkEntry(folder, id)
        if (checked?.owner === owner) found.push([id, checked])
      }
    }
    return found
  }

  /**
   * Brings the index in step with the session files a sweep read (`owned`: each session id with its owner's folder):
   * an entry without a session file that names its owner is dropped, a session missing from its owner's folder is
   * added, and owner folders left empty are removed. Each change is checked again in the session's queue.
   */
  const repairOwnerIndex = async (owned: ReadonlyMap<string, string>) => {
    const indexed = new Set<string>()
    for (const folder of await owners.folders()) {
      const ids = await owners.idsIn(folder)
      const stale = ids.filter((id) => owned.get(id) !== folder)
      for (const id of ids) if (owned.get(id) === folder) indexed.add(id)
      for (let start = 0; start < stale.length; start += READS_AT_ONCE) {
        await Promise.all(stale.slice(start, start + READS_AT_ONCE).map((id) => checkEntry(folder, id)))
      }
      await owners.removeIfEmpty(folder)
    }
    const missing = [...owned.keys()].filter((id) => !indexed.has(id))
    for (let start = 0; start < missing.length; start += READS_AT_ONCE) {
      const slice = missing.slice(start, start + READS_AT_ONCE)
      await Promise.all(
        slice.map((id) =>
          queued(id, async () => {
            const read = await readSessionFile(pathOf(id))
            if (read.status === 'found' && read.owner !== undefined) await owners.add(ownerFolderOf(read.owner), id)
          }),
        ),
      )
    }
  }

  const removeStaleTempFiles = async (names: readonly string[]) => {
    for (const name of names) {
      const path = join(root, name)
      try {
        if (Date.now() - (await lstat(path)).mtimeMs > STALE_TEMP_AGE) await unlink(path)
      } catch (error) {
        if (!hasCode(error, 'ENOENT')) logger.error(`fileEngine cannot remove the leftover file ${path}`, error)
      }
    }
  }

  return {
    name: 'file',
    capabilities: { owners: true },

    async load(id: string, now: number): Promise<StoredSession | null> {
      if (!isSafeSessionId(id)) return null
      const stored = await readStored(id)
      return stored && stored.session.expiresAt > now ? stored.session : null
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) {
        throw unsafeIdError('fileEngine', id)
      }
      checkExpiry(changes.expiresAt)
      return queued(id, async () => {
        const stored = await readStored(id)
        const alive = stored && stored.session.expiresAt > now ? stored : null
        if (!alive && changes.existingOnly) return false
        const data = applyChanges(alive?.session.data, changes)
        const owner = changes.owner === undefined ? alive?.owner : (changes.owner ?? undefined)
        // The entry comes first, so a session file never names an owner whose folder does not list it.
        if (typeof changes.owner === 'string') await owners.add(ownerFolderOf(changes.owner), id)
        await writeSessionFile(root, id, { data, expiresAt: changes.expiresAt }, owner, fsync)
        if (stored?.owner !== undefined && stored.owner !== owner) await owners.remove(ownerFolderOf(stored.owner), id)
        return true
      })
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return false
      checkExpiry(expiresAt)
      return queued(id, async () => {
        const stored = await readStored(id)
        if (!stored || stored.session.expiresAt <= now) return false
        await writeSessionFile(root, id, { data: stored.session.data, expiresAt }, stored.owner, fsync)
        return true
      })
    },

    async delete(id: string): Promise<void> {
      if (!isSafeSessionId(id)) return
      await queued(id, async () => {
        const read = await readSessionFile(pathOf(id))
        await removeSession(id, read.status === 'found' ? read.owner : undefined)
      })
    },

    async deleteAll(): Promise<void> {
      const { sessionIds } = await listSessionDir(root)
      for (let start = 0; start < sessionIds.length; start += READS_AT_ONCE) {
        const slice = sessionIds.slice(start, start + READS_AT_ONCE)
        await Promise.all(slice.map((id) => queued(id, () => removeSessionFile(pathOf(id)))))
      }
      await owners.clear()
    },

    async count(now: number): Promise<number> {
      const { sessionIds } = await listSessionDir(root)
      const stored = await readAllListed(sessionIds)
      return stored.filter((file) => file !== undefined && file.session.expiresAt > now).length
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      if (!(Number.isSafeInteger(batchSize) && batchSize > 0)) {
        throw new RangeError(`entries({ batchSize }) needs a positive integer, got ${String(batchSize)}`)
      }
      const { sessionIds } = await listSessionDir(root)
      const batch: SessionEntry[] = []
      // Each batch reads only its own files, so a consumer that stops early leaves the rest unread.
      for (let start = 0; start < sessionIds.length; start += batchSize) {
        const ids = sessionIds.slice(start, start + batchSize)
        const stored = await readAllListed(ids)
        for (const [index, file] of stored.entries()) {
          if (file && file.session.expiresAt > now) batch.push({ id: ids[index] as string, ...file.session })
        }
        if (batch.length >= batchSize) yield batch.splice(0, batchSize)
      }
      if (batch.length > 0) yield batch
    },

    async listByOwner(owner: string, now: number): Promise<readonly SessionEntry[]> {
      const entries: SessionEntry[] = []
      for (const [id, { session }] of await ownedSessions(owner)) {
        if (session.expiresAt > now) entries.push({ id, ...session })
      }
      return entries
    },

    async deleteByOwner(owner: string, except: readonly string[], now: number): Promise<number> {
      const kept = new Set(except)
      const ids = (await owners.idsIn(ownerFolderOf(owner))).filter((id) => !kept.has(id))
      let deleted = 0
      for (let start = 0; start < ids.length; start += READS_AT_ONCE) {
        const removed = await Promise.all(
          ids.slice(start, start + READS_AT_ONCE).map((id) =>
            queued(id, async () => {
              const read = await readSessionFile(pathOf(id))
              if (read.status === 'found' && read.owner === owner) {
                return read.session.expiresAt > now && (await removeSession(id, owner))
              }
              if (read.status === 'found' || read.status === 'missing') await owners.remove(ownerFolderOf(owner), id)
              return false
            }),
          ),
        )
        deleted += removed.filter(Boolean).length
      }
      return deleted
    },

    async deleteExpired(now: number): Promise<number> {
      const { sessionIds, tempNames } = await listSessionDir(root)
      let deleted = 0
      // Each kept session that has an owner, with its owner's folder, for the index repair after the sweep.
      const owned = new Map<string, string>()
      for (let start = 0; start < sessionIds.length; start += READS_AT_ONCE) {
        const ids = sessionIds.slice(start, start + READS_AT_ONCE)
        const stored = await readAllListed(ids)
        const removed = await Promise.all(
          ids.map((id, index) => {
            const file = stored[index]
            return file !== undefined && file.session.expiresAt <= now ? deleteIfExpired(id, now) : false
          }),
        )
        deleted += removed.filter(Boolean).length
        for (const [index, id] of ids.entries()) {
          const owner = stored[index]?.owner
          if (owner !== undefined && !removed[index]) owned.set(id, ownerFolderOf(owner))
        }
      }
      await repairOwnerIndex(owned)
      await removeStaleTempFiles(tempNames)
      return deleted
    },

    async close(): Promise<void> {
      await Promise.all(running)
    },
  }
}

function checkOptions(options: FileEngineOptions): FileEngineOptions {
  const { dir, fsync, logger } = options ?? {}
  if (typeof dir !== 'string' || dir === '') {
    throw new SessionConfigError(`fileEngine({ dir }) needs the path of a folder, got ${String(dir)}`)
  }
  if (fsync !== undefined && typeof fsync !== 'boolean') {
    throw new SessionConfigError(`fileEngine({ fsync }) needs true or false, got ${String(fsync)}`)
  }
  if (logger !== undefined && typeof logger?.error !== 'function') {
    throw new SessionConfigError('fileEngine({ logger }) needs an object with an error(message, cause) method')
  }
  return options
}

/** Expiries are written as JSON numbers; anything else would make the file unreadable as a session. */
function checkExpiry(expiresAt: number): void {
  if (!Number.isFinite(expiresAt)) {
    throw new RangeError(`fileEngine needs a finite expiresAt in epoch milliseconds, got ${String(expiresAt)}`)
  }
}
