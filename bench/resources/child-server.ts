/**
 * Child process: an Elysia server with the SQLite engine on a fresh file, listening on 127.0.0.1, whose GC sweeps in
 * the engine's worker only when asked. Driven over IPC by `index.ts`:
 *
 *   → { type: 'fill', count }  writes `count` expired sessions   ← { type: 'filled', rows, seconds }
 *   → { type: 'sweep' }        `sessions.gc()` in the GC worker   ← { type: 'swept', removed, seconds, ... }
 *   → { type: 'stop' }         stops, closes and removes the file ← { type: 'stopped' }
 *
 * On start it sends { type: 'ready', port, cookies }: the cookies of `LIVE_SESSIONS` live sessions for a load client.
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import type { SessionEngine } from '../../src/engine.js'
import { sqliteEngine } from '../../src/engines/sqlite/index.js'
import { session } from '../../src/plugin.js'
import { insertSessions, NO_TIMED_GC, SECRET } from './shared.js'

/** Live sessions the load client spreads its requests over. */
const LIVE_SESSIONS = 100

export type ServerCommand = { type: 'fill'; count: number } | { type: 'sweep' } | { type: 'stop' }
export type ServerReport =
  | { type: 'ready'; port: number; cookies: string[] }
  | { type: 'filled'; rows: number; seconds: number }
  | { type: 'swept'; removed: number; seconds: number; rowsLeft: number; mainThreadSweeps: number; gcErrors: string[] }
  | { type: 'stopped' }
  | { type: 'failed'; message: string }

const send = (message: ServerReport) => process.send?.(message)

const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-resources-sweep-'))
const path = join(dir, 'sessions.sqlite')
const sqlite = await sqliteEngine({ path })
let mainThreadSweeps = 0
// Counts sweeps on this thread: with a working GC worker there are none.
const engine: SessionEngine = {
  ...sqlite,
  deleteExpired(now) {
    mainThreadSweeps++
    return sqlite.deleteExpired(now)
  },
}
const gcErrors: string[] = []
const app = new Elysia()
  .use(
    session({
      secret: SECRET,
      engine,
      gcInterval: NO_TIMED_GC,
      logger: { error: (message, cause) => gcErrors.push(`${message}: ${String(cause)}`) },
    }),
  )
  .get('/read', ({ session }) => session.intOrNull('count') ?? 0)
  .post('/increment', ({ session }) => {
    const count = (session.intOrNull('count') ?? 0) + 1
    session.int('count', count)
    return count
  })
  .listen({ hostname: '127.0.0.1', port: 0 })
const { sessions } = app.decorator
// The first sweep waits for the GC worker to open the file, so later sweeps measure sweeping only.
await sessions.gc()

const raw = new Database(path, { strict: true })
raw.run('PRAGMA busy_timeout = 5000')
const rowCount = () => (raw.query('SELECT count(*) AS n FROM sessions').get() as { n: number }).n

const cookies: string[] = []
for (let index = 0; index < LIVE_SESSIONS; index++) {
  const response = await app.handle(new Request('http://localhost/increment', { method: 'POST' }))
  const cookie = response.headers.getSetCookie()[0]?.split(';')[0]
  if (!cookie) throw new Error('the server set no session cookie')
  cookies.push(cookie)
}

async function handle(command: ServerCommand): Promise<void> {
  if (command.type === 'fill') {
    const started = performance.now()
    insertSessions(raw, command.count, Date.now() - 1_000)
    raw.run('PRAGMA wal_checkpoint(TRUNCATE)')
    send({ type: 'filled', rows: rowCount(), seconds: (performance.now() - started) / 1_000 })
  } else if (command.type === 'sweep') {
    const started = performance.now()
    const removed = await sessions.gc()
    const seconds = (performance.now() - started) / 1_000
    send({ type: 'swept', removed, seconds, rowsLeft: rowCount(), mainThreadSweeps, gcErrors })
  } else {
    raw.close()
    await app.stop()
    await sessions.close()
    rmSync(dir, { recursive: true, force: true })
    send({ type: 'stopped' })
    process.exit(0)
  }
}

process.on('message', (command: ServerCommand) => {
  handle(command).catch((error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  })
})
send({ type: 'ready', port: app.server!.port!, cookies })
