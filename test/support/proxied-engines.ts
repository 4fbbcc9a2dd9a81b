import { SQL } from 'bun'
import type { SessionEngine } from 'elysia-sessions'
import { mysqlEngine } from 'elysia-sessions/engines/mysql'
import { postgresEngine } from 'elysia-sessions/engines/postgres'
import { redisEngine } from 'elysia-sessions/engines/redis'
import { createPool } from 'mysql2/promise'
import { type ConnectionWaits, countWaits } from './connection-waits.js'
import { freshDatabases } from './mysql.js'
import { createFreshDatabase, urlWithPort } from './postgres.js'
import { uniquePrefix } from './redis.js'
import type { TcpProxy } from './tcp-proxy.js'

/** A store of a test's own on a networked server, with an engine on it that reaches the server through a proxy. */
export interface ProxiedStore {
  /** The engine through the proxy. */
  readonly engine: SessionEngine
  /** The waits for a connection of the engine's pool, when opened with `countWaits`; otherwise undefined. */
  readonly waits: ConnectionWaits | undefined
  /** Opens another engine on the same store that connects to the server directly; `close` closes it too. */
  openDirect(): Promise<SessionEngine>
  /** Closes every engine on the store and removes the store, even when closing an engine fails. */
  close(): Promise<void>
}

/** What a store is opened with. */
export interface ProxiedStoreOptions {
  /** Names the store (Redis prefix, database name), so a leftover tells which test made it. */
  readonly label: string
  /** The `operationTimeout` of the engine through the proxy, in ms. */
  readonly operationTimeout: number
  /**
   * Opens the engine through the proxy on a pool of the test's own, of `POOL_SIZE` connections and otherwise as the
   * engine opens its own from a URL, and counts the waits for a connection the pool is asked for. Redis has no pool:
   * its engine is opened as usual and `waits` stays undefined.
   */
  readonly countWaits?: boolean
}

/** How an engine of each networked kind is opened through a proxy to its server. */
export interface ProxiedEngineKind {
  readonly name: string
  readonly variable: 'REDIS_URL' | 'DATABASE_URL' | 'MYSQL_URL'
  /** Prepares a fresh store on the server at `url` and opens an engine on it through the proxy listening on `port`. */
  open(url: string, port: number, options: ProxiedStoreOptions): Promise<ProxiedStore>
}

/** The connections of a pool opened with `countWaits`: the engines' own pools' size. */
export const POOL_SIZE = 10

/** The `operationTimeout` of the engines opened directly, which check the store: long, for a busy machine. */
const DIRECT_OPERATION_TIMEOUT = 5_000

/** What an engine kind's `open` made, for `storeOf`. */
interface StoreParts {
  readonly engine: SessionEngine
  readonly waits?: ConnectionWaits
  openDirect(): Promise<SessionEngine>
  /** Removes the store, and ends what the engine was opened on. */
  remove(): Promise<void>
}

/** Closes the engine through the proxy and those `openDirect` opened, then runs `remove`, whatever failed. */
function storeOf({ engine, waits, openDirect, remove }: StoreParts): ProxiedStore {
  const direct: SessionEngine[] = []
  return {
    engine,
    waits,
    async openDirect() {
      const opened = await openDirect()
      direct.push(opened)
      return opened
    },
    async close() {
      try {
        const closed = await Promise.allSettled([...direct.splice(0), engine].map((opened) => opened.close()))
        const failed = closed.find((result) => result.status === 'rejected')
        if (failed) throw failed.reason
      } finally {
        await remove()
      }
    },
  }
}

/** Runs `open`; when it fails, runs `remove` before passing the failure on. */
async function orRemove<T>(open: () => Promise<T>, remove: () => Promise<void>): Promise<T> {
  try {
    return await open()
  } catch (error) {
    await remove()
    throw error
  }
}

/** Redis, PostgreSQL and MySQL, each on the server its variable names. */
export const PROXIED_ENGINES: readonly ProxiedEngineKind[] = [
  {
    name: 'Redis',
    variable: 'REDIS_URL',
    async open(url, port, { label, operationTimeout }) {
      const prefix = uniquePrefix(label)
      const openDirect = () => redisEngine({ url, prefix, operationTimeout: DIRECT_OPERATION_TIMEOUT })
      // Removing the keys needs an open engine: one opened directly, whatever the proxy's state.
      const remove = async () => {
        const cleaner = await openDirect()
        try {
          await cleaner.deleteAll()
        } finally {
          await cleaner.close()
        }
      }
      const engine = await redisEngine({ url: urlWithPort(url, port), prefix, operationTimeout })
      return storeOf({ engine, openDirect, remove })
    },
  },
  {
    name: 'PostgreSQL',
    variable: 'DATABASE_URL',
    async open(url, port, { label, operationTimeout, countWaits: counted }) {
      const database = await createFreshDatabase(url, label)
      const proxiedUrl = urlWithPort(database.url, port)
      // As the engine opens its own pool from a URL: connection attempts given up after twice operationTimeout.
      const client = counted
        ? new SQL({
            url: proxiedUrl,
            database: database.name,
            max: POOL_SIZE,
            connectionTimeout: (2 * operationTimeout) / 1_000,
          })
        : undefined
      const remove = async () => {
        try {
          await client?.close({ timeout: 0 })
        } finally {
          await database.drop()
        }
      }
      const waits = client && countWaits(client, 'reserve')
      const engine = await orRemove(
        () =>
          postgresEngine(
            client ? { database: client, migrate: true, operationTimeout } : { url: proxiedUrl, operationTimeout },
          ),
        remove,
      )
      return storeOf({
        engine,
        ...(waits && { waits }),
        openDirect: () => postgresEngine({ url: database.url, operationTimeout: DIRECT_OPERATION_TIMEOUT }),
        remove,
      })
    },
  },
  {
    name: 'MySQL',
    variable: 'MYSQL_URL',
    async open(url, port, { label, operationTimeout, countWaits: counted }) {
      const databases = freshDatabases(url)
      const database = await orRemove(() => databases.create(label), databases.dropAll)
      const proxiedUrl = database.urlThrough(port)
      // As the engine opens its own pool from a URL: a connect timeout a second above operationTimeout, keep-alive.
      const pool = counted
        ? createPool({
            uri: proxiedUrl,
            connectionLimit: POOL_SIZE,
            maxIdle: POOL_SIZE,
            connectTimeout: operationTimeout + 1_000,
            enableKeepAlive: true,
            keepAliveInitialDelay: 10_000,
          })
        : undefined
      const remove = async () => {
        try {
          await pool?.end()
        } finally {
          await databases.dropAll()
        }
      }
      const waits = pool && countWaits(pool, 'getConnection')
      const engine = await orRemove(
        () =>
          mysqlEngine(
            pool ? { database: pool, migrate: true, operationTimeout } : { url: proxiedUrl, operationTimeout },
          ),
        remove,
      )
      return storeOf({
        engine,
        ...(waits && { waits }),
        openDirect: () => mysqlEngine({ url: database.url, operationTimeout: DIRECT_OPERATION_TIMEOUT }),
        remove,
      })
    },
  },
]

/**
 * Heals `proxy`, closes `store` and stops `proxy`, each even when a step before it failed; either may be undefined
 * (a `beforeAll` that failed half-way). For `afterAll`.
 */
export async function closeProxiedStore(proxy: TcpProxy | undefined, store: ProxiedStore | undefined): Promise<void> {
  try {
    await proxy?.restore()
  } finally {
    try {
      await store?.close()
    } finally {
      await proxy?.close()
    }
  }
}
