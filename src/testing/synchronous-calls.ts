import type { SessionEngine } from '../engine.js'

/**
 * `engine` with its `load`, `commit`, `touch` and `delete` answered by its synchronous calls (a throw becoming a
 * rejection) and every other method its own, so each test of the suite proves the synchronous calls too.
 */
export function throughSynchronousCalls(engine: SessionEngine): SessionEngine {
  const calls = engine.sync
  if (calls?.engine !== engine) throw new Error(`The ${engine.name} engine offers no synchronous calls of its own`)
  const through: SessionEngine = {
    name: engine.name,
    capabilities: engine.capabilities,
    load: async (id, now) => calls.load(id, now),
    commit: async (id, changes, now) => calls.commit(id, changes, now),
    touch: async (id, expiresAt, now) => calls.touch(id, expiresAt, now),
    delete: async (id) => calls.delete(id),
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
