/**
 * The entry of the GC worker: reopens the engine from its `reopen` recipe on a connection of its own and sweeps it
 * on a timer, so deleting many expired sessions never blocks the main thread's requests.
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import type { SessionEngine } from './engine.js'
import { createGcTimer, type GcTimer } from './gc.js'
import { type GcWorkerCommand, type GcWorkerReport, serializeError } from './gc-worker-protocol.js'

declare const self: Worker

let engine: SessionEngine | undefined
let timer: GcTimer | undefined
let stopping = false

function report(message: GcWorkerReport): void {
  self.postMessage(message)
}

/**
 * Gives this thread the lowest CPU priority, where the OS has per-thread priorities (Linux): a sweep is background
 * work, so on a busy core the thread serving requests runs first. Elsewhere the thread keeps its priority.
 */
function yieldCpuToRequests(): void {
  try {
    // /proc/thread-self names the calling thread: "<pid>/task/<tid>".
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isSafeInteger(threadId) && threadId > 0) setPriority(threadId, 19)
  } catch {
    // No /proc, or not allowed: sweeping at normal priority still works.
  }
}

async function start(command: Extract<GcWorkerCommand, { type: 'start' }>): Promise<void> {
  yieldCpuToRequests()
  try {
    const module = (await import(command.reopen.module)) as { reopenEngine?: (options: unknown) => unknown }
    if (typeof module.reopenEngine !== 'function') {
      throw new TypeError(`${command.reopen.module} does not export a reopenEngine(options) function`)
    }
    const opened = (await module.reopenEngine(command.reopen.options)) as SessionEngine
    engine = opened
    if (stopping) {
      // Stopped while it was opening: the main thread no longer waits for it.
      await opened.close()
      return
    }
    timer = createGcTimer(() => opened.deleteExpired(Date.now()), command.interval, {
      error: (_message, cause) => report({ type: 'sweep-failed', sweepId: null, error: serializeError(cause) }),
    })
    timer.start()
    report({ type: 'ready' })
  } catch (error) {
    report({ type: 'start-failed', error: serializeError(error) })
    self.onmessage = null
  }
}

async function sweep(sweepId: number): Promise<void> {
  try {
    if (!timer) throw new Error('The GC worker has no engine')
    report({ type: 'swept', sweepId, removed: await timer.runNow() })
  } catch (error) {
    report({ type: 'sweep-failed', sweepId, error: serializeError(error) })
  }
}

async function stop(): Promise<void> {
  // Without a message handler and a timer nothing keeps the worker alive, so it ends after this.
  self.onmessage = null
  stopping = true
  await timer?.stop()
  await engine?.close().catch(() => undefined)
}

self.onmessage = (event: MessageEvent<GcWorkerCommand>) => {
  const command = event.data
  if (command.type === 'start') void start(command)
  else if (command.type === 'sweep') void sweep(command.sweepId)
  else void stop()
}
