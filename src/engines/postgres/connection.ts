import { SQL } from 'bun'

/**
 * Opens a connection pool on `url` whose connection attempts give up after twice `operationTimeout`: calls waiting for
 * a connection fail with the engine's own timeout first, while a slow connect still gets to finish for later calls,
 * and a server that accepts connections but never answers cannot pile them up forever (Bun's default is 30 s).
 */
export function openSessionClient(url: string, operationTimeout: number): SQL {
  const database = decodeURIComponent(new URL(url).pathname.slice(1))
  return new SQL({
    url,
    adapter: 'postgres',
    connectionTimeout: (2 * operationTimeout) / 1_000,
    // Bun lets PGDATABASE override the database named in the URL; the URL the app passed must win.
    ...(database !== '' && { database }),
  })
}

/** Whether `client` is a Bun SQL client that talks to PostgreSQL. */
export function isPostgresClient(client: unknown): client is SQL {
  return client instanceof SQL && client.options.adapter === 'postgres'
}

/** The server and database `client` connects to, for error messages; never the password. */
export function describeServer(client: SQL): string {
  const { hostname, port, database } = client.options as { hostname?: string; port?: number; database?: string }
  return `PostgreSQL database '${database ?? '?'}' at ${hostname ?? '?'}:${port ?? '?'}`
}
