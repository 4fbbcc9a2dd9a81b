import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { openRawClient } from './redis.js'

/** A `redis-server` of a test's own, on a free loopback port, with its data in a temporary directory. */
export interface OwnRedisServer {
  readonly port: number
  readonly url: string
  /** Kills the server with SIGKILL, as a crash would, and resolves once it has exited. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory; resolves to the `performance.now()` time it first answered PING. */
  start(): Promise<number>
  /** Kills the server if it runs and removes its directory. Calling it twice is a no-op. */
  dispose(): Promise<void>
}

/** How long a server gets to answer PING after it was started. */
const START_LIMIT = 10_000
/** How many free ports are tried when another process takes the one found first. */
const PORT_ATTEMPTS = 5

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with an append-only file synced before every reply
 * (`appendfsync always`), so every write it acknowledged survives a SIGKILL, and no RDB snapshots.
 */
export async function startOwnRedisServer(): Promise<OwnRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-redis-'))
  let child: Subprocess | undefined
  const killOnExit = () => child?.kill('SIGKILL')
  process.on('exit', killOnExit)

  const spawnOn = async (port: number): Promise<number | undefined> => {
    child = Bun.spawn(
      [
        'redis-server',
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', 'redis.log'],
        ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
      ],
      { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
    )
    return answersPing(child, port)
  }

  let port = 0
  for (let attempt = 1; port === 0; attempt++) {
    const free = await freePort()
    if ((await spawnOn(free)) !== undefined) port = free
    else if (attempt >= PORT_ATTEMPTS) {
      const log = logOf(dir)
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server did not start; its log:\n${log}`)
    }
  }

  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await child.exited
  }
  let disposed = false
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async start() {
      const answeredAt = await spawnOn(port)
      if (answeredAt === undefined) throw new Error(`redis-server did not start again; its log:\n${logOf(dir)}`)
      return answeredAt
    },
    async dispose() {
      if (disposed) return
      disposed = true
      await kill()
      process.off('exit', killOnExit)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Polls `port` with PING until it answers (the time it did) or `child` exits or the start limit passes (undefined). */
async function answersPing(child: Subprocess, port: number): Promise<number | undefined> {
  const deadline = performance.now() + START_LIMIT
  while (child.exitCode === null && performance.now() < deadline) {
    try {
      const client = await openRawClient(`redis://127.0.0.1:${port}`)
      try {
        if ((await client.send('PING', [])) === 'PONG') return performance.now()
      } finally {
        client.close()
      }
    } catch {
      // Not listening yet, or still loading its append-only file.
    }
    await Bun.sleep(10)
  }
  if (child.exitCode === null) child.kill('SIGKILL')
  await child.exited
  return undefined
}

/**
 * Ports below Linux's ephemeral range (32768–60999 by default), from which outgoing connections take their local port:
 * while the server is down, one could take its port and keep it from starting again.
 */
const PORTS = { first: 20_000, count: 10_000 }

/** A random loopback port of `PORTS` that nobody listened on a moment ago; another is drawn while one is taken. */
async function freePort(): Promise<number> {
  for (let draw = 0; draw < 100; draw++) {
    const port = PORTS.first + Math.floor(Math.random() * PORTS.count)
    if (await canListenOn(port)) return port
  }
  throw new Error(`no free port among 100 drawn from ${PORTS.first}–${PORTS.first + PORTS.count - 1}`)
}

/** Whether a server could listen on `port` of 127.0.0.1 just now. */
function canListenOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

function logOf(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8').slice(-2_000)
  } catch {
    return '(no log)'
  }
}
