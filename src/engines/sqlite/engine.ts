import type { Database, SQLQueryBindings } from 'bun:sqlite'
import { and, count, eq, gt, inArray, lte, notInArray, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import type {
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  StoredSession,
} from '../../engine.js'
import type { SessionLogger } from '../../options.js'
import { applyChanges } from '../apply-changes.js'
import { buildStatement, type DrizzleQuery, fixedStatement } from '../built-statement.js'
import { closedError } from '../closed-error.js'
import { ownerColumnAfter, ownerColumnValue } from '../owner-column.js'
import { createCheckpointWorker } from './checkpoint-worker.js'
import { isBusy, retryWhileBusy, setBusyTimeout } from './connection.js'
import { createGcWorker } from './gc-worker.js'
import { preparedStatements } from './prepared-statements.js'
import { createRowCache } from './row-cache.js'
import type { SessionsTable } from './schema.js'
import { type SweepBatchFlag, sweepBatchFlag } from './sweep-batch-flag.js'
import { type BatchedWork, createTransactionBatches } from './transaction-batches.js'
import type { GcWorkerStore } from './worker-protocol.js'

/** What `createSqliteEngine` needs besides the connection. */
export interface SqliteEngineParts {
  readonly table: SessionsTable
  /** Whether `close()` closes the connection: only when the engine opened it. */
  readonly ownsConnection: boolean
  /**
   * Set on the engine that serves requests on a connection of its own, whose busy_timeout the engine then turns to 0:
   * a call that finds another connection (the GC worker's, another process's) holding the write lock is retried a
   * moment later for up to `waitForLocks` ms, instead of the busy handler sleeping and stalling the whole event loop.
   */
  readonly waitForLocks?: number
  /** Set for a database on a file (not `:memory:`): `deleteExpired` then sweeps from a GC worker of its own. */
  readonly gcWorker?: { readonly store: GcWorkerStore; readonly logger: SessionLogger }
  /**
   * The flag raised during each sweep batch, shared with the GC worker's engine (made afresh when not given): a write
   * that finds the write lock held while it is raised waits for the batch to end.
   */
  readonly sweepBatchFlag?: SweepBatchFlag
  /** Set on the GC worker's engine: told after each sweep batch commits. */
  readonly onSweepBatch?: () => void
  /**
   * Set for a WAL database the engine opened itself: a worker of its own then copies the WAL into the file as the
   * engine writes. An app's own connection keeps the checkpoints its owner chose.
   */
  readonly checkpointWorker?: { readonly path: string; readonly logger: SessionLogger }
}

/**
 * How long, in ms, a write waits for a sweep batch at most: many times what a batch takes with a core to itself, so a
 * GC worker that other processes keep off the CPU holds up the serving thread no longer than this.
 */
const LONGEST_SWEEP_BATCH_WAIT = 10

/**
 * How many expired rows one DELETE removes: small batches hold the write lock briefly, so other connections (and the
 * main thread, when the GC worker sweeps) never wait long.
 */
const SWEEP_BATCH = 100

/** How many session rows an engine on its own connection keeps in memory to answer reads without the file. */
const CACHED_ROWS = 10_000

/** How much session data (characters of JSON) the row cache holds at most, whatever the sessions' sizes. */
const CACHED_CHARS = 16 * 1024 * 1024

const placeholder = sql.placeholder

/** A session engine on one bun:sqlite connection, with every statement prepared once. */
export function createSqliteEngine(connection: Database, parts: SqliteEngineParts): SessionEngine {
  const { table, ownsConnection } = parts
  // Only writes SQL: every statement is prepared on the connection itself, and runs there with values by position.
  const db = drizzle.mock()
  const statements = preparedStatements(connection)
  const prepare = <Values extends SQLQueryBindings[]>(query: DrizzleQuery, placeholders: readonly string[]) =>
    statements.prepare<Values>(buildStatement(query), placeholders)
  const alive = gt(table.expiresAt, placeholder('now'))
  const isAlive = and(eq(table.id, placeholder('id')), alive)

  const loadAlive = prepare<[id: string, now: number]>(
    db.select({ data: table.data, expiresAt: table.expiresAt }).from(table).where(isAlive),
    ['id', 'now'],
  )
  const upsert = prepare<[id: string, data: string, expiresAt: number]>(
    db
      .insert(table)
      .values({ id: placeholder('id'), data: placeholder('data'), expiresAt: placeholder('expiresAt') })
      .onConflictDoUpdate({
        target: table.id,
        set: {
          data: sql`excluded.${sql.identifier(table.data.name)}`,
          expiresAt: sql`excluded.${sql.identifier(table.expiresAt.name)}`,
        },
      }),
    ['id', 'data', 'expiresAt'],
  )
  // The upsert of a commit that sets or removes the owner, or creates the session: the plain upsert above leaves the
  // owner column as it is, so a commit that keeps the owner writes no more than it did before owners existed.
  const upsertWithOwner = prepare<[id: string, data: string, expiresAt: number, owner: string | null]>(
    db
      .insert(table)
      .values({
        id: placeholder('id'),
        data: placeholder('data'),
        expiresAt: placeholder('expiresAt'),
        owner: placeholder('owner'),
      })
      .onConflictDoUpdate({
        target: table.id,
        set: {
          data: sql`excluded.${sql.identifier(table.data.name)}`,
          expiresAt: sql`excluded.${sql.identifier(table.expiresAt.name)}`,
          owner: sql`excluded.${sql.identifier(table.owner.name)}`,
        },
      }),
    ['id', 'data', 'expiresAt', 'owner'],
  )
  const moveExpiry = prepare<[expiresAt: number, id: string, now: number]>(
    db
      .update(table)
      .set({ expiresAt: sql`${placeholder('expiresAt')}` })
      .where(isAlive),
    ['expiresAt', 'id', 'now'],
  )
  const deleteOne = prepare<[id: string]>(db.delete(table).where(eq(table.id, placeholder('id'))), ['id'])
  const deleteEvery = prepare<[]>(db.delete(table), [])
  const countAlive = prepare<[now: number]>(db.select({ count: count() }).from(table).where(alive), ['now'])
  const pageAfter = prepare<[after: string, now: number, limit: number]>(
    db
      .select({ id: table.id, data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(and(gt(table.id, placeholder('after')), alive))
      .orderBy(table.id)
      .limit(placeholder('limit')),
    ['after', 'now', 'limit'],
  )
  const listOwned = prepare<[owner: string, now: number]>(
    db
      .select({ id: table.id, data: table.data, expiresAt: table.expiresAt })
      .from(table)
      .where(and(eq(table.owner, placeholder('owner')), alive)),
    ['owner', 'now'],
  )
  // The ids to keep arrive as one JSON array, so one prepared statement serves any number of them.
  const deleteOwnedExcept = prepare<[owner: string, now: number, except: string]>(
    db
      .delete(table)
      .where(
        and(
          eq(table.owner, placeholder('owner')),
          alive,
          notInArray(table.id, sql`(select value from json_each(${placeholder('except')}))`),
        ),
      )
      .returning({ id: table.id }),
    ['owner', 'now', 'except'],
  )
  const expiredIds = db
    .select({ id: table.id })
    .from(table)
    .where(lte(table.expiresAt, placeholder('now')))
    .limit(placeholder('limit'))
  const deleteExpiredBatch = prepare<[now: number, limit: number]>(
    db.delete(table).where(inArray(table.id, expiredIds)).returning({ id: table.id }),
    ['now', 'limit'],
  )

  // Rows this connection read or wrote, checked against PRAGMA data_version once per batch. Only on a connection the
  // engine owns: statements an app runs on a shared connection would not change data_version.
  const cache = ownsConnection ? createRowCache(CACHED_ROWS, CACHED_CHARS) : undefined
  const dataVersion = statements.prepare(fixedStatement('PRAGMA data_version'), [])
  const checkCache = cache && (() => cache.checkVersion(dataVersion.values()[0]![0] as number))

  // The columns' own codecs turn driver values into session values, as Drizzle would; the hot path below parses the
  // data column's JSON text itself, as it caches that text.
  const dataOf = (text: unknown) => table.data.mapFromDriverValue(text as string) as SessionData
  const expiryOf = (value: unknown) => table.expiresAt.mapFromDriverValue(value as number) as number
  // The data column is text in Drizzle's json mode: JSON text, encoded and decoded as Drizzle would.
  const readAlive = (id: string, now: number): StoredSession | null => {
    let row = cache?.get(id)
    if (!row) {
      const stored = loadAlive.values(id, now)[0]
      if (!stored) return null
      row = { text: stored[0] as string, expiresAt: stored[1] as number }
      cache?.set(id, row.text, row.expiresAt)
    }
    return row.expiresAt > now ? { data: JSON.parse(row.text) as SessionData, expiresAt: row.expiresAt } : null
  }
  const commitOne = (id: string, changes: SessionChanges, now: number): boolean => {
    const stored = readAlive(id, now)
    if (!stored && changes.existingOnly) return false
    const text = JSON.stringify(applyChanges(stored?.data, changes))
    // A session created afresh may replace an expired row that still holds its last owner.
    if (changes.owner !== undefined || !stored) {
      upsertWithOwner.run(id, text, changes.expiresAt, ownerColumnAfter(changes, false) ?? null)
    } else upsert.run(id, text, changes.expiresAt)
    cache?.set(id, text, changes.expiresAt)
    return true
  }
  const touchOne = (id: string, expiresAt: number, now: number): boolean => {
    const moved = moveExpiry.run(expiresAt, id, now).changes > 0
    const cached = cache?.get(id)
    if (cached && moved) cache?.set(id, cached.text, expiresAt)
    else cache?.delete(id)
    return moved
  }

  // A batch that writes is IMMEDIATE: it takes the write lock before reading, so concurrent writers wait for each other
  // (retried by the batch, or in busy_timeout) instead of failing on a stale read snapshot, and no commit merges into
  // data another connection has changed since. A lone read needs no transaction of its own.
  const runWorks = (works: readonly BatchedWork[]) => {
    checkCache?.()
    return works.map((work) => work.run())
  }
  const inTransaction = connection.transaction(runWorks)
  const waitForLocks = parts.waitForLocks
  if (waitForLocks !== undefined) setBusyTimeout(connection, 0)
  // What runs outside the batches waits for locks by itself, sleeping briefly: entries, and sweeps without a worker.
  const outsideBatches = <T>(run: () => T): T =>
    waitForLocks === undefined ? run() : retryWhileBusy(run, waitForLocks)
  const checkpoints =
    parts.checkpointWorker &&
    createCheckpointWorker(parts.checkpointWorker.path, connection, parts.checkpointWorker.logger)
  const sweepBatch = parts.sweepBatchFlag ?? sweepBatchFlag()
  const writeTogether = (works: readonly BatchedWork[]) => {
    try {
      return inTransaction.immediate(works)
    } catch (error) {
      // Locked out by a sweep batch: waiting for it lets the batch finish sooner than coming back later would. Only
      // where writes come back later at all: with a busy_timeout, SQLite's own wait has already left the batch the core.
      if (!(waitForLocks !== undefined && isBusy(error) && sweepBatch.waitUntilLowered(LONGEST_SWEEP_BATCH_WAIT))) {
        throw error
      }
      cache?.clear()
      return inTransaction.immediate(works)
    }
  }
  const batch = createTransactionBatches(
    (works, writes) => {
      let results: unknown[]
      try {
        if (!writes) return works.length === 1 ? runWorks(works) : inTransaction(works)
        results = writeTogether(works)
      } catch (error) {
        // The transaction rolled back what the cache already holds.
        cache?.clear()
        throw error
      }
      checkpoints?.wrote()
      return results
    },
    waitForLocks === undefined ? undefined : { isBusy, budget: waitForLocks },
  )

  let closed = false
  let closing: Promise<void> | undefined
  const checkOpen = () => {
    if (closed) throw closedError('sqlite')
  }
  /**
   * Every single-statement call joins the turn's batch, so calls run in the order they were made, whichever kind they
   * are; only when the write lock is held elsewhere do a batch's loads go first while its writes wait.
   */
  const inBatch = <T>(run: () => T, writes: boolean): Promise<T> => {
    try {
      checkOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    return batch.add({ run, writes })
  }

  // The flag goes up once the transaction holds the write lock, and down once it has committed (or rolled back).
  const sweepBatchInTransaction = connection.transaction((now: number) => {
    sweepBatch.raise()
    return deleteExpiredBatch.values(now, SWEEP_BATCH)
  })
  const sweepHere = async (now: number): Promise<number> => {
    let deleted = 0
    for (;;) {
      checkOpen()
      const started = performance.now()
      const removedRows = outsideBatches(() => {
        try {
          return sweepBatchInTransaction.immediate(now)
        } finally {
          sweepBatch.lower()
        }
      })
      if (cache) for (const [id] of removedRows) cache.delete(id as string)
      const removed = removedRows.length
      deleted += removed
      checkpoints?.sweptBatch()
      parts.onSweepBatch?.()
      if (removed < SWEEP_BATCH) return deleted
      // Leave the lock free twice as long as the batch held it: SQLite's busy handler retries at growing intervals, so
      // a waiter that keeps missing short gaps would stall its whole thread.
      await Bun.sleep(Math.max(2, 2 * (performance.now() - started)))
    }
  }
  const gcWorker =
    parts.gcWorker &&
    createGcWorker(parts.gcWorker.store, parts.gcWorker.logger, {
      sweepHere,
      batchFlag: sweepBatch,
      onBatchSwept: () => checkpoints?.sweptBatch(),
    })

  return {
    name: 'sqlite',
    capabilities: { owners: true },

    load(id: string, now: number): Promise<StoredSession | null> {
      return inBatch(() => readAlive(id, now), false)
    },

    commit(id: string, changes: SessionChanges, now: number): Promise<boolean> {
      return inBatch(() => commitOne(id, changes, now), true)
    },

    touch(id: string, expiresAt: number, now: number): Promise<boolean> {
      return inBatch(() => touchOne(id, expiresAt, now), true)
    },

    delete(id: string): Promise<void> {
      return inBatch(() => {
        deleteOne.run(id)
        cache?.delete(id)
      }, true)
    },

    deleteAll(): Promise<void> {
      return inBatch(() => {
        deleteEvery.run()
        cache?.clear()
      }, true)
    },

    count(now: number): Promise<number> {
      return inBatch(() => Number(countAlive.values(now)[0]?.[0] ?? 0), false)
    },

    async *entries(now: number, { batchSize }: IterateOptions): AsyncIterable<readonly SessionEntry[]> {
      let after = ''
      for (;;) {
        checkOpen()
        const rows = outsideBatches(() => pageAfter.values(after, now, batchSize))
        if (rows.length === 0) return
        yield rows.map(
          (row): SessionEntry => ({ id: row[0] as string, data: dataOf(row[1]), expiresAt: expiryOf(row[2]) }),
        )
        if (rows.length < batchSize) return
        after = rows[rows.length - 1]![0] as string
      }
    },

    listByOwner(owner: string, now: number): Promise<readonly SessionEntry[]> {
      return inBatch(
        () =>
          listOwned
            .values(ownerColumnValue(owner), now)
            .map((row): SessionEntry => ({ id: row[0] as string, data: dataOf(row[1]), expiresAt: expiryOf(row[2]) })),
        false,
      )
    },

    deleteByOwner(owner: string, except: readonly string[], now: number): Promise<number> {
      const keep = JSON.stringify(except)
      return inBatch(() => {
        const deleted = deleteOwnedExcept.values(ownerColumnValue(owner), now, keep)
        if (cache) for (const [id] of deleted) cache.delete(id as string)
        return deleted.length
      }, true)
    },

    deleteExpired(now: number): Promise<number> {
      if (closed) return Promise.reject(closedError('sqlite'))
      return gcWorker ? gcWorker.sweep(now) : sweepHere(now)
    },

    close(): Promise<void> {
      closing ??= (async () => {
        closed = true
        batch.close(closedError('sqlite'))
        await Promise.all([gcWorker?.stop(closedError('sqlite')), checkpoints?.stop()])
        // Finalized statements let close() release the file now rather than when they are garbage-collected.
        statements.finalizeAll()
        if (ownsConnection) connection.close()
      })()
      return closing
    },
  }
}
