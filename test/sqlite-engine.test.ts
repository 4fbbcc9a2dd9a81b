import { afterAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { runEngineConformance } from 'elysia-sessions/testing'

const folder = mkdtempSync(join(tmpdir(), 'elysia-sessions-sqlite-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

let files = 0
runEngineConformance('sqlite (file)', () => sqliteEngine({ path: join(folder, `own-${files++}.sqlite`) }))
runEngineConformance(
  'sqlite (two connections on one file)',
  () => sqliteEngine({ path: join(folder, 'shared.sqlite') }),
  {
    sharedStore: true,
  },
)
runEngineConformance('sqlite (:memory:)', () => sqliteEngine({ path: ':memory:' }))
