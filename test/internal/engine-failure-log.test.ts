import { expect, test } from 'bun:test'
import { EngineFailureLog } from '../../src/engine-failure-log.js'
import { SessionEngineError } from '../../src/errors.js'

function recorder() {
  const lines: { message: string; cause: unknown }[] = []
  return { lines, logger: { error: (message: string, cause?: unknown) => lines.push({ message, cause }) } }
}

const failure = (reason: string) => new SessionEngineError('load a session', new Error(reason))

test('the first failure of a burst is logged in full with its cause, the rest as one count when it ends', () => {
  let now = 1_000_000
  const { lines, logger } = recorder()
  const log = new EngineFailureLog(logger, () => now)
  const first = failure('ECONNREFUSED')
  log.report(first)
  for (let each = 0; each < 500; each++) log.report(failure('ECONNREFUSED'))
  log.report(failure('timed out'))
  expect(lines).toEqual([
    {
      message:
        'elysia-sessions: session engine failed to load a session: ECONNREFUSED (more failures in the next 10 s are counted, not logged)',
      cause: first.cause,
    },
  ])
  // A failure after the burst ends logs the count first, then itself in full.
  now += 10_000
  log.report(failure('back again'))
  expect(lines.map((line) => line.message)).toEqual([
    expect.stringContaining('ECONNREFUSED'),
    'elysia-sessions: 501 more session engine failures in the same burst; the last: session engine failed to load a session: timed out',
    expect.stringContaining('back again'),
  ])
  log.flush()
  expect(lines).toHaveLength(3)
})

test('the count is logged by a timer when the burst ends, with no further failure needed', async () => {
  let now = 0
  const { lines, logger } = recorder()
  const log = new EngineFailureLog(logger, () => now)
  log.report(failure('a'))
  now = 9_990
  log.report(failure('b'))
  expect(lines).toHaveLength(1)
  // The timer was set for the end of the burst, 10 ms away.
  await Bun.sleep(60)
  expect(lines.map((line) => line.message)).toEqual([
    expect.stringContaining(': a (more'),
    'elysia-sessions: 1 more session engine failure in the same burst; the last: session engine failed to load a session: b',
  ])
})

test('an error seen by several hooks is logged once, and a logger that throws changes nothing', () => {
  const { lines, logger } = recorder()
  const log = new EngineFailureLog(logger)
  const error = failure('x')
  log.report(error)
  log.report(error)
  log.flush()
  expect(lines).toHaveLength(1)
  const throwing = new EngineFailureLog({
    error() {
      throw new Error('log sink down')
    },
  })
  expect(() => throwing.report(failure('y'))).not.toThrow()
})
