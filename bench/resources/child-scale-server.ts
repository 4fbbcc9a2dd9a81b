/**
 * Child process: an Elysia server with the memory or the SQLite engine, or the hand-written session of
 * bench/servers/handwritten-app.ts (`bun child-scale-server.ts memory|sqlite|handwritten`), listening on 127.0.0.1,
 * whose GET /a reads a session's counter and writes it plus one (scenario (a) of bench/load).
 * Driven over IPC by `index.ts`:
 *
 *   → { type: 'fill', count, hot }  stores `count` alive small sessions and picks `hot` of them, spread evenly over
 *                                    the order they were written in   ← { type: 'filled', stored, seconds, cookies }
 *   → { type: 'stop' }              stops, closes and removes its file ← { type: 'stopped' }
 *
 * The memory engine is filled through `engine.commit`; the SQLite engine with one INSERT transaction on a second
 * connection (as fast as a bulk import, rows as the engine writes them), then a WAL checkpoint; the hand-written
 * session's `Map` directly. The cookies sent back are the hot sessions' signed cookies, for a load client to spread
 * its requests over.
 *
 * On start it sends { type: 'ready', port }.
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import type { SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { sqliteEngine } from '../../src/engines/sqlite/index.js'
import { session } from '../../src/plugin.js'
import { generateSessionId } from '../../src/session-id.js'
import { createCookieSigner } from '../../src/signing.js'
import { handwrittenApp } from '../servers/handwritten-app.js'
import { NO_TIMED_GC, SECRET, smallData, smallSession } from './shared.js'

export type ScaleEngineKind = 'memory' | 'sqlite' | 'handwritten'
export type ScaleServerCommand = { type: 'fill'; count: number; hot: number } | { type: 'stop' }
export type ScaleServerReport =
  | { type: 'ready'; port: number }
  | { type: 'filled'; stored: number; seconds: number; cookies: string[] }
  | { type: 'stopped' }
  | { type: 'failed'; message: string }

const HOUR = 3_600_000

const kind = Bun.argv[2]
if (kind !== 'memory' && kind !== 'sqlite' && kind !== 'handwritten') {
  throw new Error(`usage: child-scale-server.ts memory|sqlite|handwritten, got ${kind}`)
}

const send = (message: ScaleServerReport) => process.send?.(message)

const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'elysia-sessions-resources-scale-')) : undefined
const path = dir && join(dir, 'sessions.sqlite')
const engine: SessionEngine | undefined =
  kind === 'handwritten' ? undefined : path ? await sqliteEngine({ path }) : memoryEngine()
// Its sessions never expire during a run; a timed walk over a million of them would land in the measured seconds.
const handwritten = kind === 'handwritten' ? handwrittenApp(SECRET, { sweepExpired: false }) : undefined

function sessionApp(engine: SessionEngine) {
  return new Elysia().use(session({ secret: SECRET, engine, gcInterval: NO_TIMED_GC })).get('/a', ({ session }) => {
    const count = (session.intOrNull('count') ?? 0) + 1
    session.int('count', count)
    return String(count)
  })
}

const listenOn = { hostname: '127.0.0.1', port: 0 }
const sessionServer = engine ? sessionApp(engine).listen(listenOn) : undefined
const started = sessionServer ? sessionServer.server : handwritten?.app.listen(listenOn).server
if (!started) throw new Error('the server did not start')
const server = started
const signer = createCookieSigner([SECRET])

/** Stores `count` small sessions and returns the ids of `hot` of them, one every `count / hot` written. */
async function fill(count: number, hot: number): Promise<string[]> {
  const every = Math.max(1, Math.floor(count / hot))
  const hotIds: string[] = []
  const now = Date.now()
  const pick = (n: number, id: string) => {
    if (n % every === 0 && hotIds.length < hot) hotIds.push(id)
  }
  if (path) {
    const raw = new Database(path, { strict: true })
    raw.run('PRAGMA busy_timeout = 5000')
    const insert = raw.prepare('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)')
    raw.transaction(() => {
      for (let n = 0; n < count; n++) {
        const id = generateSessionId()
        insert.run(id, JSON.stringify(smallData(n)), now + HOUR)
        pick(n, id)
      }
    })()
    insert.finalize()
    raw.run('PRAGMA wal_checkpoint(TRUNCATE)')
    raw.close()
  } else if (engine) {
    for (let n = 0; n < count; n++) {
      const id = generateSessionId()
      await engine.commit(id, smallSession(n, now), now)
      pick(n, id)
    }
  } else {
    for (let n = 0; n < count; n++) {
      const id = generateSessionId()
      handwritten?.sessions.set(id, { counter: n, expiresAt: now + HOUR })
      pick(n, id)
    }
  }
  return hotIds
}

async function handle(command: ScaleServerCommand): Promise<void> {
  if (command.type === 'fill') {
    const started = performance.now()
    const hotIds = await fill(command.count, command.hot)
    const seconds = (performance.now() - started) / 1_000
    Bun.gc(true)
    const stored = engine ? await engine.count(Date.now()) : (handwritten?.sessions.size ?? 0)
    send({ type: 'filled', stored, seconds, cookies: hotIds.map((id) => `sessid=${signer.sign(id)}`) })
  } else {
    if (sessionServer) {
      // Stopping the app closes the plugin (its timers and the engine's workers) as an app's shutdown would.
      await sessionServer.stop()
      await sessionServer.decorator.sessions.close()
    } else await server.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
    send({ type: 'stopped' })
    process.exit(0)
  }
}

process.on('message', (command: ScaleServerCommand) => {
  handle(command).catch((error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  })
})
send({ type: 'ready', port: server.port! })
