/** The secret every benchmark server signs with; the runner passes it, so all rows share one. */
export function benchSecret(): string {
  const secret = process.env['SESSION_SECRET']
  if (!secret || secret.length < 32) throw new Error('SESSION_SECRET (32+ characters) must be set by bench/run.ts')
  return secret
}

/** The part of an Elysia app `serve` uses. */
export interface ListeningApp {
  listen(options: { port: number; hostname: string }): unknown
  stop(): Promise<unknown>
  readonly server: { readonly port?: number | undefined } | null
}

/**
 * Starts `app` on a free port of 127.0.0.1 and prints `listening <port>`, the line the runner waits for. On SIGTERM or
 * SIGINT it stops the server, then runs `close` (closing the engine) before exiting.
 */
export function serve(app: ListeningApp, close: () => Promise<void> = async () => {}): void {
  app.listen({ port: 0, hostname: '127.0.0.1' })
  console.log(`listening ${app.server?.port}`)
  let stopping = false
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, async () => {
      if (stopping) return
      stopping = true
      await app.stop()
      await close()
      process.exit(0)
    })
  }
}
