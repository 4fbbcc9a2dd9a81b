/**
 * What the response headers a session sends cost on their own, with no session. Elysia routes paired with one that
 * touches `set` and sets nothing (Elysia compiles a handler that uses `set` differently, so that is the fair
 * comparison), as `paired.ts` pairs scenarios with bare Elysia: one sets `Vary: Cookie`, one that and a `Set-Cookie`
 * of our cookie's length, written straight into `set.headers` rather than through Elysia's `set.cookie`. Then Bun's own
 * `Response` and `Headers` constructors with and without one header, in ns per call.
 *
 *   bun bench/micro/response-headers.ts [--seconds 8]
 */
import { parseArgs } from 'node:util'
import { Elysia } from 'elysia'
import { positiveInteger } from '../resources/shared.js'
import { measurePaired } from './paired.js'
import { ORIGIN } from './request-apps.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: { seconds: { type: 'string', default: '8' } },
  strict: true,
})
const seconds = positiveInteger('seconds', flags.seconds)

const COOKIE = `sessid=${'i'.repeat(32)}.${'s'.repeat(43)}`
const SET_COOKIE = `${COOKIE}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`
const requestHeaders = { cookie: COOKIE }

/** Each route's name, the headers it sets, and the app serving it on `/`. */
const routes = [
  { key: 'set', name: 'touches set, no header', headers: {} },
  { key: 'vary', name: 'Vary: Cookie', headers: { vary: 'Cookie' } },
  { key: 'vary-cookie', name: 'Vary: Cookie and Set-Cookie', headers: { vary: 'Cookie', 'set-cookie': SET_COOKIE } },
].map((route) => {
  const entries = Object.entries(route.headers)
  const app = new Elysia().get('/', ({ set }) => {
    for (const [name, value] of entries) set.headers[name] = value
    return 1
  })
  return { ...route, send: () => app.handle(new Request(`${ORIGIN}/`, { headers: requestHeaders })) }
})

for (const route of routes) {
  const response = await route.send()
  const sent = Object.entries(route.headers).every(([name, value]) => response.headers.get(name) === value)
  if (response.status !== 200 || !sent) throw new Error(`the route "${route.name}" did not answer as expected`)
}

const [control, ...withHeaders] = routes as [(typeof routes)[0], ...typeof routes]
const paired = await measurePaired(control, withHeaders, seconds)
console.log(`Through app.handle, each paired with the route that touches set and sets nothing (${seconds} s each)`)
console.table(
  paired.map((result) => ({
    'response headers': result.name,
    '× no header (median of pairs)': result.timesBare.toFixed(2),
    quartiles: result.quartiles.map((value) => value.toFixed(2)).join('–'),
    'ns per request': Math.round(result.scenarioNs),
    'no header, ns': Math.round(result.bareNs),
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
const constructors: Record<string, () => unknown> = {
  "new Response('1')": () => new Response('1'),
  "new Response('1', { headers: { vary: 'Cookie' } })": () => new Response('1', { headers: { vary: 'Cookie' } }),
  "new Headers({ vary: 'Cookie' })": () => new Headers({ vary: 'Cookie' }),
}
// A first round unrecorded, so that every constructor is compiled before it is timed.
for (const make of Object.values(constructors)) nsPerCall(make)
const rounds: Record<string, string>[] = Array.from({ length: 3 }, () =>
  Object.fromEntries(Object.entries(constructors).map(([name, make]) => [name, nsPerCall(make).toFixed(0)])),
)
console.log('Bun constructors, ns per call, three rounds')
console.table(rounds)
