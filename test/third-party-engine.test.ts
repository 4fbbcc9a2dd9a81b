import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import {
  type IterateOptions,
  type SessionChanges,
  type SessionEngine,
  type SessionEntry,
  type SessionValue,
  type StoredSession,
  session,
} from 'elysia-sessions'
import { runEngineConformance } from 'elysia-sessions/testing'
import { appDataOf } from './support/http.js'
import { PROPERTY_SEED } from './support/property-runs.js'

// An engine as an outside author would write it: only the public types, and a layout unlike memoryEngine's.

interface MapRecord {
  readonly values: Map<string, SessionValue>
  expiresAt: number
}

/** The sessions several engines share, as connections share one database. */
type MapStore = Map<string, MapRecord>

function mapEngine(store: MapStore): SessionEngine {
  let closed = false
  const open = () => {
    if (closed) throw new Error('map engine is closed')
  }
  const liveRecord = (id: string, now: number) => {
    const record = store.get(id)
    return record !== undefined && record.expiresAt > now ? record : undefined
  }
  const snapshot = (record: MapRecord): StoredSession => ({
    data: Object.fromEntries([...record.values].map(([key, value]) => [key, structuredClone(value)])),
    expiresAt: record.expiresAt,
  })

  return {
    name: 'map',

    async load(id: string, now: number) {
      open()
      const record = liveRecord(id, now)
      return record ? snapshot(record) : null
    },

    async commit(id: string, changes: SessionChanges, now: number) {
      open()
      let record = liveRecord(id, now)
      if (!record && changes.existingOnly) return false
      if (!record) {
        record = { values: new Map(), expiresAt: changes.expiresAt }
        store.set(id, record)
      }
      for (const key of changes.deleted) record.values.delete(key)
      for (const [key, value] of Object.entries(changes.set)) record.values.set(key, structuredClone(value))
      record.expiresAt = changes.expiresAt
      return true
    },

    async touch(id: string, expiresAt: number, now: number) {
      open()
      const record = liveRecord(id, now)
      if (record) record.expiresAt = expiresAt
      return record !== undefined
    },

    async delete(id: string) {
      open()
      store.delete(id)
    },

    async deleteAll() {
      open()
      store.clear()
    },

    async count(now: number) {
      open()
      return [...store.values()].filter((record) => record.expiresAt > now).length
    },

    async *entries(now: number, { batchSize }: IterateOptions) {
      open()
      const ids = [...store.keys()]
      for (let start = 0; start < ids.length; start += batchSize) {
        const batch: SessionEntry[] = []
        for (const id of ids.slice(start, start + batchSize)) {
          const record = liveRecord(id, now)
          if (record) batch.push({ id, ...snapshot(record) })
        }
        if (batch.length > 0) yield batch
      }
    },

    async deleteExpired(now: number) {
      open()
      let deleted = 0
      for (const [id, record] of store) {
        if (record.expiresAt <= now && store.delete(id)) deleted++
      }
      return deleted
    },

    async close() {
      closed = true
    },
  }
}

const sharedStore: MapStore = new Map()

runEngineConformance('third-party map', () => mapEngine(sharedStore), {
  sharedStore: true,
  modelRuns: 50,
  modelSeed: PROPERTY_SEED,
})

describe('a third-party engine in the session plugin', () => {
  test('stores the sessions of the plugin and gives them back on the next request', async () => {
    const engine = mapEngine(new Map())
    const app = new Elysia()
      .use(session({ secret: 'x'.repeat(32), engine }))
      .get('/set', ({ session }) => {
        session.int('visits', 42)
        return 'set'
      })
      .get('/get', ({ session }) => String(session.intOrNull('visits')))

    const first = await app.handle(new Request('http://localhost/set'))
    expect(await first.text()).toBe('set')
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0]
    expect(cookie).toStartWith('sessid=')

    const second = await app.handle(new Request('http://localhost/get', { headers: { cookie: cookie as string } }))
    expect(await second.text()).toBe('42')
    const withoutCookie = await app.handle(new Request('http://localhost/get'))
    expect(await withoutCookie.text()).toBe('null')

    const stored: SessionEntry[] = []
    for await (const batch of engine.entries(Date.now(), { batchSize: 10 })) stored.push(...batch)
    expect(stored.map((entry) => appDataOf(entry.data))).toEqual([{ 'int:visits': 42 }])
    await app.decorator.sessions.close()
  })
})
