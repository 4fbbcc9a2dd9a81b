/**
 * What the plugin on the memory engine adds to the floor under any signed-cookie session (`bench/servers/floor-app.ts`:
 * the same hooks, the Cookie header read and its HMAC checked or a new signed id set, no store), through `app.handle`:
 * scenarios a (read and increment) and c (a new session) on both, each paired with bare Elysia as `paired.ts` does,
 * with the bare request carrying the same cookie.
 *
 *   bun bench/micro/floor-gap.ts [--seconds 6]
 */
import { parseArgs } from 'node:util'
import { positiveInteger } from '../resources/shared.js'
import { floorApp } from '../servers/floor-app.js'
import { measurePaired } from './paired.js'
import { BENCH_SECRET, ORIGIN, openRequestScenarios, type RequestScenario } from './request-apps.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: { seconds: { type: 'string', default: '6' } },
  strict: true,
})
const seconds = positiveInteger('seconds', flags.seconds)

const floor = floorApp(BENCH_SECRET)
const floorCookie = (await floor.handle(new Request(`${ORIGIN}/c`))).headers.getSetCookie()[0]?.split(';')[0]
if (!floorCookie?.startsWith('sessid=')) throw new Error('the floor app set no session cookie')
const floorScenarios: RequestScenario[] = [
  {
    key: 'floor-a',
    name: 'floor, a',
    send: () => floor.handle(new Request(`${ORIGIN}/a`, { headers: { cookie: floorCookie } })),
  },
  { key: 'floor-c', name: 'floor, c', send: () => floor.handle(new Request(`${ORIGIN}/c`)) },
]

const opened = await openRequestScenarios()
try {
  const byKey = (key: string) => {
    const scenario = opened.scenarios.find((candidate) => candidate.key === key)
    if (!scenario) throw new Error(`no request scenario ${key}`)
    return scenario
  }
  const [floorA, floorC] = floorScenarios as [RequestScenario, RequestScenario]
  const results = await measurePaired(byKey('bare'), [floorA, byKey('a'), floorC, byKey('c')], seconds)
  console.log(`Through app.handle, each paired with bare Elysia (${seconds} s each)`)
  console.table(
    results.map((result) => ({
      scenario: result.name,
      '× bare (median of pairs)': result.timesBare.toFixed(2),
      quartiles: result.quartiles.map((value) => value.toFixed(2)).join('–'),
      'ns per request': Math.round(result.scenarioNs),
    })),
  )
} finally {
  await opened.close()
}
