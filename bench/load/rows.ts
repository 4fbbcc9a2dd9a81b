import type { RowSpec } from './types.js'

/**
 * Every row of the benchmark, in the order of the tables: the ceiling, the hand-written session under it, the floor
 * under any session plugin, our engines, then the peers.
 */
export const ROWS: readonly RowSpec[] = [
  {
    id: 'bare',
    label: 'bare Elysia (no session)',
    kind: 'ceiling',
    storage: 'none',
    runtime: 'bun',
    script: 'servers/bare.ts',
    env: {},
  },
  {
    id: 'handwritten',
    label: 'hand-written signed session (Map, no library)',
    kind: 'handwritten',
    storage: 'memory',
    runtime: 'bun',
    script: 'servers/handwritten.ts',
    env: {},
  },
  {
    id: 'floor',
    label: 'Elysia + signed-cookie hooks (no store)',
    kind: 'floor',
    storage: 'none',
    runtime: 'bun',
    script: 'servers/floor.ts',
    env: {},
  },
  ...(['memory', 'sqlite', 'file', 'redis', 'postgres'] as const).map(
    (engine): RowSpec => ({
      id: engine,
      label: `elysia-sessions ${engine}`,
      kind: 'engine',
      storage: engine,
      runtime: 'bun',
      script: 'servers/elysia-sessions.ts',
      env: { ENGINE: engine },
    }),
  ),
  {
    id: 'memory-csrf',
    label: 'elysia-sessions memory + csrf()',
    kind: 'engine',
    storage: 'memory',
    runtime: 'bun',
    script: 'servers/elysia-sessions.ts',
    env: { ENGINE: 'memory', CSRF: '1' },
  },
  {
    id: 'memory-schema',
    label: 'elysia-sessions memory + a three-key schema',
    kind: 'engine',
    storage: 'memory',
    runtime: 'bun',
    script: 'servers/elysia-sessions.ts',
    env: { ENGINE: 'memory', SCHEMA: '1' },
  },
  {
    id: 'express-memory',
    label: 'express-session MemoryStore',
    kind: 'peer',
    storage: 'memory',
    runtime: 'node',
    script: 'peers/express-session.mjs',
    env: { STORE: 'memory' },
  },
  {
    id: 'express-sqlite',
    label: 'express-session + better-sqlite3 (WAL)',
    kind: 'peer',
    storage: 'sqlite',
    runtime: 'node',
    script: 'peers/express-session.mjs',
    env: { STORE: 'sqlite' },
  },
  {
    id: 'fastify-memory',
    label: '@fastify/session memory',
    kind: 'peer',
    storage: 'memory',
    runtime: 'node',
    script: 'peers/fastify-session.mjs',
    env: {},
  },
  {
    id: 'hono-memory',
    label: 'hono-sessions MemoryStore',
    kind: 'peer',
    storage: 'memory',
    runtime: 'bun',
    script: 'peers/hono-sessions.mjs',
    env: { STORE: 'memory' },
  },
  {
    id: 'hono-sqlite',
    label: 'hono-sessions bun:sqlite (WAL)',
    kind: 'peer',
    storage: 'sqlite',
    runtime: 'bun',
    script: 'peers/hono-sessions.mjs',
    env: { STORE: 'sqlite' },
  },
  {
    id: 'hono-session',
    label: '@hono/session (encrypted cookie)',
    kind: 'peer',
    storage: 'cookie',
    runtime: 'bun',
    script: 'peers/hono-session.mjs',
    env: {},
  },
  {
    id: 'iron-session',
    label: 'iron-session (sealed cookie)',
    kind: 'peer',
    storage: 'cookie',
    runtime: 'bun',
    script: 'peers/iron-session.mjs',
    env: {},
  },
]

/** A minimum ratio to bare Elysia that a row must reach in a scenario. */
export interface RatioTarget {
  readonly row: string
  readonly scenario: 'a' | 'b' | 'c'
  readonly min: number
}

/**
 * The targets of issue 16 (memory, SQLite) and the earlier ones (Redis, PostgreSQL), each on the median ratio over
 * rounds. Besides these, each engine must beat every peer with the same storage in scenario a.
 */
export const RATIO_TARGETS: readonly RatioTarget[] = [
  { row: 'memory', scenario: 'a', min: 0.7 },
  { row: 'memory', scenario: 'b', min: 0.8 },
  { row: 'memory', scenario: 'c', min: 0.5 },
  { row: 'sqlite', scenario: 'a', min: 0.55 },
  { row: 'sqlite', scenario: 'b', min: 0.7 },
  { row: 'redis', scenario: 'a', min: 0.3 },
  { row: 'postgres', scenario: 'a', min: 0.15 },
]

/** The row whose distance to the hand-written session is the figure to drive down (issue 16). */
export const OVERHEAD_ROW = { row: 'memory', ceiling: 'handwritten' } as const

/** The scenarios in which "ahead of every peer with the same storage" is a target. */
export const PEER_TARGET_SCENARIOS = ['a'] as const
