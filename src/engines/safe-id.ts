/** The ids engines that build names from them (files, Redis keys) accept: never a path, a glob or a separator. */
const SAFE_SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/

/** Whether `id` can be part of a file name or key; engines treat any other id as unknown, and refuse to store it. */
export function isSafeSessionId(id: string): boolean {
  return SAFE_SESSION_ID.test(id)
}

/** The error an engine's `commit` throws for an id `isSafeSessionId` refuses; the id is cut short to stay readable. */
export function unsafeIdError(engine: string, id: string): Error {
  const shown = JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id)
  return new Error(`${engine} cannot store the session id ${shown}: ids must match ${SAFE_SESSION_ID}`)
}
