import { beforeAll, describe, expect, test } from 'bun:test'
import { fileURLToPath } from 'node:url'

// Each fixture runs the conformance suite on one or more engines in its own `bun test` process, so the failures
// the suite is meant to produce can be observed without failing this run.

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))
const SPAWN_TIMEOUT = 60_000

interface SuiteRun {
  readonly exitCode: number
  readonly output: string
  readonly passed: ReadonlySet<string>
  readonly failed: ReadonlySet<string>
}

async function runFixture(file: string): Promise<SuiteRun> {
  const child = Bun.spawn([process.execPath, 'test', `./test/fixtures/${file}`], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  const output = stdout + stderr
  return { exitCode, output, passed: testsMarked(output, 'pass'), failed: testsMarked(output, 'fail') }
}

/** Full names of the tests `bun test` reported with `(pass)` or `(fail)`, without their durations. */
function testsMarked(output: string, result: 'pass' | 'fail'): Set<string> {
  const prefix = `(${result}) `
  return new Set(
    output
      .split('\n')
      .filter((line) => line.startsWith(prefix))
      .map((line) => line.slice(prefix.length).replace(/ \[[\d.]+m?s\]$/, '')),
  )
}

/** The full name of one conformance test of the engine the suite was named for. */
const contract = (engine: string, method: string, sentence: string) =>
  `${engine} engine conformance > ${method} > ${sentence}`

const MODEL_TEST =
  'random sequences of every method, with concurrent commits and a moving clock, agree with a reference model after every step'

const FIXTURES = [
  'conformance-memory.ts',
  'conformance-stores-nothing.ts',
  'conformance-overwrites.ts',
  'conformance-returns-expired.ts',
  'conformance-subtle-bugs.ts',
  'conformance-sequence-bugs.ts',
  'conformance-synchronous-bugs.ts',
] as const

const runs = new Map<string, Promise<SuiteRun>>()
const run = (file: (typeof FIXTURES)[number]) => runs.get(file) as Promise<SuiteRun>

beforeAll(() => {
  // Started together, awaited by the tests that need them.
  for (const file of FIXTURES) runs.set(file, runFixture(file))
})

describe('the conformance suite', () => {
  test(
    'passes the memory engine, so the failures below come from the broken engines',
    async () => {
      const { exitCode, output, passed, failed } = await run('conformance-memory.ts')
      expect(failed).toEqual(new Set())
      expect(output).toContain(' 0 fail')
      expect(exitCode).toBe(0)
      expect(passed).toContain(contract('memory', 'commit', 'commit keeps every stored key it does not change'))
      expect(passed).toContain(
        contract('memory', 'deleteByOwner', 'deleteByOwner keeps the sessions whose id is in except'),
      )
      expect(passed.size).toBeGreaterThan(40)
      // Every test runs again through the engine's synchronous calls...
      expect(passed).toContain(
        'memory engine conformance through synchronous calls > commit > commit keeps every stored key it does not change',
      )
      // Owner tests run for engines that declare owners, even when the suite learns it only as the tests run...
      expect(passed).toContain(
        contract('memory made in a hook', 'listByOwner', 'listByOwner yields nothing for an unknown owner'),
      )
      expect(passed).toContain(
        'memory made in a hook engine conformance through synchronous calls > load > load resolves to null for an unknown id',
      )
      // ...and are not registered for an engine without an owner index.
      const unindexed = [...passed].filter((name) => name.startsWith('memory without owner index engine conformance'))
      expect(unindexed.length).toBeGreaterThan(40)
      expect(unindexed.filter((name) => name.includes('ByOwner'))).toEqual([])
      // ...but not for a wrapper that spreads the engine: its synchronous calls are the inner engine's, not its own.
      expect(unindexed.filter((name) => name.includes('through synchronous calls'))).toEqual([])
    },
    SPAWN_TIMEOUT,
  )

  test(
    'fails an engine that stores nothing',
    async () => {
      const { exitCode, passed, failed } = await run('conformance-stores-nothing.ts')
      expect(exitCode).not.toBe(0)
      for (const [method, sentence] of [
        ['load', 'load resolves to the data and expiry of a committed session'],
        ['commit', 'commit creates a session that is unknown'],
        ['commit and load', 'an encoded bigint round-trips unchanged'],
        ['touch', 'touch moves the expiry of a live session and resolves to true'],
        ['count', 'count counts the sessions alive at now'],
        ['entries', 'entries yields every live session exactly once, with its data and expiry'],
        [
          'deleteExpired',
          'deleteExpired deletes exactly the sessions expired at now and resolves to how many it deleted',
        ],
      ] as const) {
        expect(failed).toContain(contract('forgetful', method, sentence))
      }
      // What an empty engine does right still passes: the failures name broken promises, not a crashed suite.
      expect(passed).toContain(contract('forgetful', 'load', 'load resolves to null for an unknown id'))
      expect(passed).toContain(contract('forgetful', 'count', 'count resolves to 0 when no session is stored'))
    },
    SPAWN_TIMEOUT,
  )

  test(
    'fails an engine that overwrites the stored data instead of merging into it',
    async () => {
      const { exitCode, passed, failed } = await run('conformance-overwrites.ts')
      expect(exitCode).not.toBe(0)
      for (const sentence of [
        'commit keeps every stored key it does not change',
        'commit writes set and removes deleted in one call',
        'two concurrent commits that change different keys of one session both keep their writes',
      ]) {
        expect(failed).toContain(contract('overwriting', 'commit', sentence))
      }
      expect(passed).toContain(contract('overwriting', 'commit', 'commit creates a session that is unknown'))
      expect(passed).toContain(
        contract('overwriting', 'load', 'load never returns an expired session, even before it has been swept'),
      )
    },
    SPAWN_TIMEOUT,
  )

  test(
    'fails an engine whose load returns expired sessions',
    async () => {
      const { exitCode, passed, failed } = await run('conformance-returns-expired.ts')
      expect(exitCode).not.toBe(0)
      expect(failed).toContain(
        contract('unswept', 'load', 'load never returns an expired session, even before it has been swept'),
      )
      expect(passed).toContain(contract('unswept', 'count', 'count never counts an expired session'))
      expect(passed).toContain(contract('unswept', 'commit', 'commit keeps every stored key it does not change'))
    },
    SPAWN_TIMEOUT,
  )

  test.each([
    ['aliasing', 'load', 'changing the data load returned never changes what is stored'],
    [
      'keeps-commit-values',
      'commit',
      'changing the values a commit was given, once it resolved, never changes what is stored',
    ],
    ['resurrecting', 'touch', 'touch resolves to false for an unknown id and never creates it'],
    ['resurrecting', 'touch', 'touch never re-creates an expired session'],
    ['resurrecting', 'touch', 'touch never re-creates a deleted session'],
    ['unbatched', 'entries', 'entries yields batches of at most batchSize'],
    ['utf8', 'commit and load', 'strings of any characters round-trip unchanged'],
    ['utf8', 'commit and load', 'a string of every UTF-16 code unit round-trips unchanged'],
    ['overcounting', 'count', 'count never counts an expired session'],
    [
      'silent-sweep',
      'deleteExpired',
      'deleteExpired deletes exactly the sessions expired at now and resolves to how many it deleted',
    ],
    ['racy', 'commit', 'two concurrent commits that change different keys of one session both keep their writes'],
    [
      'stale-owner-index',
      'listByOwner',
      'listByOwner never yields a deleted session, even when its id is committed again without an owner',
    ],
    ['undeclared-owners', 'listByOwner', 'listByOwner yields nothing for an unknown owner'],
    // The model-based test finds these too, from its default number of runs.
    ['keeps-commit-values', 'model', MODEL_TEST],
    ['resurrecting', 'model', MODEL_TEST],
    ['overcounting', 'model', MODEL_TEST],
    ['racy', 'model', MODEL_TEST],
  ] as const)(
    'fails the %s engine on "%s > %s"',
    async (engine, method, sentence) => {
      const { exitCode, passed, failed } = await run('conformance-subtle-bugs.ts')
      expect(exitCode).not.toBe(0)
      expect(failed).toContain(contract(engine, method, sentence))
      expect(passed).toContain(contract(engine, 'load', 'load resolves to the data and expiry of a committed session'))
    },
    SPAWN_TIMEOUT,
  )

  test.each([
    ['soft-delete', "brings a deleted session's keys back when its id is committed again"],
    ['drifting-count', 'counts one too many after a commit to an expired session that was not swept yet'],
  ] as const)(
    'fails the %s engine, which %s, on the model-based test alone',
    async (engine) => {
      const { exitCode, output, passed, failed } = await run('conformance-sequence-bugs.ts')
      expect(exitCode).not.toBe(0)
      const mine = (names: ReadonlySet<string>) =>
        [...names].filter((name) => name.startsWith(`${engine} engine conformance > `))
      expect(mine(failed)).toEqual([contract(engine, 'model', MODEL_TEST)])
      expect(mine(passed).length).toBeGreaterThan(40)
      // The failure says how to replay it.
      expect(output).toContain('replay it with runEngineConformance(name, factory, { modelSeed: ')
    },
    SPAWN_TIMEOUT,
  )

  test.each([
    ['synchronously-resurrecting', 'commit', 'commit with existingOnly never re-creates a deleted session'],
    ['synchronously-aliasing', 'load', 'changing the data load returned never changes what is stored'],
    ['promising', 'load', 'load resolves to the data and expiry of a committed session'],
  ] as const)(
    'fails the %s engine on "%s > %s" through its synchronous calls alone',
    async (engine, method, sentence) => {
      const { exitCode, failed, passed } = await run('conformance-synchronous-bugs.ts')
      expect(exitCode).not.toBe(0)
      const throughCalls = `${engine} engine conformance through synchronous calls > ${method} > ${sentence}`
      expect(failed).toContain(throughCalls)
      expect(passed).toContain(contract(engine, method, sentence))
    },
    SPAWN_TIMEOUT,
  )

  test(
    'fails when it cannot tell whether an engine keeps an owner index or offers synchronous calls and the caller does not say',
    async () => {
      const { failed } = await run('conformance-subtle-bugs.ts')
      expect(failed).toContain(
        'silent-on-owners engine conformance > the suite learns whether the engine declares capabilities.owners',
      )
      expect(failed).toContain(
        'silent-on-owners engine conformance through synchronous calls > the suite learns whether the engine offers synchronous calls',
      )
    },
    SPAWN_TIMEOUT,
  )
})
