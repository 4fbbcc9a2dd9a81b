/**
 * What the response headers a session must send cost on their own, with no session: Elysia routes that only set
 * `Vary: Cookie`, or that and a `Set-Cookie` of our cookie's length, paired with bare Elysia as `paired.ts` does; then
 * Bun's own `Response` and `Headers` constructors with and without one header, in ns per call.
 *
 *   bun bench/micro/response-headers.ts [--seconds 8]
 */
import { parseArgs } from 'node:util'
import { Elysia } from 'elysia'
import { positiveInteger } from '../resources/shared.js'
import { measurePaired } from './paired.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: { seconds: { type: 'string', default: '8' } },
  strict: true,
})
const seconds = positiveInteger('seconds', flags.seconds)

const ORIGIN = 'http://localhost'
const COOKIE = `sessid=${'i'.repeat(32)}.${'s'.repeat(43)}`
const requestHeaders = { cookie: COOKIE }

const bare = new Elysia().get('/', () => 1)
const withVary = new Elysia().get('/', ({ set }) => {
  set.headers.vary = 'Cookie'
  return 1
})
const withVaryAndCookie = new Elysia().get('/', ({ set }) => {
  set.headers.vary = 'Cookie'
  set.headers['set-cookie'] = `${COOKIE}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`
  return 1
})
const scenario = (key: string, name: string, app: { handle(request: Request): Promise<Response> }) => ({
  key,
  name,
  send: () => app.handle(new Request(`${ORIGIN}/`, { headers: requestHeaders })),
})

const paired = await measurePaired(
  scenario('bare', 'bare Elysia', bare),
  [
    scenario('vary', 'Vary: Cookie', withVary),
    scenario('vary-cookie', 'Vary: Cookie and Set-Cookie', withVaryAndCookie),
  ],
  seconds,
)
console.log(`Through app.handle, paired with bare Elysia (${seconds} s each)`)
console.table(
  paired.map((result) => ({
    'response headers': result.name,
    '× bare (median of pairs)': result.timesBare.toFixed(2),
    quartiles: result.quartiles.map((value) => value.toFixed(2)).join('–'),
    'ns per request': Math.round(result.scenarioNs),
    'bare ns': Math.round(result.bareNs),
  })),
)

const CALLS = 300_000
/** The mean time of one call of `make`, in ns; what it makes is kept so that the loop is not optimized away. */
const nsPerCall = (make: () => unknown): number => {
  const made: unknown[] = new Array(64)
  const started = Bun.nanoseconds()
  for (let index = 0; index < CALLS; index++) made[index & 63] = make()
  return (Bun.nanoseconds() - started) / CALLS
}
const constructors = {
  "new Response('1')": () => new Response('1'),
  "new Response('1', { headers: { vary: 'Cookie' } })": () => new Response('1', { headers: { vary: 'Cookie' } }),
  "new Headers({ vary: 'Cookie' })": () => new Headers({ vary: 'Cookie' }),
}
const rows = []
for (let round = 0; round < 3; round++) {
  rows.push(Object.fromEntries(Object.entries(constructors).map(([name, make]) => [name, nsPerCall(make).toFixed(0)])))
}
console.log('Bun constructors, ns per call, three rounds')
console.table(rows)
