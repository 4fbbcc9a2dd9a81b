import type { Pool } from 'mysql2/promise'
import type {
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  StoredSession,
} from '../../engine.js'
import { applyChanges } from '../apply-changes.js'
import { checkBatchSize } from '../batch-size.js'
import { closedError } from '../closed-error.js'
import { deleteInBatches } from '../delete-in-batches.js'
import { ownerColumnAfter, ownerColumnValue } from '../owner-column.js'
import { isSafeSessionId, unsafeIdError } from '../safe-id.js'
import { createCallRunner, type Lease } from './calls.js'
import type { SessionsTable } from './schema.js'
import { buildStatements, DELETE_BATCH } from './statements.js'

/** What `createMysqlEngine` needs besides the pool. */
export interface MysqlEngineParts {
  readonly table: SessionsTable
  /** Milliseconds after which a call that has not settled rejects. */
  readonly operationTimeout: number
  /** Ends the pool on `close()`: present only when the engine created the pool. */
  readonly endPool?: () => Promise<void>
}

/** A session engine on a mysql2 pool, with every statement built once. */
export function createMysqlEngine(pool: Pool, parts: MysqlEngineParts): SessionEngine {
  const { table, operationTimeout, endPool } = parts
  const statements = buildStatements(table)
  const runner = createCallRunner(pool, statements, operationTimeout)
  // The columns' own codecs turn driver values into session values, as Drizzle would.
  const toData = (text: unknown) => table.data.mapFromDriverValue(text as string) as SessionData
  const toExpiry = (value: unknown) => table.expiresAt.mapFromDriverValue(value as number | string) as number
  const toId = (value: unknown) => table.id.mapFromDriverValue(value as Buffer) as string

  let closed = false
  const call = <T>(operation: string, work: (lease: Lease) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(closedError('mysql'))
    return runner.call(operation, work)
  }
  /** What a call about an id no session can have resolves to, without a round trip; refused once closed too. */
  const unknownId = <T>(answer: T): Promise<T> =>
    closed ? Promise.reject(closedError('mysql')) : Promise.resolve(answer)

  /** Deletes in batches of `DELETE_BATCH` rows, each its own short transaction, until one deletes fewer. */
  const deleteBatches = (operation: string, deleteBatch: (lease: Lease) => Promise<number>) =>
    deleteInBatches(DELETE_BATCH, () => call(operation, deleteBatch))

  const entryOf = (row: unknown[]): SessionEntry => ({
    id: toId(row[0]),
    data: toData(row[1]),
    expiresAt: toExpiry(row[2]),
  })

  return {
    name: 'mysql',

    capabilities: { owners: true },

    load(id: string, now: number): Promise<StoredSession | null> {
      if (!isSafeSessionId(id)) return unknownId(null)
      return call('load', async (lease) => {
        const [row] = await lease.rows(statements.loadAlive, { id, now })
        return row ? { data: toData(row[0]), expiresAt: toExpiry(row[1]) } : null
      })
    },

    async commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      // Other ids could merge: utf8 turns lone surrogates into U+FFFD, and a lax sql_mode cuts long ids short.
      if (!isSafeSessionId(id)) throw unsafeIdError('mysqlEngine', id)
      return call('commit', (lease) =>
        lease.transaction(async () => {
          await lease.write(statements.lockRow, { id })
          const [row] = await lease.rows(statements.readLocked, { id })
          const stored = row && toExpiry(row[1]) > now ? toData(row[0]) : undefined
          if (!stored && changes.existingOnly) return false
          const data = table.data.mapToDriverValue(applyChanges(stored, changes))
          const owner = ownerColumnAfter(changes, stored !== undefined)
          const write = owner === undefined ? statements.write : statements.writeWithOwner
          await lease.write(write, { id, data, expiresAt: changes.expiresAt, owner })
          return true
        }),
      )
    },

    touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      if (!isSafeSessionId(id)) return unknownId(false)
      return call('touch', async (lease) => (await lease.write(statements.moveExpiry, { id, expiresAt, now })) > 0)
    },

    async delete(id: string): Promise<void> {
      if (!isSafeSessionId(id)) return unknownId(undefined)
      await call('delete', (lease) => lease.write(statements.deleteOne, { id }))
    },

    async deleteAll(): Promise<void> {
      await deleteBatches('delete all sessions', (lease) => lease.write(statements.deleteBatch))
    },

    count(now: number): Promise<number> {
      return call('count', async (lease) => {
        const [row] = await lease.rows(statements.countAlive, { now })
        return Number(row?.[0] ?? 0)
      })
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      checkBatchSize(batchSize)
      let after: string | Buffer = Buffer.alloc(0)
      for (;;) {
        const rows = await call('list sessions', (lease) =>
          lease.rows(statements.pageAfter, { after, now, limit: batchSize }),
        )
        if (rows.length === 0) return
        yield rows.map(entryOf)
        if (rows.length < batchSize) return
        after = rows[rows.length - 1]![0] as Buffer
      }
    },

    listByOwner(owner: string, now: number): Promise<readonly SessionEntry[]> {
      return call('list sessions by owner', async (lease) =>
        (await lease.rows(statements.listOwned, { owner: ownerColumnValue(owner), now })).map(entryOf),
      )
    },

    deleteByOwner(owner: string, except: readonly string[], now: number): Promise<number> {
      // Ids no row can have are left out, and with them the empty list MySQL cannot take.
      const kept = except.filter(isSafeSessionId)
      const column = ownerColumnValue(owner)
      return call('delete sessions by owner', async (lease) => {
        // As for sweeps: the rows it deletes are locked, and no gaps, so commits creating sessions never wait for it.
        await lease.write(statements.readCommittedNext)
        if (kept.length === 0) return lease.write(statements.deleteOwned, { owner: column, now })
        return lease.write(statements.deleteOwnedExcept, { owner: column, now, except: kept })
      })
    },

    async deleteExpired(now: number): Promise<number> {
      return deleteBatches('delete expired sessions', async (lease) => {
        // READ COMMITTED locks the rows it deletes and no gaps, so commits creating sessions never wait for a sweep.
        await lease.write(statements.readCommittedNext)
        return lease.write(statements.deleteExpiredBatch, { now })
      })
    },

    async close(): Promise<void> {
      if (closed) return
      closed = true
      await runner.settled()
      await endPool?.()
    },
  }
}
