import type { Pool, PoolConnection } from 'mysql2/promise'
import type { BuiltStatement } from '../built-statement.js'
import { withinDeadline } from '../deadlines.js'
import { isFatal, lendConnection } from './connection.js'
import { queryChanges, queryRows, type SessionStatements } from './statements.js'

/** One pooled connection lent to one engine call. */
export interface Lease {
  /** Runs a SELECT; each row is an array of the columns in the order the statement selects them. */
  rows(statement: BuiltStatement, values?: Record<string, unknown>): Promise<unknown[][]>
  /** Runs a write and resolves to how many rows it matched. */
  write(statement: BuiltStatement, values?: Record<string, unknown>): Promise<number>
  /** Runs `work` in one transaction, committed when it resolves to true and rolled back otherwise. */
  transaction(work: () => Promise<boolean>): Promise<boolean>
}

/** Runs the engine's calls on a mysql2 pool, each on a connection of its own and within the time limit. */
export interface CallRunner {
  /**
   * Runs `work` on one pooled connection and settles within `operationTimeout`; on timeout the connection is
   * destroyed (the server rolls back what the call had begun, and a server that stopped answering never keeps a pool
   * slot) and the call never runs again. Before that, transactions that lost a deadlock or a lock wait run again, and
   * so does a call whose connection the server had closed before its first statement.
   */
  call<T>(operation: string, work: (lease: Lease) => Promise<T>): Promise<T>
  /** Resolves once every call in progress has settled. */
  settled(): Promise<void>
}

const ER_LOCK_WAIT_TIMEOUT = 1205
const ER_LOCK_DEADLOCK = 1213

/** How many times a transaction runs when it keeps losing deadlocks or lock waits to concurrent writers. */
const CONFLICT_ATTEMPTS = 5

/** Makes the runner of the engine's calls on `pool`. */
export function createCallRunner(
  pool: Pool,
  statements: Pick<SessionStatements, 'begin' | 'commit' | 'rollback'>,
  operationTimeout: number,
): CallRunner {
  const inFlight = new Set<Promise<unknown>>()

  const attempts = async <T>(work: (lease: Lease) => Promise<T>, signal: AbortSignal): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      let lease: ReturnType<typeof leaseOn> | undefined
      try {
        return await lendConnection(pool, signal, (connection) => {
          lease = leaseOn(connection, statements)
          return work(lease)
        })
      } catch (error) {
        const conflict = isConflict(error) && attempt < CONFLICT_ATTEMPTS
        // A connection the server closed while it sat idle in the pool fails on its first statement.
        const closedWhileIdle = isFatal(error) && lease?.statementsSent === 1 && attempt === 1
        // Work abandoned at its time limit never runs again: the caller was told it failed.
        if (signal.aborted || !(conflict || closedWhileIdle)) throw error
        if (conflict) await Bun.sleep(attempt * 5 + Math.random() * 10)
      }
    }
  }

  return {
    async call<T>(operation: string, work: (lease: Lease) => Promise<T>): Promise<T> {
      const limited = withinDeadline((signal) => attempts(work, signal), operationTimeout, `MySQL ${operation}`)
      inFlight.add(limited)
      try {
        return await limited
      } finally {
        inFlight.delete(limited)
      }
    },

    async settled(): Promise<void> {
      await Promise.allSettled([...inFlight])
    },
  }
}

function leaseOn(
  connection: PoolConnection,
  statements: Pick<SessionStatements, 'begin' | 'commit' | 'rollback'>,
): Lease & { readonly statementsSent: number } {
  let statementsSent = 0
  const lease = {
    get statementsSent() {
      return statementsSent
    },
    rows(statement: BuiltStatement, values?: Record<string, unknown>) {
      statementsSent++
      return queryRows(connection, statement, values)
    },
    write(statement: BuiltStatement, values?: Record<string, unknown>) {
      statementsSent++
      return queryChanges(connection, statement, values)
    },
    async transaction(work: () => Promise<boolean>): Promise<boolean> {
      await lease.write(statements.begin)
      let keep = false
      try {
        keep = await work()
      } finally {
        // Also after a failed statement: a lock wait timeout rolls back only that statement, not the transaction.
        if (!keep) await lease.write(statements.rollback).catch(() => undefined)
      }
      if (keep) await lease.write(statements.commit)
      return keep
    },
  }
  return lease
}

function isConflict(error: unknown): boolean {
  const errno = typeof error === 'object' && error !== null ? (error as { errno?: unknown }).errno : undefined
  return errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT
}
