/**
 * Child process: commits `count` small sessions through a SQLite engine on a fresh file, checkpoints the WAL and
 * reports the bytes on disk per session. Run by `index.ts`.
 *
 *   bun bench/resources/child-sqlite-size.ts 100000
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteEngine } from '../../src/engines/sqlite/index.js'
import { generateSessionId } from '../../src/session-id.js'
import { report, smallSession } from './shared.js'

const count = Number(Bun.argv[2])
if (!Number.isSafeInteger(count) || count < 1)
  throw new Error(`usage: child-sqlite-size.ts <sessions>, got ${Bun.argv[2]}`)

const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-resources-size-'))
const path = join(dir, 'sessions.sqlite')
const sizeOf = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0
try {
  const engine = await sqliteEngine({ path })
  const emptyBytes = sizeOf(path) + sizeOf(`${path}-wal`)
  const started = performance.now()
  const now = Date.now()
  for (let n = 0; n < count; n++) await engine.commit(generateSessionId(), smallSession(n, now), now)
  const commitSeconds = (performance.now() - started) / 1_000

  // A second connection checkpoints while the engine's is still open, so the WAL is measured as an app leaves it.
  const raw = new Database(path, { strict: true })
  raw.run('PRAGMA busy_timeout = 5000')
  raw.run('PRAGMA wal_checkpoint(TRUNCATE)')
  const pragma = (name: string) => Object.values(raw.query(`PRAGMA ${name}`).get() as object)[0] as number
  const pages = { pageSize: pragma('page_size'), pageCount: pragma('page_count'), freePages: pragma('freelist_count') }
  const files = { main: sizeOf(path), wal: sizeOf(`${path}-wal`), shm: sizeOf(`${path}-shm`) }
  raw.close()
  await engine.close()

  const totalBytes = files.main + files.wal
  report({
    sessions: count,
    files,
    ...pages,
    emptyBytes,
    totalBytes,
    bytesPerSession: Math.round(totalBytes / count),
    netBytesPerSession: Math.round((totalBytes - emptyBytes) / count),
    commitsPerSecond: Math.round(count / commitSeconds),
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
