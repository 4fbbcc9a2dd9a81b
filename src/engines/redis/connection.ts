import type { RedisClient } from 'bun'
import { closedError } from '../closed-error.js'
import { EngineTimeoutError, WatchedCall } from '../deadlines.js'
import { createTurnQueue, type QueuedCall } from '../turn-queue.js'
import type { RedisScript } from './scripts.js'

/** What a call's work may ask about the call it runs for. */
export interface RedisCall {
  /** True once the call has timed out: its work is abandoned and must send nothing more. */
  readonly timedOut: boolean
}

/** Sends commands for one call on a connected client and settles with the call's answer. */
export type RedisWork<T> = (client: RedisClient, call: RedisCall) => Promise<T>

/** One Redis client as the engine uses it: every round trip connects first if needed, and is time-limited. */
export interface RedisConnection {
  /**
   * Runs `work` on a connected client and settles as it does, or rejects with an `EngineTimeoutError` once
   * `operationTimeout` ms have passed since the call, connecting included. The call then counts as timed out: `work`
   * must send nothing more. The first commands of the calls made in one event-loop turn are written together, in the
   * order the calls were made (a script the server had not cached is sent again after its NOSCRIPT reply).
   */
  run<T>(operation: string, work: RedisWork<T>): Promise<T>
  /** Runs `script` on `key` by its SHA1 and sends its source only when the server does not know it yet. */
  runScript(operation: string, script: RedisScript, key: string, args: readonly string[]): Promise<unknown>
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

/** One call of `run`, from the moment it is made until it settles or times out. */
class PendingCall extends WatchedCall<unknown> implements RedisCall, QueuedCall {
  timedOut = false
  /** Whether it was sent once more after its connection closed under it. */
  resent = false
  /** The connection the call was sent on (or is waiting for). */
  connection: number

  constructor(
    readonly operation: string,
    readonly work: RedisWork<unknown>,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    deadline: number,
    connection: number,
    /** Abandons the call's work at its deadline and returns the error to reject it with. */
    readonly abandon: (call: PendingCall) => unknown,
  ) {
    super(deadline, resolve, reject)
    this.connection = connection
  }

  expire(): void {
    if (this.finished) return
    this.timedOut = true
    this.expireWith(() => this.abandon(this))
  }
}

/**
 * Wraps `client`. Calls made in one event-loop turn wait for the end of that turn and are then written together, so
 * Redis and the app read and write one packet for many calls, not one each. A call that times out is abandoned: it
 * is never sent again, and when the engine owns the client it closes the connection the call was waiting on at once,
 * so the next call reconnects, and the other calls stuck on that connection wait out their own time limit rather than
 * being sent again after later ones. A call whose connection closed by itself (a restart, a cut) is sent once more on
 * a new one. A client the engine owns has neither auto-reconnect nor offline queue, so a dead server fails a call at
 * once instead of queueing it behind endless retries. A client passed in is never closed: a call that timed out on it
 * stays queued on its connection, and runs, if ever, before the calls sent after it.
 */
export function createRedisConnection(client: RedisClient, parts: RedisConnectionParts): RedisConnection {
  const { ownsClient, operationTimeout, address } = parts
  let connecting: Promise<void> | undefined
  // Numbers each connection attempt, so a call that times out drops only the connection it was waiting on.
  let connectionNumber = 0
  // The last connection dropped because it hung; none yet (a client passed in connected already is number 0).
  let droppedConnection = -1
  let closed = false

  /** Opens a connection, or joins the attempt under way. */
  const connected = (): Promise<void> => {
    if (!connecting) {
      connectionNumber++
      const attempt: Promise<void> = client.connect().finally(() => {
        if (connecting === attempt) connecting = undefined
      })
      connecting = attempt
    }
    return connecting
  }

  /** Closes connection `number`, if it is still the current one, because a call on it got no answer. */
  const drop = (number: number) => {
    if (!ownsClient || closed || number !== connectionNumber) return
    droppedConnection = number
    connecting = undefined
    client.close()
  }

  const abandon = (call: PendingCall) => {
    // Dropped before the caller hears of it, so nothing the call sent can take effect after it has been told so.
    drop(call.connection)
    return new EngineTimeoutError(`Redis at ${address} (${call.operation}) got no answer within ${operationTimeout} ms`)
  }

  const send = (call: PendingCall) => {
    call.connection = connectionNumber
    let answer: Promise<unknown>
    try {
      answer = call.work(client, call)
    } catch (error) {
      // A work function that throws at once settles the call like one that rejects.
      answer = Promise.reject(error)
    }
    answer.then(
      (value) => call.resolve(value),
      (error: unknown) => failed(call, error),
    )
  }

  /** Sends `call` once the client is connected, unless it timed out meanwhile. */
  const connectThenSend = (call: PendingCall) => {
    if (client.connected) return send(call)
    const ready = connected()
    call.connection = connectionNumber
    ready.then(
      () => {
        if (!call.finished) send(call)
      },
      (error: unknown) => failed(call, error),
    )
  }

  const failed = (call: PendingCall, error: unknown) => {
    if (call.finished) return
    if (closed || !isConnectionClosed(error) || call.resent) return call.reject(error)
    // Dropped because it hung: what this call sent may still reach Redis one day, so it is never sent again; the call
    // waits out its time limit.
    if (call.connection === droppedConnection) return
    // The socket closed by itself (a restart, a cut): once more on a new one, with the next turn's calls. Every
    // command the engine sends gives the same result when run twice.
    call.resent = true
    queue.giveBack([call])
  }

  // The calls made in one event-loop turn, sent together at its end.
  const queue = createTurnQueue<PendingCall>((calls) => {
    for (const call of calls) connectThenSend(call)
    return undefined
  })

  const run = <T>(operation: string, work: RedisWork<T>): Promise<T> => {
    if (closed) return Promise.reject(closedError('redis', operation))
    return new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + operationTimeout
      const settle = resolve as (value: unknown) => void
      const call = new PendingCall(operation, work, settle, reject, deadline, connectionNumber, abandon)
      queue.add(call)
    })
  }

  return {
    run,

    runScript(operation, script, key, args) {
      return run(operation, (ready, call) =>
        ready.send('EVALSHA', [script.sha, '1', key, ...args]).catch((error: unknown) => {
          if (!isNoScript(error) || call.timedOut) throw error
          // EVAL runs the script and caches it, so the next EVALSHA finds it.
          return ready.send('EVAL', [script.source, '1', key, ...args])
        }),
      )
    },

    close() {
      if (closed) return
      closed = true
      // Calls still waiting for the end of this turn are refused rather than sent after close.
      queue.refuse((call) => closedError('redis', call.operation))
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
