import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * Runs `migrate` on a copy of the bundled migrations of `dialect` (drizzle/<dialect>) whose journal lists only the
 * first `count`, as an older release shipped them; the copy is removed afterwards.
 */
export async function withOlderReleaseMigrations(
  dialect: 'sqlite' | 'postgres' | 'mysql',
  count: number,
  migrate: (folder: string) => unknown,
): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `elysia-sessions-${dialect}-migrations-`))
  const folder = join(root, dialect)
  try {
    cpSync(resolve(import.meta.dir, '../../drizzle', dialect), folder, { recursive: true })
    const journalPath = join(folder, 'meta/_journal.json')
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: unknown[] }
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, count) }))
    await migrate(folder)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
