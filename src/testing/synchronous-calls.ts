import type { SessionEngine } from '../engine.js'

/**
 * `engine` with its `load`, `commit`, `touch` and `delete` answered by its synchronous calls (a throw becoming a
 * rejection) and every other method its own, so each test of the suite proves the synchronous calls too. A call that
 * answers with a promise is refused: the plugin would take the promise itself for the session, or for "written".
 */
export function throughSynchronousCalls(engine: SessionEngine): SessionEngine {
  const calls = engine.sync
  if (calls?.engine !== engine) throw new Error(`The ${engine.name} engine offers no synchronous calls of its own`)
  const through: SessionEngine = {
    name: engine.name,
    capabilities: engine.capabilities,
    load: async (id, now) => answeredAtOnce('load', calls.load(id, now)),
    commit: async (id, changes, now) => answeredAtOnce('commit', calls.commit(id, changes, now)),
    touch: async (id, expiresAt, now) => answeredAtOnce('touch', calls.touch(id, expiresAt, now)),
    delete: async (id) => answeredAtOnce('delete', calls.delete(id)),
    deleteAll: () => engine.deleteAll(),
    count: (now) => engine.count(now),
    entries: (now, options) => engine.entries(now, options),
    deleteExpired: (now) => engine.deleteExpired(now),
    close: () => engine.close(),
  }
  const { listByOwner, deleteByOwner } = engine
  if (listByOwner === undefined && deleteByOwner === undefined) return through
  return {
    ...through,
    ...(listByOwner && { listByOwner: listByOwner.bind(engine) }),
    ...(deleteByOwner && { deleteByOwner: deleteByOwner.bind(engine) }),
  }
}

/** `answer`, unless it is a promise (or any thenable), which a synchronous call must never return. */
function answeredAtOnce<T>(method: string, answer: T): T {
  if (typeof (answer as { then?: unknown } | null)?.then === 'function') {
    throw new TypeError(`sync.${method} returned a promise: synchronous calls must answer at once`)
  }
  return answer
}
