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
  symlinkSync(join(root, 'node_modules', 'elysia'), join(consumer, 'node_modules', 'elysia'))
  writeFileSync(join(consumer, 'package.json'), '{ "type": "module" }')
}, 60_000)

function importInConsumer(specifier: string, expression: string): string {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(${expression}))`
  const run = Bun.spawnSync([process.execPath, '-e', script], { cwd: consumer, stderr: 'pipe' })
  if (run.exitCode !== 0) throw new Error(`import of ${specifier} failed: ${run.stderr.toString()}`)
  return run.stdout.toString().trim()
}

test('every subpath of the exports map is listed here', () => {
  expect(Object.keys(packageJson.exports).sort()).toEqual(['.', './engines/memory', './package.json', './testing'])
})

test('the root export loads from dist with its public names', () => {
  const names = JSON.parse(importInConsumer('elysia-sessions', 'Object.keys(m).sort()'))
  expect(names).toEqual([
    'Session',
    'SessionConfigError',
    'SessionEngineError',
    'SessionKeyError',
    'Sessions',
    'memoryEngine',
    'session',
    'storable',
  ])
  expect(importInConsumer('elysia-sessions', 'import.meta.resolve("elysia-sessions")')).toContain('/dist/index.js')
})

test('the memory engine export loads from dist', () => {
  expect(importInConsumer('elysia-sessions/engines/memory', 'typeof m.memoryEngine')).toBe('"function"')
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
