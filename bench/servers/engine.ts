/**
 * The engine a benchmark server stores its sessions in, named by `name` (memory, sqlite, file, redis or postgres) and
 * configured from the environment: SESSIONS_PATH is the SQLite file or the file engine's folder, REDIS_URL with
 * REDIS_PREFIX and DATABASE_URL name the servers.
 */
import type { SessionEngine } from '../../src/engine.js'
import { fileEngine } from '../../src/engines/file/index.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { postgresEngine } from '../../src/engines/postgres/index.js'
import { redisEngine } from '../../src/engines/redis/index.js'
import { sqliteEngine } from '../../src/engines/sqlite/index.js'

function required(name: string, engine: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} must be set for ENGINE=${engine}`)
  return value
}

export async function openEngine(name: string | undefined): Promise<SessionEngine> {
  switch (name) {
    case 'memory':
      return memoryEngine()
    case 'sqlite':
      return sqliteEngine({ path: required('SESSIONS_PATH', name) })
    case 'file':
      return fileEngine({ dir: required('SESSIONS_PATH', name) })
    case 'redis':
      return redisEngine({ url: required('REDIS_URL', name), prefix: required('REDIS_PREFIX', name) })
    case 'postgres':
      return postgresEngine({ url: required('DATABASE_URL', name) })
    default:
      throw new Error(`ENGINE must be memory, sqlite, file, redis or postgres, not ${name}`)
  }
}
