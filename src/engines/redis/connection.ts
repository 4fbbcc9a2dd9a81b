import type { RedisClient } from 'bun'
import { withinTimeLimit } from '../time-limit.js'
import type { RedisScript } from './scripts.js'

/** One Redis client as the engine uses it: every round trip connects first if needed, and is time-limited. */
export interface RedisConnection {
  /**
   * Runs `work` on a connected client and settles as it does, or rejects with an `EngineTimeoutError` once
   * `operationTimeout` ms have passed since the call, connecting included. `signal` aborts at that moment: `work`
   * must then send nothing more.
   */
  run<T>(operation: string, work: (client: RedisClient, signal: AbortSignal) => Promise<T>): Promise<T>
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
 * Wraps `client`. A call that times out is abandoned: it is never sent again, and when the engine owns the client it
 * closes the connection the call was waiting on at once, so the next call reconnects, and the other calls stuck on
 * that connection wait out their own time limit rather than being sent again after later ones. A call whose
 * connection closed by itself (a restart, a cut) is sent once more on a new one. A client the engine owns has neither
 * auto-reconnect nor offline queue, so a dead server fails a call at once instead of queueing it behind endless
 * retries. A client passed in is never closed: a call that timed out on it stays queued on its connection, and runs,
 * if ever, before the calls sent after it.
 */
export function createRedisConnection(client: RedisClient, parts: RedisConnectionParts): RedisConnection {
  const { ownsClient, operationTimeout, address } = parts
  let connecting: Promise<void> | undefined
  // Numbers each connection attempt, so a call that times out drops only the connection it was waiting on.
  let connectionNumber = 0
  // The last connection dropped because it hung; none yet (a client passed in connected already is number 0).
  let droppedConnection = -1
  let closed = false

  const connected = async (): Promise<RedisClient> => {
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

  /** Closes connection `number`, if it is still the current one, because a call on it got no answer. */
  const drop = (number: number) => {
    if (!ownsClient || closed || number !== connectionNumber) return
    droppedConnection = number
    connecting = undefined
    client.close()
  }

  const run = <T>(operation: string, work: (client: RedisClient, signal: AbortSignal) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error(`The redis session engine is closed (${operation})`))
    return withinTimeLimit(
      async (signal) => {
        let connectionInUse = connectionNumber
        signal.addEventListener('abort', () => drop(connectionInUse), { once: true })
        const send = async (): Promise<T> => {
          // Connected, the usual case: sent in this tick, so Bun pipelines it with the calls of the same tick.
          if (client.connected && !connecting) {
            connectionInUse = connectionNumber
            return work(client, signal)
          }
          const ready = connected()
          connectionInUse = connectionNumber
          return work(await ready, signal)
        }
        try {
          return await send()
        } catch (error) {
          if (closed || signal.aborted || !isConnectionClosed(error)) throw error
          // Dropped because it hung: what this call sent may still reach Redis one day, so it is never sent again.
          if (connectionInUse === droppedConnection) return await timeLimitOf(signal)
          // The socket closed by itself (a restart, a cut): once more on a new one. Every command the engine sends
          // gives the same result when run twice.
          return await send()
        }
      },
      operationTimeout,
      `Redis at ${address} (${operation})`,
    )
  }

  return {
    run,

    runScript(operation, script, keys, args) {
      const callArgs = [String(keys.length), ...keys, ...args]
      return run(operation, async (ready, signal) => {
        try {
          return await ready.send('EVALSHA', [script.sha, ...callArgs])
        } catch (error) {
          if (!isNoScript(error)) throw error
          signal.throwIfAborted()
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

/** Rejects when `signal` aborts, with its reason: for a call whose answer can no longer come. */
function timeLimitOf(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
}

/** Whether `error` is Bun's client saying the connection is closed or could not be opened. */
function isConnectionClosed(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_REDIS_CONNECTION_CLOSED'
}

/** Whether `error` is Redis saying it does not know a script's SHA1 (new server, restart or SCRIPT FLUSH). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
