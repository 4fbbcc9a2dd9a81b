import { lstat, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { SessionData, StoredSession } from '../../engine.js'
import { sessionFileName, tempFileName } from './file-names.js'

/** What reading one session file found. */
export type SessionFileRead =
  | {
      readonly status: 'found'
      readonly session: StoredSession
      /** The session's owner as the last commit that set one left it; undefined when it has none. */
      readonly owner: string | undefined
    }
  /** No such file (it may have been deleted since the folder was listed), or a folder in its place. */
  | { readonly status: 'missing' }
  /** The file was read but does not hold a session. */
  | { readonly status: 'corrupt'; readonly cause: unknown }
  /** The file is there but cannot be read. */
  | { readonly status: 'unreadable'; readonly cause: unknown }

const MISSING: SessionFileRead = { status: 'missing' }

/** Reads and parses one session file; never throws. */
export async function readSessionFile(path: string): Promise<SessionFileRead> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (hasCode(error, 'ENOENT') || hasCode(error, 'EISDIR')) return MISSING
    return { status: 'unreadable', cause: error }
  }
  try {
    return { status: 'found', ...parseSessionFile(text) }
  } catch (error) {
    return { status: 'corrupt', cause: error }
  }
}

/**
 * Writes the session `id` atomically, with its `owner` when it has one: a reader, or a process that crashes
 * mid-write, sees the old file or the new one, never a part. With `fsync` the new content is on disk before it
 * replaces the old, so a power loss cannot tear it either.
 */
export async function writeSessionFile(
  dir: string,
  id: string,
  session: StoredSession,
  owner: string | undefined,
  fsync: boolean,
): Promise<void> {
  const tempPath = join(dir, tempFileName(id))
  const handle = await open(tempPath, 'wx', 0o600)
  const { expiresAt, data } = session
  try {
    try {
      await handle.writeFile(JSON.stringify(owner === undefined ? { expiresAt, data } : { expiresAt, data, owner }))
      if (fsync) await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tempPath, join(dir, sessionFileName(id)))
  } catch (error) {
    await unlink(tempPath).catch(() => undefined)
    throw error
  }
}

/** Deletes one session file and resolves to whether it was there; a missing file or a folder in its place is kept. */
export async function removeSessionFile(path: string): Promise<boolean> {
  try {
    await unlink(path)
    return true
  } catch (error) {
    if (hasCode(error, 'ENOENT') || hasCode(error, 'EISDIR')) return false
    // macOS answers unlink of a folder with EPERM.
    if (hasCode(error, 'EPERM') && (await lstat(path).catch(() => undefined))?.isDirectory()) return false
    throw error
  }
}

/** Whether `error` is a Node.js system error with this `code`. */
export function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code
}

function parseSessionFile(text: string): { session: StoredSession; owner: string | undefined } {
  const parsed: unknown = JSON.parse(text)
  if (isJsonObject(parsed)) {
    const { expiresAt, data, owner } = parsed
    if (
      typeof expiresAt === 'number' &&
      Number.isFinite(expiresAt) &&
      isJsonObject(data) &&
      (owner === undefined || typeof owner === 'string')
    ) {
      // JSON.parse makes a key named "__proto__" an own property, so it stays data.
      return { session: { data: data as SessionData, expiresAt }, owner }
    }
  }
  throw new Error(
    'expected a JSON object with a finite number "expiresAt", an object "data" and, if any, a string "owner"',
  )
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
