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
  /**
   * The worker could not start, threw, or ended without being asked to; `reason` says which, naming the worker. Never
   * called for a worker `retireWorker` or `stopWorker` ended.
   */
  onFailure(reason: string, cause: unknown): void
}

/** Workers ended on purpose: their errors and their end are no failure. */
const retired = new WeakSet<Worker>()

/**
 * Starts `name`, a worker on `entry`, and sends it `open`. It starts unreferenced: an idle worker never keeps the
 * process alive. When it cannot start, none is left behind, `listener.onFailure` is told at once and the result is
 * undefined.
 */
export function startWorker<Command, Report>(
  name: string,
  entry: string,
  open: Command,
  listener: WorkerListener<Report>,
): Worker | undefined {
  let worker: Worker | undefined
  try {
    const started = new Worker(entry)
    worker = started
    started.unref()
    started.onmessage = (event: MessageEvent<Report>) => listener.onReport(event.data)
    const fail = (what: string, cause: unknown) => {
      if (!retired.has(started)) listener.onFailure(`${name} ${what}`, cause)
    }
    started.onerror = (event: ErrorEvent) => fail('failed', event.error ?? new Error(event.message))
    started.addEventListener('close', () => fail('exited', new Error(`${name} exited`)))
    started.postMessage(open)
    return started
  } catch (error) {
    if (worker) retireWorker(worker)
    listener.onFailure(`${name} could not start`, error)
    return undefined
  }
}

/** Terminates `worker` at once; what it does from now on is no failure. */
export function retireWorker(worker: Worker): void {
  retired.add(worker)
  worker.terminate()
}

/**
 * Sends `worker` its `stop` command and waits until it has ended, terminating it when it takes longer than a few
 * seconds. Referenced meanwhile: an app that awaits close() on shutdown must not exit half-way.
 */
export async function stopWorker<Command>(worker: Worker, stop: Command): Promise<void> {
  retired.add(worker)
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
