import type { Subprocess } from 'bun'

/** A child process driven over Bun's IPC channel: commands go in, typed reports come back in order. */
export class IpcChild<Command> {
  readonly #process: Subprocess
  readonly #queue: { type: string }[] = []
  #waiter: (() => void) | undefined
  #exitCode: number | null = null

  constructor(cmd: string[]) {
    this.#process = Bun.spawn({
      cmd,
      stdout: 'ignore',
      stderr: 'inherit',
      serialization: 'json',
      ipc: (message: { type: string }) => {
        this.#queue.push(message)
        this.#waiter?.()
      },
    })
    void this.#process.exited.then((code) => {
      this.#exitCode = code
      this.#waiter?.()
    })
  }

  send(command: Command): void {
    this.#process.send(command)
  }

  /** The next report of `type`, skipping none: a report of another type, a `failed` report or an exit throws. */
  async next(type: string, timeout: number): Promise<unknown> {
    const deadline = performance.now() + timeout
    for (;;) {
      const message = this.#queue.shift()
      if (message) {
        if (message.type === type) return message
        throw new Error(`expected a ${type} report from the child, got ${JSON.stringify(message)}`)
      }
      if (this.#exitCode !== null)
        throw new Error(`the child exited with code ${this.#exitCode} before its ${type} report`)
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`no ${type} report from the child within ${timeout} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#waiter = undefined
    }
  }

  /** Waits for the child to exit, killing it after `timeout` ms. */
  async exited(timeout: number): Promise<number> {
    const timer = setTimeout(() => this.#process.kill(), timeout)
    try {
      return await this.#process.exited
    } finally {
      clearTimeout(timer)
    }
  }

  kill(): void {
    this.#process.kill()
  }
}
