import { lstat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { IterateOptions, SessionChanges, SessionEngine, SessionEntry, StoredSession } from '../../engine.js'
import { SessionConfigError } from '../../errors.js'
import type { SessionLogger } from '../../options.js'
import { applyChanges } from '../apply-changes.js'
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import { sessionFileName } from './file-names.js'
import { sessionFileQueue } from './keyed-queue.js'
import { listSessionDir, openSessionDir } from './session-dir.js'
import { hasCode, readSessionFile, removeSessionFile, type SessionFileRead, writeSessionFile } from './session-file.js'

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

  /** The session a listing found under `id`, or `undefined` when it is gone or skipped. */
  const readListed = async (id: string): Promise<StoredSession | undefined> => {
    const read = await readSessionFile(pathOf(id))
    if (read.status === 'found') return read.session
    if (read.status !== 'missing') reportSkipped(id, read)
    return undefined
  }

  /** The session `id` if alive at `now`; a file that cannot be read is a failure of the engine, not a missing one. */
  const readAlive = async (id: string, now: number): Promise<StoredSession | null> => {
    const read = await readSessionFile(pathOf(id))
    if (read.status === 'unreadable') throw read.cause
    if (read.status === 'corrupt') reportSkipped(id, read)
    return read.status === 'found' && read.session.expiresAt > now ? read.session : null
  }

  /** Reads the listed sessions a few at a time, in order, each as found or `undefined`. */
  const readAllListed = async (ids: readonly string[]): Promise<(StoredSession | undefined)[]> => {
    const found: (StoredSession | undefined)[] = []
    for (let start = 0; start < ids.length; start += READS_AT_ONCE) {
      found.push(...(await Promise.all(ids.slice(start, start + READS_AT_ONCE).map(readListed))))
    }
    return found
  }

  const deleteIfExpired = (id: string, now: number): Promise<boolean> =>
    queued(id, async () => {
      // Read again in the queue: a request may have refreshed the session since the sweep first read it.
      const read = await readSessionFile(pathOf(id))
      return read.status === 'found' && read.session.expiresAt <= now && (await removeSessionFile(pathOf(id)))
    })

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

    async load(id: string, now: number): Promise<StoredSession | null> {
      return isSafeSessionId(id) ? readAlive(id, now) : null
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) {
        throw unsafeIdError('fileEngine', id)
      }
      checkExpiry(changes.expiresAt)
      return queued(id, async () => {
        const stored = await readAlive(id, now)
        if (!stored && changes.existingOnly) return false
        const data = applyChanges(stored?.data, changes)
        await writeSessionFile(root, id, { data, expiresAt: changes.expiresAt }, fsync)
        return true
      })
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return false
      checkExpiry(expiresAt)
      return queued(id, async () => {
        const stored = await readAlive(id, now)
        if (!stored) return false
        await writeSessionFile(root, id, { data: stored.data, expiresAt }, fsync)
        return true
      })
    },

    async delete(id: string): Promise<void> {
      if (isSafeSessionId(id)) await queued(id, () => removeSessionFile(pathOf(id)))
    },

    async deleteAll(): Promise<void> {
      const { sessionIds } = await listSessionDir(root)
      for (let start = 0; start < sessionIds.length; start += READS_AT_ONCE) {
        const slice = sessionIds.slice(start, start + READS_AT_ONCE)
        await Promise.all(slice.map((id) => queued(id, () => removeSessionFile(pathOf(id)))))
      }
    },

    async count(now: number): Promise<number> {
      const { sessionIds } = await listSessionDir(root)
      const stored = await readAllListed(sessionIds)
      return stored.filter((session) => session !== undefined && session.expiresAt > now).length
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
        for (const [index, session] of stored.entries()) {
          if (session && session.expiresAt > now) batch.push({ id: ids[index] as string, ...session })
        }
        if (batch.length >= batchSize) yield batch.splice(0, batchSize)
      }
      if (batch.length > 0) yield batch
    },

    async deleteExpired(now: number): Promise<number> {
      const { sessionIds, tempNames } = await listSessionDir(root)
      let deleted = 0
      for (let start = 0; start < sessionIds.length; start += READS_AT_ONCE) {
        const ids = sessionIds.slice(start, start + READS_AT_ONCE)
        const stored = await readAllListed(ids)
        const removed = await Promise.all(
          ids.map((id, index) => {
            const session = stored[index]
            return session !== undefined && session.expiresAt <= now ? deleteIfExpired(id, now) : false
          }),
        )
        deleted += removed.filter(Boolean).length
      }
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
