import type { Database, Statement } from 'bun:sqlite'

/** A connection whose prepared statements can all be finalized at once. */
export interface TrackedConnection {
  /** The connection to hand to Drizzle: the same database, with every `prepare` recorded. */
  readonly client: Database
  /** Finalizes every statement prepared through `client` so far. */
  finalizeAll(): void
}

/**
 * Records the statements Drizzle prepares on `connection`, for the migrator, which prepares one per statement it
 * runs: a statement left unfinalized keeps the database open after `close()` until it is garbage-collected.
 */
export function trackStatements(connection: Database): TrackedConnection {
  const statements: Statement[] = []
  const client = new Proxy(connection, {
    get(target, property) {
      if (property === 'prepare') {
        return (...args: Parameters<Database['prepare']>) => {
          const statement = target.prepare(...args)
          statements.push(statement as Statement)
          return statement
        }
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    client,
    finalizeAll() {
      for (const statement of statements.splice(0)) statement.finalize()
    },
  }
}
