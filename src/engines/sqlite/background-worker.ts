import { extname } from 'node:path'

/** How long `stopWorker` waits for a worker to close its connection before terminating it. */
const STOP_GRACE = 5_000

/** The worker entry `name` next to this module, with its extension: `.ts` from source, `.js` from the built package. */
export function workerEntry(name: string): string {
  return new URL(`./${name}${extname(new URL(import.meta.url).pathname)}`, import.meta.url).href
}

/** What a started worker tells the thread that started it. */
export interface WorkerListener<Report> {
  onReport(report: Report): void
  /** The worker threw, or ended without being asked to; `cause` says why. */
  onFailure(what: 'failed' | 'exited', cause: unknown): void
}

/**
 * Starts `name`, a worker on `entry`, and sends it `open`. It starts unreferenced: an idle worker never keeps the
 * process alive. Throws when the worker cannot be started, leaving none behind.
 */
export function startWorker<Command, Report>(
  name: string,
  entry: string,
  open: Command,
  listener: WorkerListener<Report>,
): Worker {
  const worker = new Worker(entry)
  try {
    worker.unref()
    worker.onmessage = (event: MessageEvent<Report>) => listener.onReport(event.data)
    worker.onerror = (event: ErrorEvent) => listener.onFailure('failed', event.error ?? new Error(event.message))
    worker.addEventListener('close', () => listener.onFailure('exited', new Error(`${name} exited`)))
    worker.postMessage(open)
  } catch (error) {
    worker.terminate()
    throw error
  }
  return worker
}

/**
 * Sends `worker` its `stop` command and waits until it has ended, terminating it when it takes longer than a few
 * seconds. Referenced meanwhile: an app that awaits close() on shutdown must not exit half-way.
 */
export async function stopWorker<Command>(worker: Worker, stop: Command): Promise<void> {
  worker.ref()
  const closed = new Promise<void>((resolve) => {
    const giveUp = setTimeout(() => {
      worker.terminate()
      resolve()
    }, STOP_GRACE)
    worker.addEventListener('close', () => {
      clearTimeout(giveUp)
      resolve()
    })
  })
  worker.postMessage(stop)
  await closed
}
