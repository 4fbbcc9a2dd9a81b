/**
 * The contract between elysia-sessions and a storage engine.
 *
 * An engine stores opaque JSON-safe values under opaque string keys, one record per session id, each with an
 * absolute expiry in epoch milliseconds. The plugin does all typing and encoding. Every method returns a Promise,
 * even for engines whose storage is synchronous; those may also offer their per-request methods without one, as
 * `sync` (see `SynchronousCalls`). Engines are proven by `runEngineConformance` from
 * `elysia-sessions/testing`, whose tests are named after the sentences below.
 */

/** A value an engine must store and return unchanged: anything `JSON.stringify` and `JSON.parse` round-trip. */
export type SessionValue =
  | null
  | boolean
  | number
  | string
  | readonly SessionValue[]
  | { readonly [key: string]: SessionValue }

/** The stored data of one session: keys chosen by the plugin, JSON-safe values. */
export type SessionData = { readonly [key: string]: SessionValue }

/** One stored session as an engine returns it. */
export interface StoredSession {
  /** The session's data, owned by the caller: changing it never changes what is stored. */
  readonly data: SessionData
  /** When the session expires, in epoch milliseconds. */
  readonly expiresAt: number
}

/** A stored session together with its id, as iteration yields it. */
export interface SessionEntry extends StoredSession {
  readonly id: string
}

/** What one request changed in a session: the only thing the plugin ever asks an engine to write. */
export interface SessionChanges {
  /** Keys to set, with their new values. */
  readonly set: SessionData
  /** Keys to remove; a key that is not stored is ignored. */
  readonly deleted: readonly string[]
  /** The session's new expiry, in epoch milliseconds (a whole number). */
  readonly expiresAt: number
  /**
   * True when the session was loaded from the engine (absent means false): the commit then applies only if the session is still alive,
   * so a request that loaded it before another request destroyed it cannot bring it back.
   */
  readonly existingOnly?: boolean
  /**
   * How this commit changes the session's owner, for engines that keep an owner index: the new owner id, `null` when
   * the owner is removed, absent when it is left as stored. The owner is also in `set` (or `deleted`) under its
   * reserved key, so an engine without an index stores it like any other value.
   */
  readonly owner?: string | null
}

/** Options of `SessionEngine.entries`. */
export interface IterateOptions {
  /** How many sessions each yielded batch holds at most. */
  readonly batchSize: number
}

/** What an engine can do beyond the contract; the plugin and the conformance suite read these. */
export interface EngineCapabilities {
  /**
   * The engine's server removes expired sessions by itself on its own clock (for example Redis TTL), so the `now`
   * arguments only compute relative lifetimes and `deleteExpired` may do nothing. The conformance suite then proves
   * expiry with a short real wait instead of a moved clock.
   */
  readonly serverExpiry?: boolean
  /**
   * The engine keeps an index of sessions by owner and implements `listByOwner` and `deleteByOwner`, which then cost
   * in proportion to one owner's sessions, not to the store. Without it the plugin scans `entries` instead.
   */
  readonly owners?: boolean
}

/**
 * The per-request methods of an engine whose storage answers at once (in memory, bun:sqlite), without a promise: each
 * keeps every promise of its asynchronous twin on `SessionEngine`, and throws where that one rejects. With them the
 * plugin's request hooks never wait, so Elysia can compile a request without a promise.
 */
export interface SynchronousCalls {
  /**
   * The engine these calls belong to. The plugin uses them only when `engine.sync.engine === engine`, so a wrapper
   * that spreads an engine and replaces some methods (`{ ...engine, load }`) is driven through its own methods.
   */
  readonly engine: SessionEngine
  load(id: string, now: number): StoredSession | null
  commit(id: string, changes: SessionChanges, now: number): boolean
  touch(id: string, expiresAt: number, now: number): boolean
  delete(id: string): void
}

/** A session storage engine. Implement it to store sessions anywhere; prove it with `runEngineConformance`. */
export interface SessionEngine {
  /** A short name for error messages and logs, such as `'memory'`. */
  readonly name: string

  /** Optional abilities; absent means none. */
  readonly capabilities?: EngineCapabilities

  /** `load`, `commit`, `touch` and `delete` without a promise, for an engine whose storage answers at once. */
  readonly sync?: SynchronousCalls

  /**
   * Loads one session. Resolves to `null` when the id is unknown, malformed or expired at `now`; an expired session
   * is never returned, even before it has been swept. Changing the returned data never changes what is stored: an
   * engine hands out either its own copy or data it froze.
   */
  load(id: string, now: number): Promise<StoredSession | null>

  /**
   * Applies one request's changes to a session atomically: keys in `set` are written, keys in `deleted` are removed,
   * every other stored key is kept, and the expiry becomes `changes.expiresAt`. A session that is unknown or expired
   * at `now` is created from empty data, unless `changes.existingOnly` is true: then nothing is written. Resolves to
   * whether it wrote. Two concurrent commits that change different keys of one session both keep their writes, and
   * changing `changes` once the commit has resolved never changes what is stored.
   */
  commit(id: string, changes: SessionChanges, now: number): Promise<boolean>

  /**
   * Moves the expiry of a stored session to `expiresAt` without rewriting its data. Resolves to `true` when the
   * session was there and alive at `now`; an unknown, expired or deleted session is never re-created and resolves to
   * `false`.
   */
  touch(id: string, expiresAt: number, now: number): Promise<boolean>

  /** Deletes one session. Deleting an unknown id is a no-op, never an error. */
  delete(id: string): Promise<void>

  /** Deletes every session of this engine and nothing else. */
  deleteAll(): Promise<void>

  /** Counts the sessions alive at `now`; expired ones are never counted. */
  count(now: number): Promise<number>

  /**
   * Yields every session alive at `now`, in batches of at most `options.batchSize`, without loading all of them at
   * once. Expired sessions are never yielded. Sessions committed or deleted while iterating may or may not appear.
   */
  entries(now: number, options: IterateOptions): AsyncIterable<readonly SessionEntry[]>

  /**
   * With `capabilities.owners`: resolves to the sessions alive at `now` whose owner (as last set by a commit's `owner`)
   * is `owner`; an unknown owner has none, and expired sessions are never among them, even before they have been swept.
   */
  listByOwner?(owner: string, now: number): Promise<readonly SessionEntry[]>

  /**
   * With `capabilities.owners`: deletes the sessions alive at `now` whose owner is `owner`, except those whose id is in
   * `except`, and resolves to how many it deleted. A commit with `existingOnly` to a deleted session writes nothing.
   */
  deleteByOwner?(owner: string, except: readonly string[], now: number): Promise<number>

  /** Deletes the sessions expired at `now` and resolves to how many it deleted (GC calls this). */
  deleteExpired(now: number): Promise<number>

  /**
   * Releases timers, connections and files. Calling it twice is a no-op. It may be called while `deleteExpired` runs:
   * the sweep then either finishes or rejects, but always settles.
   */
  close(): Promise<void>
}
