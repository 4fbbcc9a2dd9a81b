import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { memoryEngine, session } from 'elysia-sessions'
import { callsOf, recordingEngine, SECRET, send } from './support/http.js'

describe('GC in the plugin', () => {
  test('starts with the first request and sweeps the engine every gcInterval', async () => {
    const engine = recordingEngine(memoryEngine())
    const app = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 30 })).get('/', () => 'ok')
    await Bun.sleep(80)
    expect(callsOf(engine, 'deleteExpired')).toHaveLength(0)
    await send(app, '/')
    await Bun.sleep(100)
    expect(callsOf(engine, 'deleteExpired').length).toBeGreaterThanOrEqual(2)
    await app.decorator.sessions.close()
    const afterClose = callsOf(engine, 'deleteExpired').length
    await Bun.sleep(80)
    expect(callsOf(engine, 'deleteExpired')).toHaveLength(afterClose)
  })

  test('removes expired sessions so the memory engine does not leak', async () => {
    const engine = memoryEngine()
    const app = new Elysia()
      .use(session({ secret: SECRET, engine, timeout: 30, touchInterval: 0, gcInterval: 20 }))
      .get('/', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
    for (let index = 0; index < 20; index++) await send(app, '/')
    const countAll = async () => {
      let total = 0
      for await (const batch of engine.entries(0, { batchSize: 100 })) total += batch.length
      return total
    }
    expect(await countAll()).toBe(20)
    await Bun.sleep(150)
    expect(await countAll()).toBe(0)
    await app.decorator.sessions.close()
  })

  test('app.stop() stops GC', async () => {
    const engine = recordingEngine(memoryEngine())
    const app = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 20 })).get('/', () => 'ok')
    app.listen({ port: 0, hostname: '127.0.0.1' })
    await Bun.sleep(70)
    expect(callsOf(engine, 'deleteExpired').length).toBeGreaterThanOrEqual(1)
    await app.stop()
    const atStop = callsOf(engine, 'deleteExpired').length
    await Bun.sleep(80)
    expect(callsOf(engine, 'deleteExpired')).toHaveLength(atStop)
  })

  test('the GC timer never keeps the process alive', async () => {
    const child = Bun.spawn([process.execPath, 'test/fixtures/gc-keeps-no-process-alive.ts'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const exited = await Promise.race([child.exited, Bun.sleep(5_000).then(() => 'still running')])
    if (exited === 'still running') child.kill()
    expect(exited).toBe(0)
    expect(await new Response(child.stdout).text()).toContain('served 200')
  })
})
