import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { SQL } from 'bun'
import { createFreshDatabase } from '../../test/support/postgres.js'
import { deleteKeysStartingWith, openRawClient } from '../../test/support/redis.js'
import type { Storage } from './types.js'

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** A row's storage for one server start: the environment that names it, and how to remove it afterwards. */
export interface PreparedStorage {
  readonly env: Record<string, string>
  cleanup(): Promise<void>
}

/** Where the server-backed rows connect, and whether those servers answered when the run started. */
export interface Services {
  readonly redisUrl: string
  readonly databaseUrl: string
  /** Why a server-backed storage cannot be used, by storage; absent when it answered. */
  readonly unavailable: Partial<Record<Storage, string>>
}

/** Checks that Redis and PostgreSQL answer at `REDIS_URL` and `DATABASE_URL` (or the defaults). */
export async function probeServices(env: Record<string, string | undefined> = process.env): Promise<Services> {
  const redisUrl = env['REDIS_URL'] || DEFAULT_REDIS_URL
  const databaseUrl = env['DATABASE_URL'] || DEFAULT_DATABASE_URL
  const unavailable: Partial<Record<Storage, string>> = {}
  try {
    const redis = await openRawClient(redisUrl)
    try {
      await redis.send('PING', [])
    } finally {
      redis.close()
    }
  } catch (error) {
    unavailable.redis = `no Redis answered at ${redisUrl} (${(error as Error).message}); set REDIS_URL`
  }
  const pg = new SQL({ url: databaseUrl, max: 1, connectionTimeout: 3 })
  try {
    await pg`select 1`
  } catch (error) {
    unavailable.postgres = `no PostgreSQL answered at ${databaseUrl} (${(error as Error).message}); set DATABASE_URL`
  } finally {
    await pg.close({ timeout: 0 }).catch(() => {})
  }
  return { redisUrl, databaseUrl, unavailable }
}

let counter = 0

/**
 * Makes fresh storage for one server start: a temporary SQLite file or folder under `tmp`, a unique Redis key prefix,
 * or a new PostgreSQL database; each is removed by `cleanup`.
 */
export async function prepareStorage(storage: Storage, tmp: string, services: Services): Promise<PreparedStorage> {
  const unique = `${process.pid}_${Date.now().toString(36)}_${counter++}`
  switch (storage) {
    case 'none':
    case 'memory':
    case 'cookie':
      return { env: {}, cleanup: async () => {} }
    case 'sqlite': {
      const path = join(tmp, `sessions-${unique}.sqlite`)
      return {
        env: { SESSIONS_PATH: path },
        cleanup: async () => {
          for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true })
        },
      }
    }
    case 'file': {
      const dir = join(tmp, `sessions-${unique}`)
      return { env: { SESSIONS_PATH: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
    }
    case 'redis': {
      const prefix = `elysia-sessions-bench:${unique}:`
      return {
        env: { REDIS_URL: services.redisUrl, REDIS_PREFIX: prefix },
        cleanup: () => deleteRedisPrefix(services.redisUrl, prefix),
      }
    }
    case 'postgres': {
      const database = await createFreshDatabase(services.databaseUrl, 'bench')
      return { env: { DATABASE_URL: database.url }, cleanup: () => database.drop() }
    }
  }
}

async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = await openRawClient(redisUrl)
  try {
    await deleteKeysStartingWith(redis, prefix)
  } finally {
    redis.close()
  }
}
