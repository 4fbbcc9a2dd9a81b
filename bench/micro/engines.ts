import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { freshDatabases } from '../../test/support/mysql.js'
import { createFreshDatabase } from '../../test/support/postgres.js'

/** Where each server-backed engine connects unless its variable says otherwise (the README's test servers). */
export const SERVER_DEFAULTS = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  MYSQL_URL: 'mysql://root@127.0.0.1:3306/test',
} as const

/** An engine opened for a benchmark, on a store of its own that `cleanup` removes. */
export interface BenchEngine {
  readonly engine: SessionEngine
  cleanup(): Promise<void>
}

/** Thrown when an engine cannot be benchmarked here (its server does not answer); the message says why. */
export class EngineUnavailable extends Error {
  override readonly name = 'EngineUnavailable'
}

/** One engine the micro-benchmarks cover. */
export interface EngineCase {
  readonly name: string
  open(): Promise<BenchEngine>
}

/** A label unique to this run, for Redis prefixes and database names. */
const runLabel = `${process.pid}_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 6)}`

function serverUrl(variable: keyof typeof SERVER_DEFAULTS): string {
  return process.env[variable] || SERVER_DEFAULTS[variable]
}

/** Resolves when something accepts a TCP connection at the URL's host and port within a second. */
async function requireAnswer(url: string, defaultPort: number, variable: string): Promise<void> {
  const { hostname, port } = new URL(url)
  const host = hostname.replace(/^\[|\]$/g, '')
  const target = `${host}:${port || defaultPort}`
  const attempt = Bun.connect({ hostname: host, port: Number(port || defaultPort), socket: { data() {} } })
  const timeout = Bun.sleep(1_000).then(() => {
    throw new Error('no answer within 1 s')
  })
  try {
    const socket = await Promise.race([attempt, timeout])
    socket.end()
  } catch (error) {
    void attempt.then((socket) => socket.end()).catch(() => undefined)
    throw new EngineUnavailable(
      `no server answers at ${target} (${error instanceof Error ? error.message : String(error)}); set ${variable} to benchmark it`,
    )
  }
}

function temporaryDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `elysia-sessions-bench-${label}-`))
}

/** The engines, in the order they are benchmarked: in-process ones first, then those that need a server. */
export const ENGINE_CASES: readonly EngineCase[] = [
  {
    name: 'memory',
    async open() {
      const engine = memoryEngine()
      return { engine, cleanup: () => engine.close() }
    },
  },
  {
    name: 'sqlite',
    async open() {
      const { sqliteEngine } = await import('../../src/engines/sqlite/index.js')
      const dir = temporaryDir('sqlite')
      const engine = await sqliteEngine({ path: join(dir, 'sessions.sqlite') })
      return {
        engine,
        async cleanup() {
          await engine.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  {
    name: 'file',
    async open() {
      const { fileEngine } = await import('../../src/engines/file/index.js')
      const dir = temporaryDir('file')
      const engine = fileEngine({ dir })
      return {
        engine,
        async cleanup() {
          await engine.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  {
    name: 'redis',
    async open() {
      const url = serverUrl('REDIS_URL')
      await requireAnswer(url, 6379, 'REDIS_URL')
      const { redisEngine } = await import('../../src/engines/redis/index.js')
      const engine = await redisEngine({ url, prefix: `elysia-sessions-bench:${runLabel}:`, operationTimeout: 5_000 })
      return {
        engine,
        async cleanup() {
          await engine.deleteAll()
          await engine.close()
        },
      }
    },
  },
  {
    name: 'postgres',
    async open() {
      const url = serverUrl('DATABASE_URL')
      await requireAnswer(url, 5432, 'DATABASE_URL')
      const { postgresEngine } = await import('../../src/engines/postgres/index.js')
      const database = await createFreshDatabase(url, 'bench')
      try {
        const engine = await postgresEngine({ url: database.url })
        return {
          engine,
          async cleanup() {
            await engine.close()
            await database.drop()
          },
        }
      } catch (error) {
        await database.drop()
        throw error
      }
    },
  },
  {
    name: 'mysql',
    async open() {
      const url = serverUrl('MYSQL_URL')
      await requireAnswer(url, 3306, 'MYSQL_URL')
      const { mysqlEngine } = await import('../../src/engines/mysql/index.js')
      const databases = freshDatabases(url)
      try {
        const engine = await mysqlEngine({ url: (await databases.create()).url })
        return {
          engine,
          async cleanup() {
            await engine.close()
            await databases.dropAll()
          },
        }
      } catch (error) {
        await databases.dropAll()
        throw error
      }
    },
  },
]
