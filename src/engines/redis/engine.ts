import type {
  IterateOptions,
  SessionChanges,
  SessionEngine,
  SessionEntry,
  SessionValue,
  StoredSession,
} from '../../engine.js'
import { checkBatchSize } from '../batch-size.js'
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import type { RedisConnection } from './connection.js'
import {
  dataFieldOf,
  EXPIRY_FIELD,
  isOwnerSetKey,
  keyOfDataField,
  OWNER_SET_FIELD,
  ownerSetKeyOf,
  ownerSetPatternOf,
  scanPatternOf,
  sessionIdOf,
} from './keys.js'
import { COMMIT_SCRIPT, DELETE_BY_OWNER_SCRIPT, DELETE_SCRIPT, LIST_BY_OWNER_SCRIPT, TOUCH_SCRIPT } from './scripts.js'

/** The COUNT hint of each SCAN: how many keys one round trip looks at, so no call blocks Redis for long. */
export const SCAN_PAGE_SIZE = 1_000

/**
 * How far apart, in ms, the expiry computed from PTTL and the one the last commit or touch asked for may be and still
 * be taken for the same instant seen through two round trips: `load` then returns the latter exactly. Further apart,
 * the servers' clocks disagree, and the expiry on the loader's clock (its `now` plus PTTL) is returned.
 */
export const CLOCK_AGREEMENT = 1_000

/**
 * A session engine on one Redis connection: each session is a hash under `prefix`, expired by Redis itself, changed
 * only by Lua scripts that run atomically; each owner has a set of its sessions' keys, kept in step by those scripts.
 */
export function createRedisEngine(connection: RedisConnection, prefix: string): SessionEngine {
  const keyOf = (id: string) => prefix + id
  const pattern = scanPatternOf(prefix)

  const loadOne = async (id: string, now: number): Promise<StoredSession | null> => {
    const key = keyOf(id)
    // Two native commands cost Redis less than one script. Sent together, they see the same session unless a commit,
    // delete or expiry falls between them: then the hash is the one from before, or the session counts as gone.
    const [fields, pttl] = (await connection.run('load a session', (client) =>
      Promise.all([client.send('HGETALL', [key]), client.send('PTTL', [key])]),
    )) as [HashReply, number]
    return pttl >= 0 ? decodeSession(fields, pttl, now) : null
  }

  /** The keys of `type` that match `match`, one SCAN page at a time, each key once even when SCAN repeats it. */
  async function* scanKeys(operation: string, match: string, type: 'hash' | 'set'): AsyncGenerator<string[]> {
    const seen = new Set<string>()
    let cursor = '0'
    do {
      const [next, keys] = (await connection.run(operation, (client) =>
        client.send('SCAN', [cursor, 'MATCH', match, 'COUNT', String(SCAN_PAGE_SIZE), 'TYPE', type]),
      )) as [string, string[]]
      cursor = next
      const fresh = keys.filter((key) => !seen.has(key))
      for (const key of fresh) seen.add(key)
      if (fresh.length > 0) yield fresh
    } while (cursor !== '0')
  }

  /** The ids of this engine's sessions, one SCAN page at a time, each id once. */
  async function* scanIds(operation: string): AsyncGenerator<string[]> {
    for await (const keys of scanKeys(operation, pattern, 'hash')) {
      const ids = keys.flatMap((key) => sessionIdOf(prefix, key) ?? [])
      if (ids.length > 0) yield ids
    }
  }

  return {
    name: 'redis',
    capabilities: { serverExpiry: true, owners: true },

    async load(id: string, now: number): Promise<StoredSession | null> {
      return isSafeSessionId(id) ? loadOne(id, now) : null
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) {
        throw unsafeIdError('redisEngine', id)
      }
      const { set, deleted, expiresAt, existingOnly = false, owner } = changes
      const ownerChange = owner === undefined ? '=' : owner === null ? '-' : '+'
      const args = [
        `${existingOnly ? 1 : 0} ${lifetimeOf(expiresAt, now)} ${expiresAt} ${ownerChange} ${deleted.length}`,
      ]
      if (typeof owner === 'string') args.push(ownerSetKeyOf(prefix, owner))
      for (const key of deleted) args.push(dataFieldOf(key))
      for (const key of Object.keys(set)) args.push(dataFieldOf(key), JSON.stringify(set[key]))
      return (await connection.runScript('commit a session', COMMIT_SCRIPT, keyOf(id), args)) === 1
    },

    async touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return false
      const args = [lifetimeOf(expiresAt, now), String(expiresAt)]
      return (await connection.runScript('touch a session', TOUCH_SCRIPT, keyOf(id), args)) === 1
    },

    async delete(id: string): Promise<void> {
      if (!isSafeSessionId(id)) return
      await connection.runScript('delete a session', DELETE_SCRIPT, keyOf(id), [])
    },

    async deleteAll(): Promise<void> {
      for await (const ids of scanIds('list sessions to delete')) {
        await connection.run('delete sessions', (client) => client.send('DEL', ids.map(keyOf)))
      }
      for await (const keys of scanKeys('list owner sets to delete', ownerSetPatternOf(prefix), 'set')) {
        const ownerSets = keys.filter((key) => isOwnerSetKey(prefix, key))
        if (ownerSets.length > 0) await connection.run('delete owner sets', (client) => client.send('DEL', ownerSets))
      }
    },

    async count(): Promise<number> {
      let found = 0
      for await (const ids of scanIds('count sessions')) found += ids.length
      return found
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      checkBatchSize(batchSize)
      for await (const ids of scanIds('list sessions')) {
        // Each batch loads only its own sessions, so a consumer that stops early leaves the rest unread.
        for (let start = 0; start < ids.length; start += batchSize) {
          const batchIds = ids.slice(start, start + batchSize)
          const stored = await Promise.all(batchIds.map((id) => loadOne(id, now)))
          const batch: SessionEntry[] = []
          for (const [index, session] of stored.entries()) {
            if (session) batch.push({ id: batchIds[index] as string, ...session })
          }
          if (batch.length > 0) yield batch
        }
      }
    },

    async listByOwner(owner: string, now: number): Promise<readonly SessionEntry[]> {
      const found = (await connection.runScript(
        'list the sessions of an owner',
        LIST_BY_OWNER_SCRIPT,
        ownerSetKeyOf(prefix, owner),
        [],
      )) as [string, number, string[]][]
      const entries: SessionEntry[] = []
      for (const [key, pttl, fields] of found) {
        const id = sessionIdOf(prefix, key)
        const session = id !== undefined && pttl >= 0 ? decodeSession(hashOf(fields), pttl, now) : null
        if (session) entries.push({ id: id as string, ...session })
      }
      return entries
    },

    async deleteByOwner(owner: string, except: readonly string[]): Promise<number> {
      const kept = except.filter(isSafeSessionId).map(keyOf)
      const ownerSet = ownerSetKeyOf(prefix, owner)
      return (await connection.runScript(
        'delete the sessions of an owner',
        DELETE_BY_OWNER_SCRIPT,
        ownerSet,
        kept,
      )) as number
    },

    /** Redis removes expired sessions itself (key TTL), so there is never anything left to sweep: resolves to 0. */
    async deleteExpired(): Promise<number> {
      return 0
    },

    async close(): Promise<void> {
      connection.close()
    },
  }
}

/** HGETALL's answer: the hash's fields and their values, empty when there is no hash. */
type HashReply = Record<string, string>

/** A session from its hash and remaining lifetime, or null when the hash is empty (created after HGETALL ran). */
function decodeSession(fields: HashReply, pttl: number, now: number): StoredSession | null {
  const data: Record<string, SessionValue> = Object.create(null)
  const onLoaderClock = now + pttl
  let expiresAt = onLoaderClock
  let found = false
  for (const field in fields) {
    const value = fields[field] as string
    found = true
    if (field === EXPIRY_FIELD) {
      const requested = Number(value)
      if (Math.abs(requested - onLoaderClock) <= CLOCK_AGREEMENT) expiresAt = requested
    } else if (field !== OWNER_SET_FIELD) {
      data[keyOfDataField(field)] = JSON.parse(value) as SessionValue
    }
  }
  return found ? { data, expiresAt } : null
}

/** A hash as a script returns it (HGETALL inside Lua gives a flat field/value list), as HGETALL's own answer. */
function hashOf(fields: readonly string[]): HashReply {
  const hash: HashReply = Object.create(null)
  for (let index = 0; index + 1 < fields.length; index += 2) hash[fields[index] as string] = fields[index + 1] as string
  return hash
}

/**
 * The PEXPIRE argument for an expiry of `expiresAt` at `now`: a lifetime the server counts on its own clock, so app
 * servers whose clocks disagree still agree on how long a session lives.
 */
function lifetimeOf(expiresAt: number, now: number): string {
  const lifetime = Math.ceil(expiresAt - now)
  if (!Number.isSafeInteger(lifetime)) {
    throw new RangeError(
      `redisEngine needs finite expiresAt and now in epoch milliseconds, got ${expiresAt} and ${now}`,
    )
  }
  return String(lifetime)
}
