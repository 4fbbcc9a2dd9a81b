import { expect, test } from 'bun:test'
import { callEngine, failureReason, SessionEngineError } from '../../src/errors.js'

test('callEngine wraps a rejected engine call in a SessionEngineError that keeps the cause', async () => {
  const cause = new Error('disk on fire')
  const failure = await callEngine('load a session', () => Promise.reject(cause)).catch((error: unknown) => error)
  expect(failure).toBeInstanceOf(SessionEngineError)
  expect((failure as SessionEngineError).message).toBe('Session engine failed to load a session')
  expect(failureReason(failure)).toBe('Session engine failed to load a session: disk on fire')
  expect((failure as SessionEngineError).cause).toBe(cause)
})

test('callEngine also wraps an engine method that throws instead of rejecting', async () => {
  const cause = new TypeError('not async')
  const call = () => {
    throw cause
  }
  const failure = await callEngine('count sessions', call).catch((error: unknown) => error)
  expect(failure).toBeInstanceOf(SessionEngineError)
  expect((failure as SessionEngineError).cause).toBe(cause)
})

test('callEngine resolves to what the engine call resolves to', async () => {
  expect(await callEngine('count sessions', () => Promise.resolve(7))).toBe(7)
})
