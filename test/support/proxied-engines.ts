import type { SessionEngine } from 'elysia-sessions'
import { mysqlEngine } from 'elysia-sessions/engines/mysql'
import { postgresEngine } from 'elysia-sessions/engines/postgres'
import { redisEngine } from 'elysia-sessions/engines/redis'
import { freshDatabases } from './mysql.js'
import { createFreshDatabase, urlWithPort } from './postgres.js'
import { uniquePrefix } from './redis.js'

/** A store of a test's own on a networked server, with an engine on it that reaches the server through a proxy. */
export interface ProxiedStore {
  /** The engine through the proxy. */
  readonly engine: SessionEngine
  /** Opens another engine on the same store that connects to the server directly; `close` closes it too. */
  openDirect(): Promise<SessionEngine>
  /** Closes every engine on the store and removes the store. */
  close(): Promise<void>
}

/** What a store is opened with. */
export interface ProxiedStoreOptions {
  /** Names the store (Redis prefix, database name), so a leftover tells which test made it. */
  readonly label: string
  /** The `operationTimeout` of the engine through the proxy, in ms. */
  readonly operationTimeout: number
}

/** How an engine of each networked kind is opened through a proxy to its server. */
export interface ProxiedEngineKind {
  readonly name: string
  readonly variable: 'REDIS_URL' | 'DATABASE_URL' | 'MYSQL_URL'
  /** Prepares a fresh store on the server at `url` and opens an engine on it through the proxy listening on `port`. */
  open(url: string, port: number, options: ProxiedStoreOptions): Promise<ProxiedStore>
}

/** The `operationTimeout` of the engines opened directly, which check the store: long, for a busy machine. */
const DIRECT_OPERATION_TIMEOUT = 5_000

/** Closes the engines `openDirect` opened, then the one through the proxy, then runs `remove`. */
function storeOf(
  engine: SessionEngine,
  openDirect: () => Promise<SessionEngine>,
  remove: () => Promise<void>,
): ProxiedStore {
  const direct: SessionEngine[] = []
  return {
    engine,
    async openDirect() {
      const opened = await openDirect()
      direct.push(opened)
      return opened
    },
    async close() {
      await Promise.all(direct.splice(0).map((opened) => opened.close()))
      await engine.close()
      await remove()
    },
  }
}

/** Redis, PostgreSQL and MySQL, each on the server its variable names. */
export const PROXIED_ENGINES: readonly ProxiedEngineKind[] = [
  {
    name: 'Redis',
    variable: 'REDIS_URL',
    async open(url, port, { label, operationTimeout }) {
      const prefix = uniquePrefix(label)
      const engine = await redisEngine({ url: urlWithPort(url, port), prefix, operationTimeout })
      const openDirect = () => redisEngine({ url, prefix, operationTimeout: DIRECT_OPERATION_TIMEOUT })
      // Removing the keys needs an open engine: one opened directly, whatever the proxy's state.
      const removeKeys = async () => {
        const cleaner = await openDirect()
        try {
          await cleaner.deleteAll()
        } finally {
          await cleaner.close()
        }
      }
      return storeOf(engine, openDirect, removeKeys)
    },
  },
  {
    name: 'PostgreSQL',
    variable: 'DATABASE_URL',
    async open(url, port, { label, operationTimeout }) {
      const database = await createFreshDatabase(url, label)
      const engine = await postgresEngine({ url: urlWithPort(database.url, port), operationTimeout })
      return storeOf(
        engine,
        () => postgresEngine({ url: database.url, operationTimeout: DIRECT_OPERATION_TIMEOUT }),
        () => database.drop(),
      )
    },
  },
  {
    name: 'MySQL',
    variable: 'MYSQL_URL',
    async open(url, port, { operationTimeout }) {
      const databases = freshDatabases(url)
      const database = await databases.create()
      const engine = await mysqlEngine({ url: database.urlThrough(port), operationTimeout })
      return storeOf(
        engine,
        () => mysqlEngine({ url: database.url, operationTimeout: DIRECT_OPERATION_TIMEOUT }),
        () => databases.dropAll(),
      )
    },
  },
]
