import { SQL } from 'bun'

/** A database of its own for one test file, on the server `DATABASE_URL` names. */
export interface FreshDatabase {
  /** The URL of the new, empty database. */
  readonly url: string
  readonly name: string
  /** A client on the new database for the test's own checks, outside any engine, on one connection. */
  readonly raw: SQL
  /** Closes `raw`, ends every connection still open to the database and drops it. */
  drop(): Promise<void>
}

/** How many times creating a database is retried while another session is using template1. */
const CREATE_ATTEMPTS = 5

/**
 * Creates an empty database with a unique name through `baseUrl`, so the bundled migrations can create the default
 * `sessions` table from scratch and the test's rows never meet another test's.
 */
export async function createFreshDatabase(baseUrl: string, label: string): Promise<FreshDatabase> {
  const name = `elysia_sessions_${label}_${process.pid}_${crypto.randomUUID().slice(0, 8)}`
  const admin = new SQL({ url: baseUrl, max: 1, connectionTimeout: 5 })
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.unsafe(`CREATE DATABASE "${name}"`)
        break
      } catch (error) {
        // 55006: template1 is briefly in use by another session; CREATE DATABASE needs it alone.
        if ((error as { errno?: unknown }).errno !== '55006' || attempt >= CREATE_ATTEMPTS) throw error
        await Bun.sleep(100 * attempt)
      }
    }
  } finally {
    await admin.close()
  }
  const url = urlOfDatabase(baseUrl, name)
  // One connection, so `terminateConnections` through it ends every other connection and never its own.
  const raw = new SQL({ url, database: name, max: 1, connectionTimeout: 5 })
  return {
    url,
    name,
    raw,
    async drop() {
      await raw.close({ timeout: 0 })
      const dropper = new SQL({ url: baseUrl, max: 1, connectionTimeout: 5 })
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await dropper.close()
      }
    },
  }
}

/** `baseUrl` with its database replaced by `name`. */
export function urlOfDatabase(baseUrl: string, name: string): string {
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return url.href
}

/** `url` with its port replaced, to route it through a test's TCP proxy. */
export function urlWithPort(url: string, port: number): string {
  const routed = new URL(url)
  routed.port = String(port)
  return routed.href
}

/** Ends every connection to `database` except `raw`'s own, as an administrator would; resolves to how many. */
export async function terminateConnections(raw: SQL, database: string): Promise<number> {
  const [row] = await raw`
    SELECT count(pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity
    WHERE datname = ${database} AND pid <> pg_backend_pid()`
  return (row as { ended: number }).ended
}

/** Writes `count` sessions straight into `table` in one statement, expiring at `expiresAt`. */
export async function insertRows(raw: SQL, count: number, expiresAt: number, prefix = 'row', table = 'sessions') {
  await raw.unsafe(
    `INSERT INTO "${table}" (id, data, expires_at)
     SELECT $1 || '-' || n, '{"string:n":"x"}', $2::bigint FROM generate_series(1, $3::int) AS n`,
    [prefix, expiresAt, count],
  )
}
