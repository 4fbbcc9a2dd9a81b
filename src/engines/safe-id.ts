/** The ids engines that build names from them (files, Redis keys) accept: never a path, a glob or a separator. */
const SAFE_SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/

/** How `isSafeSessionId` describes itself in error messages. */
export const SAFE_SESSION_ID_SOURCE = SAFE_SESSION_ID.source

/** Whether `id` can be part of a file name or key; engines treat any other id as unknown, and refuse to store it. */
export function isSafeSessionId(id: string): boolean {
  return SAFE_SESSION_ID.test(id)
}
