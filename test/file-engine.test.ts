import { afterAll, afterEach, describe, expect, spyOn, test } from 'bun:test'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionConfigError, type SessionEngine, type SessionLogger } from 'elysia-sessions'
import { fileEngine } from 'elysia-sessions/engines/file'
import { runEngineConformance } from 'elysia-sessions/testing'
import { CRASH_IDS, payloadOf } from './fixtures/file-engine-crash-writer.js'
import { PROPERTY_SEED } from './support/property-runs.js'

const HOUR = 3_600_000
const BULK_TIMEOUT = 30_000
const REPO_ROOT = join(import.meta.dir, '..')
const CRASH_WRITER = join(import.meta.dir, 'fixtures', 'file-engine-crash-writer.ts')

const tempDirs: string[] = []

/** A fresh empty folder under the system temp folder, removed after the run. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'file-engine-'))
  tempDirs.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

runEngineConformance('file', () => fileEngine({ dir: tempDir() }), {
  timeout: BULK_TIMEOUT,
  modelRuns: 20,
  modelSeed: PROPERTY_SEED,
})

const sharedDir = tempDir()
runEngineConformance('file (shared dir)', () => fileEngine({ dir: sharedDir }), {
  timeout: BULK_TIMEOUT,
  sharedStore: true,
  modelRuns: 20,
  modelSeed: PROPERTY_SEED,
})

const engines: SessionEngine[] = []

/** A file engine closed after the test; its logger keeps what it was told. */
function openEngine(dir: string, fsync?: boolean): { engine: SessionEngine; logged: LoggedError[] } {
  const logged: LoggedError[] = []
  const logger: SessionLogger = { error: (message, cause) => logged.push({ message, cause }) }
  const engine = fileEngine({ dir, logger, ...(fsync !== undefined && { fsync }) })
  engines.push(engine)
  return { engine, logged }
}

interface LoggedError {
  readonly message: string
  readonly cause: unknown
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()))
})

async function commitSession(engine: SessionEngine, id: string, now: number, lifetime = HOUR): Promise<number> {
  const expiresAt = now + lifetime
  await engine.commit(id, { set: { 'string:id': id }, deleted: [], expiresAt }, now)
  return expiresAt
}

async function entryIds(engine: SessionEngine, now: number, batchSize = 10): Promise<string[]> {
  const ids: string[] = []
  for await (const batch of engine.entries(now, { batchSize })) ids.push(...batch.map((entry) => entry.id))
  return ids.sort()
}

/** The text of a session file as the engine writes it. */
function sessionFileText(expiresAt: number, data: object = { 'string:planted': 'yes' }): string {
  return JSON.stringify({ expiresAt, data })
}

/** Every file, folder and link under `root` with its content, so a test can prove nothing changed. */
function snapshotTree(root: string, snapshot: Record<string, string> = {}, prefix = ''): Record<string, string> {
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const name = join(prefix, entry.name)
    const path = join(root, name)
    if (entry.isDirectory()) {
      snapshot[name] = 'folder'
      snapshotTree(root, snapshot, name)
    } else if (entry.isSymbolicLink()) {
      snapshot[name] = `link to ${readlinkSync(path)}`
    } else {
      snapshot[name] = `${readFileSync(path, 'utf8')} @${lstatSync(path).mtimeMs}`
    }
  }
  return snapshot
}

function setAge(path: string, milliseconds: number): void {
  const past = new Date(Date.now() - milliseconds)
  utimesSync(path, past, past)
}

describe('fileEngine({ dir })', () => {
  test('creates a missing dir with its parents and keeps each session in <id>.session.json', async () => {
    const dir = join(tempDir(), 'a', 'b', 'sessions')
    const { engine } = openEngine(dir)
    const now = Date.now()
    const expiresAt = await commitSession(engine, 'abc', now)
    // Only the session file: no temporary file is left behind.
    expect(readdirSync(dir)).toEqual(['abc.session.json'])
    expect(JSON.parse(readFileSync(join(dir, 'abc.session.json'), 'utf8'))).toEqual({
      expiresAt,
      data: { 'string:id': 'abc' },
    })
  })

  test('session files are readable and writable by their owner only', async () => {
    const dir = tempDir()
    const { engine } = openEngine(dir)
    await commitSession(engine, 'abc', Date.now())
    expect(statSync(join(dir, 'abc.session.json')).mode & 0o777).toBe(0o600)
  })

  test('a dir that cannot be created throws SessionConfigError naming the dir and the fix', () => {
    const parent = join(tempDir(), 'a-file')
    writeFileSync(parent, 'not a folder')
    const dir = join(parent, 'sessions')
    let thrown: unknown
    try {
      fileEngine({ dir })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(SessionConfigError)
    expect((thrown as Error).message).toContain(dir)
    expect((thrown as Error).message).toContain('write permission')
  })

  test('a dir that is a regular file throws SessionConfigError', () => {
    const dir = join(tempDir(), 'a-file')
    writeFileSync(dir, 'not a folder')
    expect(() => fileEngine({ dir })).toThrow(SessionConfigError)
  })

  test('options of the wrong type throw SessionConfigError', () => {
    const dir = tempDir()
    for (const options of [
      { dir: '' },
      { dir: 42 },
      {},
      { dir, fsync: 'yes' },
      { dir, logger: {} },
      { dir, logger: null },
    ]) {
      expect(() => fileEngine(options as unknown as Parameters<typeof fileEngine>[0])).toThrow(SessionConfigError)
    }
    expect(() => fileEngine({ dir, fsync: false, logger: console })).not.toThrow()
  })

  test('a key named __proto__ is kept as data, merged and deleted like any other key', async () => {
    const { engine } = openEngine(tempDir())
    const now = Date.now()
    const expiresAt = now + HOUR
    const set = JSON.parse('{"__proto__": {"polluted": true}, "int:n": 1}')
    await engine.commit('proto', { set, deleted: [], expiresAt }, now)
    await engine.commit('proto', { set: { 'int:m': 2 }, deleted: [], expiresAt }, now)
    const loaded = (await engine.load('proto', now))?.data ?? {}
    expect(Object.keys(loaded).sort()).toEqual(['__proto__', 'int:m', 'int:n'])
    expect(Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value).toEqual({ polluted: true })
    expect('polluted' in {}).toBe(false)
    await engine.commit('proto', { set: {}, deleted: ['__proto__'], expiresAt }, now)
    expect(Object.keys((await engine.load('proto', now))?.data ?? {}).sort()).toEqual(['int:m', 'int:n'])
  })

  test('commit and touch reject an expiry that is not a finite number and write nothing', async () => {
    const dir = tempDir()
    const { engine } = openEngine(dir)
    const now = Date.now()
    for (const expiresAt of [Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(engine.commit('abc', { set: { 'int:n': 1 }, deleted: [], expiresAt }, now)).rejects.toThrow(
        RangeError,
      )
    }
    expect(readdirSync(dir)).toEqual([])
    await commitSession(engine, 'abc', now)
    await expect(engine.touch('abc', Number.NaN, now)).rejects.toThrow(RangeError)
    expect((await engine.load('abc', now))?.expiresAt).toBe(now + HOUR)
  })

  test('close waits for the writes still running', async () => {
    const dir = tempDir()
    const { engine } = openEngine(dir)
    const now = Date.now()
    const commit = engine.commit('abc', { set: { 'int:n': 1 }, deleted: [], expiresAt: now + HOUR }, now)
    await engine.close()
    expect(existsSync(join(dir, 'abc.session.json'))).toBe(true)
    expect(await commit).toBe(true)
  })
})

describe('fileEngine only ever touches <id>.session.json files', () => {
  /** Files that look like sessions, hold live-then-expired session JSON and are old enough for any sweep. */
  const FOREIGN_FILES = [
    'notes.txt',
    'x.json',
    'abc.session.json.bak',
    'x.session.json.tmp',
    'bad id.session.json',
    'a.b.session.json',
    '.hidden.session.json',
    '.session.json',
    `${'x'.repeat(129)}.session.json`,
    '.abc.tmp',
    'y.session.json/z.session.json',
  ]

  test('foreign files are never counted, listed, loaded or deleted, not even by deleteAll or deleteExpired', async () => {
    const dir = tempDir()
    const now = Date.now()
    mkdirSync(join(dir, 'y.session.json'))
    for (const name of FOREIGN_FILES) {
      writeFileSync(join(dir, name), sessionFileText(now + 1_000))
      setAge(join(dir, name), 10 * 60_000)
    }
    const foreign = snapshotTree(dir)
    const { engine, logged } = openEngine(dir)
    await commitSession(engine, 'live', now)
    await commitSession(engine, 'dying', now, 1_000)

    expect(await engine.count(now)).toBe(2)
    expect(await entryIds(engine, now)).toEqual(['dying', 'live'])
    for (const id of ['abc', 'x', 'y', 'hidden', 'bad']) expect(await engine.load(id, now)).toBeNull()
    expect(await engine.touch('y', now + HOUR, now)).toBe(false)
    await engine.delete('y')

    expect(await engine.deleteExpired(now + 5_000)).toBe(1)
    expect(await engine.count(now)).toBe(1)
    await engine.deleteAll()
    expect(await engine.count(now)).toBe(0)
    expect(snapshotTree(dir)).toEqual(foreign)
    expect(logged).toEqual([])
  })
})

describe('fileEngine ids', () => {
  const REJECTED_IDS = ['../x', 'a/b', '..', 'x.session', '', 'x'.repeat(129), '%2e%2e', 'a\u0000b', 'a\\b', ' ', '.']

  test('ids outside [A-Za-z0-9_-]{1,128} are unknown to load, touch and delete, and commit rejects them', async () => {
    const root = tempDir()
    const dir = join(root, 'sessions', 'inner')
    const { engine } = openEngine(dir)
    const now = Date.now()
    // A planted live session wherever each id would lead if it were used as a path.
    mkdirSync(join(dir, 'a'))
    for (const id of REJECTED_IDS.filter((id) => !id.includes('\u0000'))) {
      writeFileSync(join(dir, `${id}.session.json`), sessionFileText(now + HOUR))
    }
    writeFileSync(join(root, 'x.session.json'), sessionFileText(now + HOUR))
    const before = snapshotTree(root)

    for (const id of REJECTED_IDS) {
      expect(await engine.load(id, now)).toBeNull()
      expect(await engine.touch(id, now + 2 * HOUR, now)).toBe(false)
      await engine.delete(id)
      const changes = { set: { 'int:n': 1 }, deleted: [], expiresAt: now + HOUR }
      await expect(engine.commit(id, changes, now)).rejects.toThrow(Error)
      await expect(engine.commit(id, { ...changes, existingOnly: true }, now)).rejects.toThrow(Error)
    }
    await engine.deleteAll()
    expect(snapshotTree(root)).toEqual(before)
  })

  test('an id of 128 characters from the whole alphabet is stored', async () => {
    const { engine } = openEngine(tempDir())
    const now = Date.now()
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
    const id = alphabet.repeat(2)
    expect(id).toHaveLength(128)
    await commitSession(engine, id, now)
    expect((await engine.load(id, now))?.data).toEqual({ 'string:id': id })
    expect(await entryIds(engine, now)).toEqual([id])
  })
})

describe('fileEngine skips files that vanish or cannot be read', () => {
  test('a file gone between listing and reading is skipped without a report', async () => {
    const dir = tempDir()
    const { engine, logged } = openEngine(dir)
    const now = Date.now()
    await commitSession(engine, 'live', now)
    await commitSession(engine, 'dying', now, 1_000)
    // A dangling link is listed like any file and then answers ENOENT, as a file deleted meanwhile does.
    symlinkSync('no-such-target', join(dir, 'gone.session.json'))
    expect(await engine.count(now)).toBe(2)
    expect(await entryIds(engine, now)).toEqual(['dying', 'live'])
    expect(await engine.load('gone', now)).toBeNull()
    expect(await engine.deleteExpired(now + 5_000)).toBe(1)
    expect(logged).toEqual([])
  })

  test(
    'listing, counting and sweeping while other calls delete the files never throws',
    async () => {
      const { engine } = openEngine(tempDir())
      const now = Date.now()
      const ids = Array.from({ length: 600 }, (_, index) => `race-${index}`)
      await Promise.all(ids.map((id, index) => commitSession(engine, id, now, index % 2 === 0 ? 1_000 : HOUR)))
      const [count, listed, swept] = await Promise.all([
        engine.count(now),
        entryIds(engine, now, 50),
        engine.deleteExpired(now + 5_000),
        ...ids.map((id) => engine.delete(id)),
      ])
      expect(count).toBeLessThanOrEqual(ids.length)
      expect(listed.length).toBeLessThanOrEqual(ids.length)
      expect(swept).toBeLessThanOrEqual(ids.length / 2)
      expect(await engine.count(now)).toBe(0)
    },
    BULK_TIMEOUT,
  )

  const CORRUPT_FILES = {
    truncated: '{"expiresAt":9999999999999,"data":{"string:a',
    empty: '',
    array: '[1,2]',
    nodata: '{"expiresAt":9999999999999}',
    textexpiry: '{"expiresAt":"tomorrow","data":{}}',
    arraydata: '{"expiresAt":9999999999999,"data":[]}',
  } as const

  function plantBrokenFiles(dir: string): void {
    for (const [id, text] of Object.entries(CORRUPT_FILES)) writeFileSync(join(dir, `${id}.session.json`), text)
    // A link to itself cannot be read (ELOOP) even by root, unlike a chmod 000 file.
    symlinkSync('loop.session.json', join(dir, 'loop.session.json'))
  }

  test('corrupt and unreadable files are reported and skipped by count, entries and deleteExpired, and kept', async () => {
    const dir = tempDir()
    const { engine, logged } = openEngine(dir)
    const now = Date.now()
    await commitSession(engine, 'good', now)
    plantBrokenFiles(dir)
    const broken = snapshotTree(dir)
    delete broken['good.session.json']
    const brokenPaths = [...Object.keys(CORRUPT_FILES), 'loop'].map((id) => join(dir, `${id}.session.json`))

    expect(await engine.count(now)).toBe(1)
    expect(logged.map(({ message }) => brokenPaths.find((path) => message.includes(path))).sort()).toEqual(
      brokenPaths.sort(),
    )
    expect(logged.every(({ cause }) => cause instanceof Error)).toBe(true)

    logged.length = 0
    expect(await entryIds(engine, now, 2)).toEqual(['good'])
    expect(logged).toHaveLength(brokenPaths.length)

    logged.length = 0
    expect(await engine.deleteExpired(now + 10 * HOUR)).toBe(1)
    expect(logged).toHaveLength(brokenPaths.length)
    expect(snapshotTree(dir)).toEqual(broken)
  })

  test('load of a corrupt file resolves to null and reports it; load of an unreadable one rejects', async () => {
    const dir = tempDir()
    const { engine, logged } = openEngine(dir)
    const now = Date.now()
    plantBrokenFiles(dir)
    expect(await engine.load('truncated', now)).toBeNull()
    expect(logged).toHaveLength(1)
    expect(logged[0]?.message).toContain(join(dir, 'truncated.session.json'))
    await expect(engine.load('loop', now)).rejects.toThrow()
    expect(await engine.touch('truncated', now + HOUR, now)).toBe(false)
    const changes = { set: { 'int:n': 1 }, deleted: [], expiresAt: now + HOUR, existingOnly: true }
    expect(await engine.commit('truncated', changes, now)).toBe(false)
    expect(readFileSync(join(dir, 'truncated.session.json'), 'utf8')).toBe(CORRUPT_FILES.truncated)
  })

  test('the default logger is console', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'broken.session.json'), '{')
    const consoleError = spyOn(console, 'error').mockImplementation(() => {})
    try {
      const engine = fileEngine({ dir })
      engines.push(engine)
      expect(await engine.count(Date.now())).toBe(0)
      expect(consoleError).toHaveBeenCalledTimes(1)
      expect(String(consoleError.mock.calls[0]?.[0])).toContain('broken.session.json')
    } finally {
      consoleError.mockRestore()
    }
  })
})

describe('fileEngine writes atomically', () => {
  /** FileHandle is not exported, so its prototype is taken from a handle. */
  async function fileHandlePrototype(): Promise<{ sync: () => Promise<void> }> {
    const handle = await open(join(tempDir(), 'probe'), 'w')
    await handle.close()
    return Object.getPrototypeOf(handle)
  }

  test('with the default fsync, each write is flushed to disk before it replaces the session file', async () => {
    const dir = tempDir()
    const { engine } = openEngine(dir)
    const prototype = await fileHandlePrototype()
    const originalSync = prototype.sync
    const sessionFileExisted: boolean[] = []
    const sync = spyOn(prototype, 'sync').mockImplementation(function (this: unknown) {
      sessionFileExisted.push(existsSync(join(dir, 'abc.session.json')))
      return originalSync.call(this)
    })
    try {
      const now = Date.now()
      await commitSession(engine, 'abc', now)
      expect(await engine.touch('abc', now + 2 * HOUR, now)).toBe(true)
      expect(sync).toHaveBeenCalledTimes(2)
      // The first flush ran before the rename created the session file.
      expect(sessionFileExisted).toEqual([false, true])
    } finally {
      sync.mockRestore()
    }
  })

  test('with fsync: false, writes are not flushed', async () => {
    const { engine } = openEngine(tempDir(), false)
    const sync = spyOn(await fileHandlePrototype(), 'sync')
    try {
      await commitSession(engine, 'abc', Date.now())
      expect(sync).not.toHaveBeenCalled()
    } finally {
      sync.mockRestore()
    }
  })

  /** Checks that every session file in `dir` holds one whole write of the crash writer. */
  async function expectWholeSessions(dir: string, engine: SessionEngine, now: number): Promise<number> {
    let checked = 0
    for (const name of readdirSync(dir).filter((name) => name.endsWith('.session.json'))) {
      const id = name.slice(0, -'.session.json'.length)
      // The file may be replaced between the read and the load, so each is checked on its own.
      const parsed = JSON.parse(await readFile(join(dir, name), 'utf8'))
      expect(parsed.data['string:payload']).toBe(payloadOf(parsed.data['int:round']))
      const loaded = await engine.load(id, now)
      const round = loaded?.data['int:round']
      expect(typeof round).toBe('number')
      expect(loaded?.data['string:payload'] === payloadOf(round as number)).toBe(true)
      checked++
    }
    return checked
  }

  test(
    'a process killed at random moments while writing never leaves a half-written session file',
    async () => {
      const dir = tempDir()
      const { engine, logged } = openEngine(dir)
      const now = Date.now()
      for (let kill = 0; kill < 6; kill++) {
        const writer = Bun.spawn([process.execPath, CRASH_WRITER, dir], {
          cwd: REPO_ROOT,
          stdout: 'pipe',
          stderr: 'pipe',
        })
        try {
          const { value } = await writer.stdout.getReader().read()
          if (value === undefined) throw new Error(`the writer died: ${await new Response(writer.stderr).text()}`)
          expect(new TextDecoder().decode(value)).toBe('ready\n')
          // Read while it writes, for a random while, then kill it wherever it is.
          const killAt = Date.now() + 20 + Math.random() * 150
          while (Date.now() < killAt) await expectWholeSessions(dir, engine, now)
        } finally {
          writer.kill('SIGKILL')
        }
        await writer.exited
        expect(writer.signalCode).toBe('SIGKILL')
        expect(await expectWholeSessions(dir, engine, now)).toBe(CRASH_IDS.length)
      }
      expect(logged).toEqual([])
      // What the killed writes left behind is swept once old enough, and the sessions stay.
      for (const name of readdirSync(dir).filter((name) => name.endsWith('.tmp'))) setAge(join(dir, name), 2 * 60_000)
      expect(await engine.deleteExpired(now)).toBe(0)
      expect(readdirSync(dir).sort()).toEqual(CRASH_IDS.map((id) => `${id}.session.json`))
    },
    BULK_TIMEOUT,
  )
})

describe('fileEngine deleteExpired', () => {
  test('removes this engine’s temporary files older than a minute and nothing else', async () => {
    const dir = tempDir()
    const { engine } = openEngine(dir)
    const stale = '.abc.0123456789abcdef.tmp'
    const fresh = '.abc.fedcba9876543210.tmp'
    const lookalikes = [
      '.abc.tmp',
      'abc.0123456789abcdef.tmp',
      '.abc.0123456789abcdef.tmp.bak',
      '.abc.0123456789ABCDEF.tmp',
      '.a/b.0123456789abcdef.tmp',
    ]
    mkdirSync(join(dir, '.a'))
    for (const name of [stale, fresh, ...lookalikes]) writeFileSync(join(dir, name), 'partial')
    for (const name of [stale, ...lookalikes]) setAge(join(dir, name), 2 * 60_000)
    expect(await engine.deleteExpired(Date.now())).toBe(0)
    expect(existsSync(join(dir, stale))).toBe(false)
    for (const name of [fresh, ...lookalikes]) expect(existsSync(join(dir, name))).toBe(true)
  })

  test(
    'lets other work run while it sweeps',
    async () => {
      const { engine } = openEngine(tempDir(), false)
      const now = Date.now()
      const ids = Array.from({ length: 1_000 }, (_, index) => `sweep-${index}`)
      await Promise.all(ids.map((id, index) => commitSession(engine, id, now, index % 2 === 0 ? 1_000 : HOUR)))
      let otherWorkRan = false
      setImmediate(() => {
        otherWorkRan = true
      })
      const sweep = engine.deleteExpired(now + 5_000).then((deleted) => ({ deleted, otherWorkRan }))
      expect(await sweep).toEqual({ deleted: 500, otherWorkRan: true })
    },
    BULK_TIMEOUT,
  )
})

describe('fileEngine entries', () => {
  test('lists the dir once and reads each batch only when it is asked for', async () => {
    const { engine } = openEngine(tempDir())
    const now = Date.now()
    const ids = Array.from({ length: 30 }, (_, index) => `listed-${index}`)
    for (const id of ids) await commitSession(engine, id, now)
    const batches = engine.entries(now, { batchSize: 10 })[Symbol.asyncIterator]()
    const first = await batches.next()
    const yieldedFirst = new Set((first.value as { id: string }[]).map((entry) => entry.id))
    expect(yieldedFirst.size).toBe(10)
    const later = ids.filter((id) => !yieldedFirst.has(id))
    const [deleted, changed] = [later.slice(0, 5), later.slice(5)]
    for (const id of deleted) await engine.delete(id)
    for (const id of changed)
      await engine.commit(id, { set: { 'int:changed': 1 }, deleted: [], expiresAt: now + HOUR }, now)
    for (let index = 0; index < 5; index++) await commitSession(engine, `added-${index}`, now)

    const rest: { id: string; data: object }[] = []
    for (let next = await batches.next(); !next.done; next = await batches.next()) rest.push(...next.value)
    // Files created after the listing are not seen, deleted ones are skipped, and later batches read fresh data.
    expect(rest.map((entry) => entry.id).sort()).toEqual(changed.toSorted())
    for (const entry of rest) expect(entry.data).toEqual({ 'string:id': entry.id, 'int:changed': 1 })
  })

  test('entries rejects a batchSize that is not a positive integer', async () => {
    const { engine } = openEngine(tempDir())
    for (const batchSize of [0, -1, 1.5, Number.NaN]) {
      await expect(entryIds(engine, Date.now(), batchSize)).rejects.toThrow(RangeError)
    }
  })
})

describe('fileEngine queues the changes to one session', () => {
  test('two engines on one dir reached through different paths keep every concurrent write', async () => {
    const dir = tempDir()
    const alias = join(tempDir(), 'alias')
    symlinkSync(dir, alias)
    const [first, second] = [openEngine(dir).engine, openEngine(alias).engine]
    const now = Date.now()
    const expiresAt = now + HOUR
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (index % 2 === 0 ? first : second).commit(
          'shared',
          { set: { [`int:key${index}`]: index }, deleted: [], expiresAt },
          now,
        ),
      ),
    )
    expect(Object.keys((await first.load('shared', now))?.data ?? {})).toHaveLength(50)
  })
})
