import { mkdirSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { SessionConfigError } from '../../errors.js'
import { isTempFileName, sessionIdOfFileName, tempFileName } from './file-names.js'

/**
 * Creates the session folder if missing, proves this process can write in it, and returns its real absolute path
 * (symlinks resolved, so engines given two spellings of one folder share one lock per session).
 */
export function openSessionDir(dir: string): string {
  const absolute = resolve(dir)
  try {
    mkdirSync(absolute, { recursive: true })
    const probe = join(absolute, tempFileName('write-check'))
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 })
    unlinkSync(probe)
    return realpathSync(absolute)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new SessionConfigError(
      `fileEngine({ dir }) cannot create or write the folder ${JSON.stringify(absolute)} (${reason}). ` +
        'Pass a dir whose parent folders exist or can be created, and give this user write permission on it.',
      { cause: error },
    )
  }
}

/** What one listing of the session folder found. */
export interface SessionDirListing {
  /** The ids of the files named `<id>.session.json`; every other file is not a session. */
  readonly sessionIds: readonly string[]
  /** The names of this engine's temporary files. */
  readonly tempNames: readonly string[]
}

/** Lists the session folder once. */
export async function listSessionDir(dir: string): Promise<SessionDirListing> {
  const sessionIds: string[] = []
  const tempNames: string[] = []
  for (const name of await readdir(dir)) {
    const id = sessionIdOfFileName(name)
    if (id !== undefined) sessionIds.push(id)
    else if (isTempFileName(name)) tempNames.push(name)
  }
  return { sessionIds, tempNames }
}
