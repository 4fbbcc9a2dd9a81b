import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SessionEngine } from 'elysia-sessions'
import { fileEngine } from 'elysia-sessions/engines/file'
import { createKeyedQueue, sessionFileQueue } from '../../src/engines/file/keyed-queue.js'

const HOUR = 3_600_000

const tempDirs: string[] = []
const engines: SessionEngine[] = []

/** A fresh empty folder under the system temp folder, removed after the run. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'file-engine-queue-'))
  tempDirs.push(dir)
  return dir
}

/** A file engine on `dir`, closed after the test. */
function openEngine(dir: string): { engine: SessionEngine } {
  const engine = fileEngine({ dir, logger: { error: () => undefined } })
  engines.push(engine)
  return { engine }
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()))
})

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

async function commitSession(engine: SessionEngine, id: string, now: number, lifetime = HOUR): Promise<number> {
  const expiresAt = now + lifetime
  await engine.commit(id, { set: { 'string:id': id }, deleted: [], expiresAt }, now)
  return expiresAt
}

/** The text of a session file as the engine writes it. */
function sessionFileText(expiresAt: number, data: object): string {
  return JSON.stringify({ expiresAt, data })
}

describe('the keyed queue', () => {
  test('tasks on one key never overlap, other keys run meanwhile, and a failed task does not stop the next', async () => {
    const queue = createKeyedQueue()
    const events: string[] = []
    const task =
      (name: string, fail = false) =>
      async () => {
        events.push(`start ${name}`)
        await Bun.sleep(5)
        events.push(`end ${name}`)
        if (fail) throw new Error(name)
        return name
      }
    const results = await Promise.allSettled([
      queue.run('a', task('a1', true)),
      queue.run('a', task('a2')),
      queue.run('b', task('b1')),
    ])
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect(events.indexOf('end a1')).toBeLessThan(events.indexOf('start a2'))
    expect(events.indexOf('start b1')).toBeLessThan(events.indexOf('end a1'))
    expect(queue.size).toBe(0)
  })
})

describe('fileEngine on the shared session-file queue', () => {
  test('the queue forgets a session as soon as its changes are done', async () => {
    const { engine } = openEngine(tempDir())
    const now = Date.now()
    const calls = Array.from({ length: 200 }, (_, index) => {
      const id = `queued-${index % 20}`
      if (index % 10 === 9) return engine.delete(id)
      if (index % 10 === 8) return engine.touch(id, now + 2 * HOUR, now)
      return commitSession(engine, id, now)
    })
    expect(sessionFileQueue.size).toBe(20)
    await Promise.all(calls)
    expect(sessionFileQueue.size).toBe(0)
  })

  test('a session refreshed while the sweep waits for its turn survives', async () => {
    const dir = tempDir()
    const { engine } = openEngine(dir)
    const now = Date.now()
    await commitSession(engine, 'busy', now, 1_000)
    const sessionPath = join(realpathSync(dir), 'busy.session.json')
    const { promise: released, resolve: release } = Promise.withResolvers<void>()
    // Holds the session's queue as a running request would, and refreshes the session before letting go.
    const request = sessionFileQueue.run(sessionPath, async () => {
      await released
      writeFileSync(sessionPath, sessionFileText(now + HOUR, { 'string:id': 'busy' }))
    })
    const sweep = engine.deleteExpired(now + 5_000)
    // Long enough for the sweep to read the still-expired file and queue up behind the request.
    await Bun.sleep(100)
    release()
    await request
    expect(await sweep).toBe(0)
    expect((await engine.load('busy', now + 5_000))?.expiresAt).toBe(now + HOUR)
  })
})
