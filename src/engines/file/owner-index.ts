import { mkdir, readdir, rmdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ownerDigest } from '../owner-digest.js'
import { isSafeSessionId } from '../safe-id.js'
import { hasCode } from './session-file.js'

/** The folder of the owner index, inside the session folder: the engine creates it the first time a session has an owner. */
export const OWNER_INDEX_DIR = '.owners'

/** How many times `add` tries to create an entry whose owner folder a sweep may be removing at the same moment. */
const ADD_ATTEMPTS = 3

/** The names of owner folders: a SHA-256 digest in base64url. */
const OWNER_FOLDER_NAME = /^[A-Za-z0-9_-]{43}$/

/**
 * The name of `owner`'s folder in the index: its `ownerDigest`, so owners of any length and characters (lone
 * surrogates included) get a short, safe file name of their own.
 */
export function ownerFolderOf(owner: string): string {
  return ownerDigest(owner)
}

/**
 * An on-disk index from owners to session ids: a folder per owner holding one empty file per session id. It only
 * says where to look: the session file, which names its owner, stays the truth, and an entry whose session file does
 * not name that owner is stale.
 */
export interface OwnerIndex {
  /** Records that the session `id` belongs to the owner whose folder is `folder`. */
  add(folder: string, id: string): Promise<void>
  /** Forgets that record; a missing one is a no-op. */
  remove(folder: string, id: string): Promise<void>
  /** The ids recorded in `folder`; none when it does not exist. */
  idsIn(folder: string): Promise<string[]>
  /** The owner folders the index holds. */
  folders(): Promise<string[]>
  /** Removes `folder` if it holds nothing any more; a folder still in use or gone already is kept or skipped. */
  removeIfEmpty(folder: string): Promise<void>
  /** Removes every record and owner folder, and the index folder when nothing else is in it. */
  clear(): Promise<void>
}

/** The owner index under the session folder `root`. */
export function openOwnerIndex(root: string): OwnerIndex {
  const indexPath = join(root, OWNER_INDEX_DIR)
  const folderPath = (folder: string) => join(indexPath, folder)
  const entryPath = (folder: string, id: string) => join(indexPath, folder, id)

  const namesIn = async (path: string): Promise<string[]> => {
    try {
      return await readdir(path)
    } catch (error) {
      if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR')) return []
      throw error
    }
  }

  const removeIfEmpty = (folder: string) => removeEmptyFolder(folderPath(folder))

  const index: OwnerIndex = {
    async add(folder, id) {
      // An empty file is created whole or not at all; its name is all it says.
      for (let attempt = 1; ; attempt++) {
        try {
          return await writeFile(entryPath(folder, id), '', { mode: 0o600 })
        } catch (error) {
          if (!hasCode(error, 'ENOENT') || attempt === ADD_ATTEMPTS) throw error
        }
        // The owner's first session, or a sweep removed its folder as empty since.
        await mkdir(folderPath(folder), { recursive: true, mode: 0o700 })
      }
    },

    async remove(folder, id) {
      try {
        await unlink(entryPath(folder, id))
      } catch (error) {
        if (!hasCode(error, 'ENOENT')) throw error
      }
    },

    async idsIn(folder) {
      return (await namesIn(folderPath(folder))).filter(isSafeSessionId)
    },

    async folders() {
      return (await namesIn(indexPath)).filter((name) => OWNER_FOLDER_NAME.test(name))
    },

    removeIfEmpty,

    async clear() {
      for (const folder of await index.folders()) {
        await Promise.all((await index.idsIn(folder)).map((id) => index.remove(folder, id)))
        await removeIfEmpty(folder)
      }
      await removeEmptyFolder(indexPath)
    },
  }
  return index
}

/** Removes the folder at `path` if it is empty; one that is not, or is gone already, is left as it is. */
async function removeEmptyFolder(path: string): Promise<void> {
  try {
    await rmdir(path)
  } catch (error) {
    if (!(hasCode(error, 'ENOTEMPTY') || hasCode(error, 'EEXIST') || hasCode(error, 'ENOENT'))) throw error
  }
}
