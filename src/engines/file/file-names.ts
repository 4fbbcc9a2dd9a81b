import { randomBytes } from 'node:crypto'

/** `<id>.session.json`: the only names the engine ever reads, counts or deletes. */
const SESSION_FILE_NAME = /^([A-Za-z0-9_-]{1,128})\.session\.json$/

/** `.<id>.<16 hex digits>.tmp`: a write in progress, or left behind by a crash. Never ends in `.session.json`. */
const TEMP_FILE_NAME = /^\.[A-Za-z0-9_-]{1,128}\.[0-9a-f]{16}\.tmp$/

/** The file name of the session `id`, which must pass `isSafeSessionId`. */
export function sessionFileName(id: string): string {
  return `${id}.session.json`
}

/** The session id a file name belongs to, or `undefined` for every file that is not a session file. */
export function sessionIdOfFileName(name: string): string | undefined {
  return SESSION_FILE_NAME.exec(name)?.[1]
}

/** A fresh temporary file name for a write of the session `id`. */
export function tempFileName(id: string): string {
  return `.${id}.${randomBytes(8).toString('hex')}.tmp`
}

/** Whether `name` is a temporary file of this engine. */
export function isTempFileName(name: string): boolean {
  return TEMP_FILE_NAME.test(name)
}
