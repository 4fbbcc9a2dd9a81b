import { memoryEngine, type SessionEngine } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { freshDatabasePath } from './sqlite.js'

/** The engines a feature's HTTP tests run over, by name: the memory engine and the SQLite engine on a fresh file. */
export const FEATURE_ENGINES: readonly (readonly [name: string, make: () => Promise<SessionEngine>])[] = [
  ['memory', async () => memoryEngine()],
  ['SQLite', () => sqliteEngine({ path: freshDatabasePath() })],
]
