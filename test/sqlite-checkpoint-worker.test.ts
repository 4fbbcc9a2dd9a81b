import { Database } from 'bun:sqlite'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SessionEngine, SessionLogger } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { createCheckpointWorker } from '../src/engines/sqlite/checkpoint-worker.js'
import { autocheckpointPages } from '../src/engines/sqlite/connection.js'
import { eventually, freshDatabasePath, openRaw } from './support/sqlite.js'

const FAILING_ENTRY = new URL('./fixtures/sqlite-checkpoint-worker-failing.ts', import.meta.url).href
const HOUR = 3_600_000
/** The write transactions after which the checkpoint worker starts. */
const START_AFTER_WRITES = 1_000

const RealWorker = globalThis.Worker
/** The checkpoint workers started during the test, and whether each has ended. */
let checkpointWorkers: { ended: boolean }[] = []
/** Whether checkpoint workers run the fixture whose checkpoints all fail. */
let failing = false

class WatchedWorker extends RealWorker {
  constructor(entry: string | URL, options?: WorkerOptions) {
    const isCheckpointWorker = String(entry).includes('checkpoint-worker-entry')
    super(isCheckpointWorker && failing ? FAILING_ENTRY : entry, options)
    if (!isCheckpointWorker) return
    const watched = { ended: false }
    checkpointWorkers.push(watched)
    this.addEventListener('close', () => {
      watched.ended = true
    })
  }
}

const folders: string[] = []

/** A fresh database path whose folder goes when the file's tests end. */
function databasePath(): string {
  const path = freshDatabasePath()
  folders.push(dirname(path))
  return path
}

beforeEach(() => {
  checkpointWorkers = []
  failing = false
  globalThis.Worker = WatchedWorker
})

afterEach(() => {
  globalThis.Worker = RealWorker
})

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

function recordingLogger(): { logger: SessionLogger; logged: string[] } {
  const logged: string[] = []
  return { logger: { error: (message, cause) => logged.push(`${message}: ${String(cause)}`) }, logged }
}

/**
 * A WAL database whose own connection never checkpoints, with a table to write to: the database file stays as it was
 * created until some other connection copies the WAL into it.
 */
function walWithoutCheckpoints(path: string): Database {
  const database = new Database(path, { create: true, strict: true })
  database.run('PRAGMA journal_mode = WAL')
  database.run('PRAGMA wal_autocheckpoint = 0')
  database.run('CREATE TABLE t (text TEXT)')
  return database
}

/** Writes `count` rows of 200 characters, each in a write transaction of its own, and tells `wrote` of each. */
function writeRows(database: Database, count: number, wrote: () => void): void {
  for (let n = 0; n < count; n++) {
    database.run('INSERT INTO t VALUES (?)', ['x'.repeat(200)])
    wrote()
  }
}

/** Commits `count` sessions on `engine`, each in a write transaction of its own. */
async function commitOneByOne(engine: SessionEngine, count: number): Promise<void> {
  const now = Date.now()
  for (let n = 0; n < count; n++) {
    await engine.commit(`session-${n}`, { set: { 'int:n': n }, deleted: [], expiresAt: now + HOUR }, now)
  }
}

describe('the checkpoint worker', () => {
  test('copies the WAL of a connection that never checkpoints itself into the file, once it has started', async () => {
    const path = databasePath()
    const database = walWithoutCheckpoints(path)
    const { logger, logged } = recordingLogger()
    const worker = createCheckpointWorker(path, database, logger)
    try {
      const created = statSync(path).size
      writeRows(database, START_AFTER_WRITES - 1, () => worker.wrote())
      await Bun.sleep(50)
      expect(checkpointWorkers).toEqual([])
      expect(statSync(path).size).toBe(created)
      // The thousandth write starts the worker; the writes after it get their checkpoints.
      writeRows(database, 1, () => worker.wrote())
      expect(checkpointWorkers).toHaveLength(1)
      // About 200 KB of rows: in the file once checkpointed.
      const copied = await eventually(() => {
        writeRows(database, 32, () => worker.wrote())
        return statSync(path).size > 200_000
      })
      expect(copied).toBe(true)
      expect(logged).toEqual([])
    } finally {
      await worker.stop()
      database.close()
    }
    expect(checkpointWorkers.map((started) => started.ended)).toEqual([true])
  })

  test('that cannot open its file is logged once, and never starts again', async () => {
    const path = databasePath()
    const { logger, logged } = recordingLogger()
    const serving = new Database(':memory:')
    const worker = createCheckpointWorker(path, serving, logger)
    for (let n = 0; n < START_AFTER_WRITES; n++) worker.wrote()
    expect(await eventually(() => logged.length > 0)).toBe(true)
    expect(logged).toEqual([expect.stringContaining(`the SQLite checkpoint worker could not open ${path}`)])
    expect(logged[0]).toContain('checkpoints on the main thread alone from now on')
    for (let n = 0; n < 2 * START_AFTER_WRITES; n++) worker.wrote()
    await Bun.sleep(50)
    expect(checkpointWorkers).toHaveLength(1)
    expect(logged).toHaveLength(1)
    await worker.stop()
    serving.close()
  })

  test('whose checkpoint fails is logged once and ended, and is never asked again', async () => {
    failing = true
    const path = databasePath()
    const database = walWithoutCheckpoints(path)
    const { logger, logged } = recordingLogger()
    const worker = createCheckpointWorker(path, database, logger)
    try {
      writeRows(database, START_AFTER_WRITES, () => worker.wrote())
      const failed = await eventually(() => {
        writeRows(database, 32, () => worker.wrote())
        return logged.length > 0
      })
      expect(failed).toBe(true)
      expect(logged).toEqual([
        expect.stringContaining('the SQLite checkpoint worker failed to checkpoint; the SQLite engine checkpoints'),
      ])
      expect(logged[0]).toContain('disk on fire')
      expect(await eventually(() => checkpointWorkers[0]?.ended === true)).toBe(true)
      writeRows(database, 2 * START_AFTER_WRITES, () => worker.wrote())
      await Bun.sleep(50)
      expect(checkpointWorkers).toHaveLength(1)
      expect(logged).toHaveLength(1)
    } finally {
      await worker.stop()
      database.close()
    }
  })

  test('leaves the serving connection a backstop checkpoint while it runs, and gives back its own once it fails', async () => {
    const path = databasePath()
    const database = walWithoutCheckpoints(path)
    database.run('PRAGMA wal_autocheckpoint = 1000')
    const healthy = createCheckpointWorker(path, database, recordingLogger().logger)
    try {
      writeRows(database, START_AFTER_WRITES, () => healthy.wrote())
      expect(await eventually(() => autocheckpointPages(database) === 10_000)).toBe(true)
    } finally {
      await healthy.stop()
    }
    // Stopped with the engine, the worker leaves the closing connection as it was.
    expect(autocheckpointPages(database)).toBe(10_000)

    database.run('PRAGMA wal_autocheckpoint = 700')
    failing = true
    const { logger, logged } = recordingLogger()
    const broken = createCheckpointWorker(path, database, logger)
    try {
      writeRows(database, START_AFTER_WRITES, () => broken.wrote())
      expect(await eventually(() => autocheckpointPages(database) === 10_000)).toBe(true)
      const failed = await eventually(() => {
        writeRows(database, 32, () => broken.wrote())
        return logged.length > 0
      })
      expect(failed).toBe(true)
      expect(autocheckpointPages(database)).toBe(700)
    } finally {
      await broken.stop()
      database.close()
    }
  })

  test('counts a sweep batch as 32 write transactions', async () => {
    const path = databasePath()
    const database = walWithoutCheckpoints(path)
    const worker = createCheckpointWorker(path, database, recordingLogger().logger)
    try {
      for (let batch = 0; batch < 31; batch++) worker.sweptBatch()
      expect(checkpointWorkers).toEqual([])
      // 32 batches count as 1,024 write transactions: past the 1,000 that start the worker.
      worker.sweptBatch()
      expect(checkpointWorkers).toHaveLength(1)
      expect(await eventually(() => autocheckpointPages(database) === 10_000)).toBe(true)
      // Each batch from now on asks for a checkpoint: about 200 KB of rows reach the file without any write counted.
      writeRows(database, 1_000, () => undefined)
      const created = statSync(path).size
      const copied = await eventually(() => {
        worker.sweptBatch()
        return statSync(path).size > created + 100_000
      })
      expect(copied).toBe(true)
    } finally {
      await worker.stop()
      database.close()
    }
  })

  test('stop waits for the worker to end, even one that is not ready yet, and a second stop does nothing', async () => {
    const path = databasePath()
    const database = walWithoutCheckpoints(path)
    const worker = createCheckpointWorker(path, database, recordingLogger().logger)
    for (let n = 0; n < START_AFTER_WRITES; n++) worker.wrote()
    await worker.stop()
    await worker.stop()
    expect(checkpointWorkers.map((started) => started.ended)).toEqual([true])
    database.close()
  })
})

describe('the SQLite engine', () => {
  test('on its own file starts one checkpoint worker after 1,000 write transactions; close() ends it', async () => {
    const path = databasePath()
    const { logger, logged } = recordingLogger()
    const engine = await sqliteEngine({ path, logger })
    try {
      await commitOneByOne(engine, START_AFTER_WRITES - 1)
      await Bun.sleep(50)
      expect(checkpointWorkers).toEqual([])
      await commitOneByOne(engine, 1)
      expect(checkpointWorkers).toHaveLength(1)
      expect(await engine.count(Date.now())).toBe(START_AFTER_WRITES - 1)
    } finally {
      await engine.close()
    }
    expect(checkpointWorkers.map((started) => started.ended)).toEqual([true])
    expect(logged).toEqual([])
    // SQLite removes the WAL when the last connection closes: the worker's connection is closed too.
    expect(await Bun.file(`${path}-wal`).exists()).toBe(false)
  })

  test("on an app's own connection leaves checkpoints to the app, and on :memory: there is no WAL", async () => {
    const database = openRaw(databasePath())
    const shared = await sqliteEngine({ database, migrate: true })
    const inMemory = await sqliteEngine({ path: ':memory:' })
    try {
      await commitOneByOne(shared, START_AFTER_WRITES + 100)
      await commitOneByOne(inMemory, START_AFTER_WRITES + 100)
      expect(checkpointWorkers).toEqual([])
    } finally {
      await shared.close()
      await inMemory.close()
      database.close()
    }
  })
})
