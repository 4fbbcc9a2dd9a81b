import type { RedisClient } from 'bun'
import { EngineTimeoutError, withinTimeLimit } from '../time-limit.js'
import type { RedisScript } from './scripts.js'

/** One Redis client as the engine uses it: every round trip connects first if needed, and is time-limited. */
export interface RedisConnection {
  /**
   * Runs `work` on a connected client and settles as it does, or rejects with an `EngineTimeoutError` once
   * `operationTimeout` ms have passed since the call, connecting included.
   */
  run<T>(operation: string, work: (client: RedisClient) => Promise<T>): Promise<T>
  /** Runs `script` by its SHA1 and sends its source only when the server does not know it yet. */
  runScript(operation: string, script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown>
  /** Closes the client when the engine opened it; a client passed in stays open. Calling it twice is a no-op. */
  close(): void
}

/** What `createRedisConnection` needs besides the client. */
export interface RedisConnectionParts {
  /** Whether the engine opened the client, and so may drop its connection and must close it. */
  readonly ownsClient: boolean
  readonly operationTimeout: number
  /** Where the server is, for error messages: `host:port`, or a description when unknown. */
  readonly address: string
}

/**
 * Wraps `client`. A client the engine owns has neither auto-reconnect nor offline queue (so a dead server fails a
 * call at once instead of queueing it behind endless retries): the wrapper reconnects on the next call instead, and
 * drops a connection whose server stopped answering, so one hung socket never fails every later call.
 */
export function createRedisConnection(client: RedisClient, parts: RedisConnectionParts): RedisConnection {
  const { ownsClient, operationTimeout, address } = parts
  let connecting: Promise<void> | undefined
  // Numbers each connection attempt, so a call that times out marks only the connection it was waiting on as hung.
  let connectionNumber = 0
  let hungConnection = -1
  let closed = false

  const connected = async (): Promise<RedisClient> => {
    if (ownsClient && hungConnection === connectionNumber) {
      // A call got no answer on this connection: the server or the network hangs, so start over on a new socket.
      hungConnection = -1
      connecting = undefined
      client.close()
    }
    if (!client.connected) {
      if (!connecting) {
        connectionNumber++
        const attempt: Promise<void> = client.connect().finally(() => {
          if (connecting === attempt) connecting = undefined
        })
        connecting = attempt
      }
      await connecting
    }
    return client
  }

  const run = async <T>(operation: string, work: (client: RedisClient) => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`The redis session engine is closed (${operation})`)
    let connectionInUse = connectionNumber
    const send = async (): Promise<T> => {
      const ready = connected()
      connectionInUse = connectionNumber
      return work(await ready)
    }
    const sendOnceMore = async (): Promise<T> => {
      try {
        return await send()
      } catch (error) {
        // The socket closed under this call (a restart, a cut, a hung connection dropped): once more on a new one.
        // Every command the engine sends gives the same result when run twice.
        if (closed || !isConnectionClosed(error)) throw error
        return send()
      }
    }
    try {
      return await withinTimeLimit(sendOnceMore(), operationTimeout, `Redis at ${address} (${operation})`)
    } catch (error) {
      if (error instanceof EngineTimeoutError) hungConnection = connectionInUse
      throw error
    }
  }

  return {
    run,

    runScript(operation, script, keys, args) {
      const callArgs = [String(keys.length), ...keys, ...args]
      return run(operation, async (ready) => {
        try {
          return await ready.send('EVALSHA', [script.sha, ...callArgs])
        } catch (error) {
          if (!isNoScript(error)) throw error
          // EVAL runs the script and caches it, so the next EVALSHA finds it.
          return await ready.send('EVAL', [script.source, ...callArgs])
        }
      })
    },

    close() {
      if (closed) return
      closed = true
      if (ownsClient) client.close()
    },
  }
}

/** Whether `error` is Bun's client saying the connection is closed or could not be opened. */
function isConnectionClosed(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_REDIS_CONNECTION_CLOSED'
}

/** Whether `error` is Redis saying it does not know a script's SHA1 (new server, restart or SCRIPT FLUSH). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
