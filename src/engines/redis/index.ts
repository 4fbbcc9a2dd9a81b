import { RedisClient } from 'bun'
import type { SessionEngine } from '../../engine.js'
import { SessionConfigError, SessionEngineError } from '../../errors.js'
import { createRedisConnection } from './connection.js'
import { createRedisEngine } from './engine.js'

/** Options of `redisEngine`: give `url` or `client`, not both. */
export interface RedisEngineOptions {
  /**
   * The server's URL, such as `'redis://127.0.0.1:6379'` (also `rediss://` for TLS, and `valkey://`). The engine opens
   * its own client, connects at startup, reconnects on the next call after a failure, and closes it on `close()`.
   */
  readonly url?: string
  /**
   * An open Bun `RedisClient` shared with the app. The engine connects it when it is not connected and never closes
   * it; its own options (auto-reconnect, offline queue) decide what happens while the server is away, and
   * `operationTimeout` still bounds every call, though a call that times out stays queued on the client's connection.
   */
  readonly client?: RedisClient
  /**
   * What every key of this engine starts with. It must end with a character that no session id has (anything but
   * `A-Z a-z 0-9 _ -`), so the keys of a nested prefix such as `'sess:admin:'` are never taken for sessions.
   * @default 'sess:'
   */
  readonly prefix?: string
  /**
   * Milliseconds after which a call to Redis (connecting included) that has not settled rejects with an
   * `EngineTimeoutError`, so a request never hangs on a server that stopped answering. The call is never sent again,
   * and with `url` its connection is closed at once.
   * @default 5000
   */
  readonly operationTimeout?: number
}

/** The characters of session ids: a prefix must not end with one. */
const ID_CHARACTER = /[A-Za-z0-9_-]$/
const DEFAULT_PREFIX = 'sess:'
const DEFAULT_OPERATION_TIMEOUT = 5_000
const REDIS_PROTOCOLS = new Set(['redis:', 'rediss:', 'valkey:', 'valkeys:'])

/**
 * Stores sessions in Redis (or Valkey) through Bun's built-in client: one hash per session, expired by Redis itself
 * and refreshed without rewriting its data. Each commit is one Lua script that merges the request's changed and
 * deleted keys, so app servers sharing one Redis never lose each other's writes.
 *
 * @example
 * import { redisEngine } from 'elysia-sessions/engines/redis'
 *
 * app.use(session({ secret, engine: await redisEngine({ url: process.env.REDIS_URL! }) }))
 */
export async function redisEngine(options: RedisEngineOptions): Promise<SessionEngine> {
  const { source, prefix, operationTimeout } = checkOptions(options)
  const ownsClient = 'url' in source
  const client =
    'url' in source
      ? new RedisClient(source.url, {
          // Without retries and queue a call fails at once while the server is away; the engine reconnects on the
          // next call. The engine's time limit drops a slow connection attempt first: this is only a backstop.
          autoReconnect: false,
          enableOfflineQueue: false,
          connectionTimeout: 2 * operationTimeout,
        })
      : source.client
  const address = 'url' in source ? addressOf(source.url) : 'the client passed in'
  const connection = createRedisConnection(client, { ownsClient, operationTimeout, address })
  try {
    await connection.run('connect', async () => {})
  } catch (error) {
    connection.close()
    throw new SessionEngineError(`connect to Redis at ${address}`, error)
  }
  return createRedisEngine(connection, prefix)
}

interface CheckedOptions {
  readonly source: { readonly url: string } | { readonly client: RedisClient }
  readonly prefix: string
  readonly operationTimeout: number
}

function checkOptions(options: RedisEngineOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError("redisEngine(options) needs { url: 'redis://127.0.0.1:6379' } or { client }")
  }
  const { url, client, prefix = DEFAULT_PREFIX, operationTimeout = DEFAULT_OPERATION_TIMEOUT } = options
  if ((url === undefined) === (client === undefined)) {
    throw new SessionConfigError(
      "redisEngine needs exactly one of { url: 'redis://127.0.0.1:6379' } (a client the engine opens and closes) or { client } (a Bun RedisClient you own)",
    )
  }
  if (url !== undefined && !isRedisUrl(url)) {
    throw new SessionConfigError(
      `redisEngine({ url }) needs a redis://, rediss://, valkey:// or valkeys:// URL such as 'redis://127.0.0.1:6379', got ${JSON.stringify(url)}`,
    )
  }
  if (client !== undefined && !(client instanceof RedisClient)) {
    throw new SessionConfigError("redisEngine({ client }) needs a RedisClient from 'bun', e.g. new RedisClient(url)")
  }
  if (typeof prefix !== 'string' || prefix === '' || ID_CHARACTER.test(prefix)) {
    throw new SessionConfigError(
      `redisEngine({ prefix }) needs a non-empty string ending with a character no session id has (anything but A-Z a-z 0-9 _ -), such as 'sess:', so the keys of a nested prefix are never taken for sessions; got ${JSON.stringify(prefix)}`,
    )
  }
  if (!(Number.isSafeInteger(operationTimeout) && operationTimeout > 0)) {
    throw new SessionConfigError(
      `redisEngine({ operationTimeout }) needs a whole number of milliseconds > 0, got ${String(operationTimeout)}`,
    )
  }
  const source = url !== undefined ? { url } : { client: client as RedisClient }
  return { source, prefix, operationTimeout }
}

function isRedisUrl(url: unknown): url is string {
  if (typeof url !== 'string') return false
  try {
    return REDIS_PROTOCOLS.has(new URL(url).protocol)
  } catch {
    return false
  }
}

/** `host:port` of a URL, for messages: never its password. */
function addressOf(url: string): string {
  const { hostname, port } = new URL(url)
  return `${hostname}:${port || '6379'}`
}
