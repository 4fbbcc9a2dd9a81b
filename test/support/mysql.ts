import { createPool, type Pool } from 'mysql2/promise'

/** A database of its own on the shared test server, empty when made and dropped by `dropAll`. */
export interface FreshDatabase {
  readonly name: string
  /** The server's URL with this database in its path. */
  readonly url: string
  /** The same URL through a proxy listening on `port` of 127.0.0.1. */
  urlThrough(port: number): string
  /** The name of every table in the database, sorted. */
  tables(): Promise<string[]>
}

/**
 * Makes fresh databases on the server at `serverUrl` for one test file, and drops them all at its end; `admin` is a
 * pool of the test's own, on no database, for checks behind the engines' backs.
 */
export function freshDatabases(serverUrl: string) {
  const server = new URL(serverUrl)
  server.pathname = '/'
  const admin = createPool({ uri: server.href, connectionLimit: 4, multipleStatements: false })
  const made: string[] = []
  let count = 0

  return {
    admin,

    /** Creates a database whose name starts with `label`, when given, so a leftover tells which test made it. */
    async create(label?: string): Promise<FreshDatabase> {
      // Unique across files, processes and runs, and within MySQL's 64 characters for a label of up to 24.
      const name = `es_test_${label === undefined ? '' : `${label}_`}${process.pid}_${Date.now().toString(36)}_${count++}`
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
      made.push(name)
      const url = new URL(serverUrl)
      url.pathname = `/${name}`
      return {
        name,
        url: url.href,
        urlThrough(port) {
          const through = new URL(url)
          through.port = String(port)
          return through.href
        },
        async tables() {
          const [rows] = await admin.query<{ name: string }[] & import('mysql2').RowDataPacket[]>(
            'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?',
            [name],
          )
          return rows.map((row) => row.name).toSorted()
        },
      }
    },

    /** Drops every database this file made, then ends the admin pool. */
    async dropAll(): Promise<void> {
      try {
        for (const name of made.splice(0)) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await admin.end()
      }
    },
  }
}

/** The rows `sql` selects, each an array of its columns. */
export async function rowsOf(pool: Pool, sql: string, values: unknown[] = []): Promise<unknown[][]> {
  const [rows] = await pool.query({ sql, values, rowsAsArray: true })
  return rows as unknown[][]
}

/** The first column of the first row `sql` selects. */
export async function scalar(pool: Pool, sql: string, values: unknown[] = []): Promise<unknown> {
  return (await rowsOf(pool, sql, values))[0]?.[0]
}

/** The ids of the server connections open on `database`, other than the admin pool's own. */
export async function connectionIdsOn(admin: Pool, database: string): Promise<number[]> {
  const rows = await rowsOf(
    admin,
    'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
    [database],
  )
  return rows.map((row) => Number(row[0]))
}
