/** The environment variables that name the test servers of the server-backed engines, as .ci/run sets them. */
const EXAMPLES = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  MYSQL_URL: 'mysql://root@127.0.0.1:3306/test',
} as const

/** What a server-backed test file needs to know about its server. */
export interface TestService {
  /** The server's URL, or undefined when the variable is not set and the tests are skipped. */
  readonly url: string | undefined
  /** `name`, plus why its tests are skipped when they are, so `bun test` shows the reason. */
  readonly label: string
}

/**
 * Reads the URL of a test server from `variable`. Without it the tests are skipped, and their label says so; with
 * it they must reach the server or fail. Tests only ever connect to 127.0.0.1.
 *
 * @example
 * const redis = testService('REDIS_URL', 'redis engine')
 * describe.skipIf(!redis.url)(redis.label, () => { ... })
 */
export function testService(variable: keyof typeof EXAMPLES, name: string): TestService {
  const url = process.env[variable]
  if (!url) return { url, label: `${name} (skipped: set ${variable}, e.g. ${variable}=${EXAMPLES[variable]})` }
  const { hostname } = new URL(url)
  if (hostname !== '127.0.0.1') {
    throw new Error(`${variable} must point at 127.0.0.1 (tests never connect elsewhere), got ${hostname}`)
  }
  return { url, label: name }
}
