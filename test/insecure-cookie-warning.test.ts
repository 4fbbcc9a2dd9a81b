import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { memoryEngine, type SessionOptions, session } from 'elysia-sessions'
import { SECRET, send } from './support/http.js'

const nodeEnvBefore = process.env.NODE_ENV

/** A logger that records what it gets; without `warn` when `withWarn` is false. */
function recordingLogger(withWarn = true) {
  const warnings: string[] = []
  const errors: string[] = []
  const error = (message: string) => {
    errors.push(message)
  }
  const logger = withWarn
    ? {
        error,
        warn(message: string) {
          warnings.push(message)
        },
      }
    : { error }
  return { logger, warnings, errors }
}

function appWith(options: Partial<SessionOptions>) {
  return new Elysia()
    .use(session({ secret: SECRET, engine: memoryEngine(), gcInterval: 0, ...options }))
    .get('/set', ({ session }) => {
      session.int('n', 1)
      return 'set'
    })
}

describe('the warning about a cookie sent over plain HTTP in production', () => {
  afterEach(() => {
    if (nodeEnvBefore === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = nodeEnvBefore
  })

  test('secure false in production warns once, at startup, naming the option to set', async () => {
    process.env.NODE_ENV = 'production'
    const { logger, warnings, errors } = recordingLogger()
    const app = appWith({ logger })
    expect(warnings).toHaveLength(1)
    await send(app, '/set')
    await send(app, '/set')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('secure is false while NODE_ENV is production')
    expect(warnings[0]).toContain('set secure: true')
    expect(errors).toEqual([])
  })

  test('a logger without warn gets the warning through error', () => {
    process.env.NODE_ENV = 'production'
    const { logger, errors } = recordingLogger(false)
    appWith({ logger })
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('set secure: true')
  })

  test('no warning outside production', () => {
    for (const nodeEnv of ['development', 'test', undefined]) {
      if (nodeEnv === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = nodeEnv
      const { logger, warnings, errors } = recordingLogger()
      appWith({ logger })
      expect({ nodeEnv, warnings, errors }).toEqual({ nodeEnv, warnings: [], errors: [] })
    }
  })

  test('no warning in production when the cookie is secure', () => {
    process.env.NODE_ENV = 'production'
    const { logger, warnings, errors } = recordingLogger()
    appWith({ logger, secure: true })
    expect({ warnings, errors }).toEqual({ warnings: [], errors: [] })
  })
})
