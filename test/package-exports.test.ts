import { beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dir, '..')
const packageJson = (await Bun.file(join(root, 'package.json')).json()) as { exports: Record<string, unknown> }
let consumer: string

// A consumer project whose node_modules links to this package, so imports go through the exports map to dist/.
beforeAll(async () => {
  const build = Bun.spawnSync([process.execPath, 'run', 'build'], { cwd: root, stderr: 'pipe' })
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
  consumer = mkdtempSync(join(tmpdir(), 'elysia-sessions-consumer-'))
  mkdirSync(join(consumer, 'node_modules'))
  symlinkSync(root, join(consumer, 'node_modules', 'elysia-sessions'))
  mkdirSync(join(consumer, 'node_modules', '@sinclair'))
  for (const dependency of ['elysia', '@sinclair/typebox', 'drizzle-orm', 'mysql2', 'zod']) {
    symlinkSync(join(root, 'node_modules', dependency), join(consumer, 'node_modules', dependency))
  }
  writeFileSync(join(consumer, 'package.json'), '{ "type": "module" }')
}, 60_000)

function importInConsumer(specifier: string, expression: string): string {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(${expression}))`
  const run = Bun.spawnSync([process.execPath, '-e', script], { cwd: consumer, stderr: 'pipe' })
  if (run.exitCode !== 0) throw new Error(`import of ${specifier} failed: ${run.stderr.toString()}`)
  return run.stdout.toString().trim()
}

test('every subpath of the exports map is listed here', () => {
  expect(Object.keys(packageJson.exports).sort()).toEqual([
    '.',
    './engines/file',
    './engines/memory',
    './engines/mysql',
    './engines/postgres',
    './engines/redis',
    './engines/sqlite',
    './package.json',
    './testing',
  ])
})

test('the root export loads from dist with its public names', () => {
  const names = JSON.parse(importInConsumer('elysia-sessions', 'Object.keys(m).sort()'))
  expect(names).toEqual([
    'EngineTimeoutError',
    'Flash',
    'Session',
    'SessionConfigError',
    'SessionEngineError',
    'SessionKeyError',
    'SessionSizeError',
    'SessionValueError',
    'Sessions',
    'csrf',
    'memoryEngine',
    'session',
    'storable',
    'withDefault',
  ])
  expect(importInConsumer('elysia-sessions', 'import.meta.resolve("elysia-sessions")')).toContain('/dist/index.js')
})

test('csrf() from dist leaves the body of a route that does not read it to the handler', () => {
  const script = `
    const { Elysia } = await import('elysia')
    const app = new Elysia()
      .use(m.session({ secret: 'a'.repeat(32) }))
      .use(m.csrf({ allowedRoutes: ['/hook'] }))
      .post('/hook', async ({ request }) => request.text())
    const headers = { 'content-type': 'application/json' }
    const response = await app.handle(new Request('http://localhost/hook', { method: 'POST', headers, body: '{"a":1}' }))
    await app.decorator.sessions.close()
    return [response.status, await response.text()]`
  expect(JSON.parse(importInConsumer('elysia-sessions', `await (async () => {${script}})()`))).toEqual([200, '{"a":1}'])
})

test('the plugin from dist answers a request on the memory engine without a promise', () => {
  // Elysia reads each hook's source to decide whether to await it, so the built code must keep the hooks' shape.
  const script = `
    const { Elysia } = await import('elysia')
    const app = new Elysia({ precompile: true })
      .use(m.session({ secret: 'a'.repeat(32) }))
      .get('/count', ({ session }) => {
        const count = (session.intOrNull('count') ?? 0) + 1
        session.int('count', count)
        return { count }
      })
    const first = app.fetch(new Request('http://localhost/count'))
    const cookie = (await first).headers.getSetCookie()[0].split(';')[0]
    const second = app.fetch(new Request('http://localhost/count', { headers: { cookie } }))
    await app.decorator.sessions.close()
    return [first instanceof Response, second instanceof Response, await (await second).json()]`
  expect(JSON.parse(importInConsumer('elysia-sessions', `await (async () => {${script}})()`))).toEqual([
    true,
    true,
    { count: 2 },
  ])
})

test('a schema from the app (Elysia t, TypeBox withDefault, Zod) checks session values through dist', () => {
  const script = `
    const { Elysia, t } = await import('elysia')
    const { z } = await import('zod')
    const app = new Elysia()
      .use(m.session({ secret: 'a'.repeat(32), schema: { visits: m.withDefault(t.Integer(), 0), name: z.string().min(2) } }))
      .get('/', ({ session }) => {
        session.set('visits', session.get('visits') + 1)
        let refused = ''
        try { session.set('name', 'x') } catch (error) { refused = error.name + ' ' + (error instanceof TypeError) }
        return { visits: session.get('visits'), refused }
      })
    const response = await app.handle(new Request('http://localhost/'))
    await app.decorator.sessions.close()
    return response.json()`
  expect(JSON.parse(importInConsumer('elysia-sessions', `await (async () => {${script}})()`))).toEqual({
    visits: 1,
    refused: 'SessionValueError true',
  })
})

test('the memory engine export loads from dist', () => {
  expect(importInConsumer('elysia-sessions/engines/memory', 'typeof m.memoryEngine')).toBe('"function"')
})

test.each([
  ['file', 'fileEngine'],
  ['redis', 'redisEngine'],
  ['postgres', 'postgresEngine'],
  ['mysql', 'mysqlEngine'],
])('the %s engine export loads from dist', (engine, factory) => {
  expect(importInConsumer(`elysia-sessions/engines/${engine}`, `typeof m.${factory}`)).toBe('"function"')
})

test('the SQLite engine from dist finds its bundled migrations and sweeps from its GC worker in dist', () => {
  const script = `
    const { session } = await import('elysia-sessions')
    const { Elysia } = await import('elysia')
    const workerEntries = []
    const RealWorker = globalThis.Worker
    globalThis.Worker = class extends RealWorker {
      constructor(entry, options) {
        super(entry, options)
        workerEntries.push(String(entry))
      }
    }
    const logged = []
    const logger = { error: (message) => logged.push(message) }
    const engine = await m.sqliteEngine({ path: 'sessions.sqlite', logger })
    const now = Date.now()
    await engine.commit('expired', { set: {}, deleted: [], expiresAt: now + 50 }, now)
    await Bun.sleep(60)
    const app = new Elysia().use(session({ secret: 'a'.repeat(32), engine, gcInterval: 60_000, logger }))
    const removed = await app.decorator.sessions.gc()
    await app.decorator.sessions.close()
    return { removed, logged, workerEntries }`
  const result = JSON.parse(importInConsumer('elysia-sessions/engines/sqlite', `await (async () => {${script}})()`))
  expect(result).toEqual({
    removed: 1,
    logged: [],
    workerEntries: [expect.stringMatching(/\/dist\/engines\/sqlite\/gc-worker-entry\.js$/)],
  })
})

test("the packed package ships the migrations and the GC and checkpoint workers' entries", () => {
  const pack = Bun.spawnSync(['npm', 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, stderr: 'pipe' })
  expect(pack.exitCode).toBe(0)
  const [{ files }] = JSON.parse(pack.stdout.toString()) as [{ files: { path: string }[] }]
  const paths = files.map((file) => file.path)
  expect(paths).toEqual(
    expect.arrayContaining([
      'drizzle/sqlite/meta/_journal.json',
      'drizzle/sqlite/0000_sessions.sql',
      'dist/engines/sqlite/gc-worker-entry.js',
      'dist/engines/sqlite/checkpoint-worker-entry.js',
    ]),
  )
})

test('the testing export loads from dist', () => {
  expect(importInConsumer('elysia-sessions/testing', 'typeof m.runEngineConformance')).toBe('"function"')
})

test('every export has its declaration file first in its entry', async () => {
  for (const [subpath, entry] of Object.entries(packageJson.exports)) {
    if (typeof entry === 'string') continue
    const conditions = Object.keys(entry as object)
    expect(conditions[0], subpath).toBe('types')
    const types = (entry as { types: string }).types
    expect(await Bun.file(join(root, types)).exists(), types).toBe(true)
  }
})
