import { memoryEngine, type SessionEngine } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { freshDatabasePath } from './sqlite.js'

/**
 * The engines a feature's HTTP tests run over, by name: the memory engine through its synchronous calls and through its
 * promises alone (the plugin's two paths), and the SQLite engine on a fresh file.
 */
export const FEATURE_ENGINES: readonly (readonly [name: string, make: () => Promise<SessionEngine>])[] = [
  ['memory', async () => memoryEngine()],
  ['memory through promises', async () => promisesOnly(memoryEngine())],
  ['SQLite', () => sqliteEngine({ path: freshDatabasePath() })],
]

/** `engine` without its synchronous calls, so the plugin drives it through its promises as any third-party engine. */
export function promisesOnly(engine: SessionEngine): SessionEngine {
  const { sync: _sync, ...rest } = engine
  return rest
}
