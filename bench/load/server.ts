import type { Subprocess } from 'bun'

/** A benchmark server started by `startServer`. */
export interface RunningServer {
  readonly url: string
  readonly pid: number
  /** The last lines the server wrote, for error messages. */
  output(): string
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000

/**
 * Starts `command` pinned to `core` with `taskset` and waits for its `listening <port>` line. Its output is drained
 * all the time (a full pipe would stall the server) and the last few kilobytes kept for errors.
 */
export async function startServer(
  command: readonly string[],
  env: Record<string, string>,
  core: number,
): Promise<RunningServer> {
  const proc = Bun.spawn(['taskset', '-c', String(core), ...command], {
    env: { ...process.env, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let tail = ''
  let port: number | undefined
  let announced: () => void = () => {}
  const listening = new Promise<void>((resolve) => {
    announced = resolve
  })
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) {
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000)
      if (port === undefined) {
        const match = /listening (\d+)/.exec(tail)
        if (match) {
          port = Number(match[1])
          announced()
        }
      }
    }
  }
  void drain(proc.stdout)
  void drain(proc.stderr)

  const outcome = await Promise.race([
    listening.then(() => 'listening' as const),
    proc.exited.then(() => 'exited' as const),
    Bun.sleep(START_TIMEOUT_MS).then(() => 'timeout' as const),
  ])
  if (outcome !== 'listening') {
    await stopProcess(proc)
    throw new Error(`${command.join(' ')} ${outcome === 'exited' ? 'exited' : 'did not start in time'}:\n${tail}`)
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    output: () => tail,
    stop: () => stopProcess(proc),
  }
}

async function stopProcess(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  proc.kill('SIGTERM')
  const stopped = await Promise.race([proc.exited.then(() => true), Bun.sleep(STOP_TIMEOUT_MS).then(() => false)])
  if (!stopped) {
    proc.kill('SIGKILL')
    await proc.exited
  }
}
