import { describe, expect, test } from 'bun:test'
import type { SessionEngine } from '../engine.js'
import { type ConformanceHarness, commitFor, EXPIRY_WAIT, newId, SHORT_LIFETIME } from './harness.js'

type ReopenModule = { reopenEngine?: (options: unknown) => SessionEngine | Promise<SessionEngine> }

/** Registers the tests of `reopen`, the recipe GC follows to open the engine's store again in a worker. */
export function registerReopenTests(harness: ConformanceHarness): void {
  describe('reopen', () => {
    test.serial(
      'reopen is absent, or its module opens an engine on the same store from a structured clone of its options',
      async () => {
        const { reopen } = harness.engine
        if (!('reopen' in harness.engine)) return
        expect(reopen).toEqual({ module: expect.any(String), options: expect.anything() })
        const module = (await import(reopen!.module)) as ReopenModule
        expect(typeof module.reopenEngine).toBe('function')
        // A worker receives the options through postMessage, so they must survive structuredClone.
        const second = await module.reopenEngine!(structuredClone(reopen!.options))
        try {
          const fromFirst = newId()
          await commitFor(harness, fromFirst, { 'string:by': 'first' })
          expect((await second.load(fromFirst, harness.clock.now()))?.data).toEqual({ 'string:by': 'first' })

          const fromSecond = newId()
          await commitFor(harness, fromSecond, { 'string:by': 'second' }, undefined, second)
          expect((await harness.engine.load(fromSecond, harness.clock.now()))?.data).toEqual({ 'string:by': 'second' })

          const expiring = newId()
          await commitFor(harness, expiring, { 'string:by': 'first' }, SHORT_LIFETIME)
          await harness.clock.advance(EXPIRY_WAIT)
          expect(await second.deleteExpired(harness.clock.now())).toBe(1)
          expect(await harness.engine.count(0)).toBe(2)
        } finally {
          await second.close()
        }
      },
      harness.slowTimeout,
    )
  })
}
