// What the peers share: listening on a free port of 127.0.0.1 and telling the runner which, stopping on a signal, and
// a touch throttled like elysia-sessions' own.

/** Prints `listening <port>` once `server` listens, and closes it (then calls `close`) on SIGTERM or SIGINT. */
export function serve(server, close = () => {}) {
  server.on('listening', () => console.log(`listening ${server.address().port}`))
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      server.closeAllConnections?.()
      server.close(() => {
        close()
        process.exit(0)
      })
    })
  }
}

/** `serve` for the peers on Bun: starts `Bun.serve` with `options` on a free port of 127.0.0.1. */
export function serveBun(options, close = () => {}) {
  const server = Bun.serve({ ...options, port: 0, hostname: '127.0.0.1' })
  console.log(`listening ${server.port}`)
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, async () => {
      await server.stop(true)
      close()
      process.exit(0)
    })
  }
}

/**
 * Makes the store's `touch` run at most once per `intervalMs` after the session's last write or touch, as
 * elysia-sessions' touchInterval does, so a read-only request does not write.
 */
export function throttleTouch(store, intervalMs) {
  const touch = store.touch?.bind(store)
  if (!touch) return
  const set = store.set.bind(store)
  const lastTouch = new Map()
  store.set = (sid, sess, callback) => {
    lastTouch.set(sid, Date.now())
    set(sid, sess, callback)
  }
  store.touch = (sid, sess, callback) => {
    const now = Date.now()
    if (now - (lastTouch.get(sid) ?? 0) < intervalMs) {
      callback?.()
      return
    }
    lastTouch.set(sid, now)
    touch(sid, sess, callback)
  }
}
