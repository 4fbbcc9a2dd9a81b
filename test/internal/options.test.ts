import { describe, expect, test } from 'bun:test'
import type { SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { SessionConfigError } from '../../src/errors.js'
import { insecureCookieWarning, resolveSessionOptions, type SessionOptions, warnThrough } from '../../src/options.js'

const SECRET = 'a-secret-of-exactly-32-character'
const OLD_SECRET = 'an-older-secret-also-32-chars-xx'

/** Resolves options given as loose values, so invalid input can be passed without casts at every call. */
function resolve(options: Record<string, unknown>) {
  return resolveSessionOptions(options as unknown as SessionOptions)
}

/** The SessionConfigError `fn` throws. */
function configErrorOf(fn: () => unknown): SessionConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigError)
    return error as SessionConfigError
  }
  throw new Error('expected a SessionConfigError')
}

describe('secret', () => {
  const invalid: Record<string, Record<string, unknown>> = {
    'a missing secret': {},
    'a secret of 31 characters': { secret: 'x'.repeat(31) },
    'a non-string secret': { secret: 42 },
    'an empty secret array': { secret: [] },
    'one short secret inside an array': { secret: [SECRET, 'short'] },
    'a non-string inside an array': { secret: [SECRET, 42] },
  }

  for (const [name, options] of Object.entries(invalid)) {
    test(`${name} throws a SessionConfigError that says how to generate one`, () => {
      expect(configErrorOf(() => resolve(options)).message).toContain('Generate one with')
    })
  }

  test('BUG: missing options throw a SessionConfigError that says how to generate a secret', () => {
    const error = configErrorOf(() => resolveSessionOptions(undefined as unknown as SessionOptions))
    expect(error.message).toContain('Generate one with')
  })

  test('the error for a short secret in an array names its index', () => {
    expect(configErrorOf(() => resolve({ secret: [SECRET, 'short'] })).message).toContain('secret[1]')
  })

  test('a secret of exactly 32 characters is accepted', () => {
    expect(SECRET).toHaveLength(32)
    expect(resolve({ secret: SECRET }).secrets).toEqual([SECRET])
  })

  test('a secrets array is kept in order', () => {
    const third = 'z'.repeat(40)
    expect(resolve({ secret: [SECRET, OLD_SECRET, third] }).secrets).toEqual([SECRET, OLD_SECRET, third])
    expect(resolve({ secret: [OLD_SECRET, SECRET] }).secrets).toEqual([OLD_SECRET, SECRET])
  })

  test('later changes to the given secrets array do not change the resolved secrets', () => {
    const secrets = [SECRET, OLD_SECRET]
    const resolved = resolve({ secret: secrets })
    secrets.reverse()
    expect(resolved.secrets).toEqual([SECRET, OLD_SECRET])
  })
})

describe('defaults', () => {
  test('defaults are timeout 3_600_000, cookieName sessid, gcInterval 240_000, touchInterval timeout / 10', () => {
    const resolved = resolve({ secret: SECRET })
    expect(resolved.timeout).toBe(3_600_000)
    expect(resolved.cookieName).toBe('sessid')
    expect(resolved.gcInterval).toBe(240_000)
    expect(resolved.touchInterval).toBe(360_000)
  })

  test('the default touchInterval follows a custom timeout', () => {
    expect(resolve({ secret: SECRET, timeout: 50_000 }).touchInterval).toBe(5_000)
  })

  test("default cookie attributes are path '/', httpOnly, sameSite lax, not secure, no domain (Max-Age follows each session's expiry)", () => {
    expect(resolve({ secret: SECRET }).cookie).toEqual({ path: '/', httpOnly: true, sameSite: 'lax', secure: false })
  })

  test('absoluteTimeout is off by default', () => {
    expect(resolve({ secret: SECRET }).absoluteTimeout).toBeUndefined()
  })

  test('the default engine is a working memory engine', () => {
    expect(resolve({ secret: SECRET }).engine.name).toBe('memory')
  })

  test('the default logger is console', () => {
    expect(resolve({ secret: SECRET }).logger).toBe(console)
  })

  test('given values replace the defaults', () => {
    const engine = memoryEngine()
    const logger = { error() {} }
    const resolved = resolve({
      secret: SECRET,
      timeout: 10_000,
      cookieName: 'sid',
      gcInterval: 0,
      touchInterval: 2_000,
      engine,
      logger,
      secure: true,
      httpOnly: false,
      sameSite: 'strict',
      path: '/app',
      domain: 'example.com',
    })
    expect(resolved).toMatchObject({ timeout: 10_000, cookieName: 'sid', gcInterval: 0, touchInterval: 2_000 })
    expect(resolved.engine).toBe(engine)
    expect(resolved.logger).toBe(logger)
    expect(resolved.cookie).toEqual({
      path: '/app',
      domain: 'example.com',
      secure: true,
      httpOnly: false,
      sameSite: 'strict',
    })
  })
})

describe('durations', () => {
  for (const timeout of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
    test(`timeout ${JSON.stringify(String(timeout))} throws a SessionConfigError naming timeout`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, timeout })).message).toContain('timeout')
    })
  }

  for (const gcInterval of [-1, 2 ** 31, Number.NaN]) {
    test(`gcInterval ${gcInterval} throws a SessionConfigError naming gcInterval`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, gcInterval })).message).toContain('gcInterval')
    })
  }

  test('gcInterval 0 (GC off) and 2 ** 31 - 1 are accepted', () => {
    expect(resolve({ secret: SECRET, gcInterval: 0 }).gcInterval).toBe(0)
    expect(resolve({ secret: SECRET, gcInterval: 2 ** 31 - 1 }).gcInterval).toBe(2 ** 31 - 1)
  })

  for (const touchInterval of [10_001, -1]) {
    test(`touchInterval ${touchInterval} with timeout 10_000 throws a SessionConfigError naming touchInterval`, () => {
      const error = configErrorOf(() => resolve({ secret: SECRET, timeout: 10_000, touchInterval }))
      expect(error.message).toContain('touchInterval')
    })
  }

  test('touchInterval equal to timeout and touchInterval 0 are accepted', () => {
    expect(resolve({ secret: SECRET, timeout: 10_000, touchInterval: 10_000 }).touchInterval).toBe(10_000)
    expect(resolve({ secret: SECRET, timeout: 10_000, touchInterval: 0 }).touchInterval).toBe(0)
  })

  for (const absoluteTimeout of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
    test(`absoluteTimeout ${JSON.stringify(String(absoluteTimeout))} throws a SessionConfigError naming absoluteTimeout`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, absoluteTimeout })).message).toContain('absoluteTimeout')
    })
  }

  test('absoluteTimeout takes any positive value, shorter or longer than timeout, rounded up to whole ms', () => {
    expect(resolve({ secret: SECRET, timeout: 10_000, absoluteTimeout: 86_400_000 }).absoluteTimeout).toBe(86_400_000)
    expect(resolve({ secret: SECRET, timeout: 10_000, absoluteTimeout: 5_000 }).absoluteTimeout).toBe(5_000)
    expect(resolve({ secret: SECRET, absoluteTimeout: 1.5 }).absoluteTimeout).toBe(2)
  })
})

describe('maxSize', () => {
  test('maxSize defaults to 65_536 bytes (64 KiB)', () => {
    expect(resolve({ secret: SECRET }).maxSize).toBe(65_536)
  })

  for (const maxSize of [0, 1, 1_000_000, Number.MAX_SAFE_INTEGER]) {
    test(`maxSize ${maxSize} is accepted as given`, () => {
      expect(resolve({ secret: SECRET, maxSize }).maxSize).toBe(maxSize)
    })
  }

  for (const maxSize of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1000', true]) {
    test(`maxSize ${JSON.stringify(String(maxSize))} throws a SessionConfigError naming maxSize`, () => {
      const message = configErrorOf(() => resolve({ secret: SECRET, maxSize })).message
      expect(message).toContain('maxSize')
      expect(message).toContain(String(maxSize))
    })
  }
})

describe('cookie attributes', () => {
  test("sameSite 'none' without secure throws a SessionConfigError asking for secure", () => {
    expect(configErrorOf(() => resolve({ secret: SECRET, sameSite: 'none' })).message).toContain('secure: true')
  })

  test("sameSite 'none' with secure is accepted", () => {
    expect(resolve({ secret: SECRET, sameSite: 'none', secure: true }).cookie.sameSite).toBe('none')
  })

  for (const sameSite of ['Lax', 'always', '']) {
    test(`sameSite ${JSON.stringify(sameSite)} throws a SessionConfigError listing the valid values`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, sameSite })).message).toContain("'lax', 'strict' or 'none'")
    })
  }

  for (const cookieName of ['a b', 'a;b', '', 'a=b', 'é']) {
    test(`cookieName ${JSON.stringify(cookieName)} throws a SessionConfigError naming cookieName`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, cookieName })).message).toContain('cookieName')
    })
  }

  for (const path of ['app', '', '/a;b', '/a b']) {
    test(`path ${JSON.stringify(path)} throws a SessionConfigError naming path`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, path })).message).toContain('path')
    })
  }

  for (const domain of ['example.com;x', '', 'exa mple.com']) {
    test(`domain ${JSON.stringify(domain)} throws a SessionConfigError naming domain`, () => {
      expect(configErrorOf(() => resolve({ secret: SECRET, domain })).message).toContain('domain')
    })
  }

  test('a __Host- cookie needs secure', () => {
    expect(configErrorOf(() => resolve({ secret: SECRET, cookieName: '__Host-x' })).message).toContain('secure')
  })

  test("a __Host- cookie needs path '/'", () => {
    const error = configErrorOf(() => resolve({ secret: SECRET, cookieName: '__Host-x', secure: true, path: '/app' }))
    expect(error.message).toContain("path '/'")
  })

  test('a __Host- cookie needs no domain', () => {
    const error = configErrorOf(() =>
      resolve({ secret: SECRET, cookieName: '__Host-x', secure: true, domain: 'example.com' }),
    )
    expect(error.message).toContain('no domain')
  })

  test("a secure __Host- cookie on path '/' without a domain is accepted", () => {
    expect(resolve({ secret: SECRET, cookieName: '__Host-x', secure: true }).cookieName).toBe('__Host-x')
  })

  test('a __Secure- cookie needs secure', () => {
    expect(configErrorOf(() => resolve({ secret: SECRET, cookieName: '__Secure-x' })).message).toContain('secure')
    expect(resolve({ secret: SECRET, cookieName: '__Secure-x', secure: true }).cookie.secure).toBe(true)
  })

  test('a non-boolean secure or httpOnly throws a SessionConfigError', () => {
    expect(configErrorOf(() => resolve({ secret: SECRET, secure: 'yes' })).message).toContain('secure')
    expect(configErrorOf(() => resolve({ secret: SECRET, httpOnly: 1 })).message).toContain('httpOnly')
  })
})

describe('engine and logger', () => {
  test('an engine that is a Promise throws a SessionConfigError saying to await it', () => {
    const error = configErrorOf(() => resolve({ secret: SECRET, engine: Promise.resolve(memoryEngine()) }))
    expect(error.message).toContain('await')
    expect(error.message).toContain('Promise')
  })

  test('an engine missing methods throws a SessionConfigError listing them', () => {
    const { touch: _touch, entries: _entries, ...partial } = memoryEngine()
    const error = configErrorOf(() => resolve({ secret: SECRET, engine: partial }))
    expect(error.message).toContain('touch, entries')
    expect(error.message).not.toContain('load')
  })

  test('an engine that is not an object throws a SessionConfigError', () => {
    expect(configErrorOf(() => resolve({ secret: SECRET, engine: 'memory' })).message).toContain('engine')
  })

  test('any object with every engine method is accepted', () => {
    const engine: SessionEngine = { ...memoryEngine(), name: 'custom' }
    expect(resolve({ secret: SECRET, engine }).engine).toBe(engine)
  })

  test('a logger without error() throws a SessionConfigError', () => {
    expect(configErrorOf(() => resolve({ secret: SECRET, logger: { log() {} } })).message).toContain('error(')
  })

  test('a logger with only error() is accepted', () => {
    const logger = { error() {} }
    expect(resolve({ secret: SECRET, logger }).logger).toBe(logger)
  })

  test('a logger whose warn is not a function throws a SessionConfigError naming logger.warn', () => {
    const error = configErrorOf(() => resolve({ secret: SECRET, logger: { error() {}, warn: 'loud' } }))
    expect(error.message).toContain('logger.warn')
  })
})

describe('the insecure-cookie warning', () => {
  test('production with secure false warns, naming the option to set', () => {
    expect(insecureCookieWarning(false, 'production')).toContain('set secure: true')
  })

  test('no warning when secure, nor outside production', () => {
    expect(insecureCookieWarning(true, 'production')).toBeUndefined()
    for (const nodeEnv of ['development', 'test', undefined, 'Production ']) {
      expect(insecureCookieWarning(false, nodeEnv)).toBeUndefined()
    }
  })

  test('warnThrough calls warn on the logger itself, or error when it has no warn', () => {
    const seen: string[] = []
    const withWarn = {
      prefix: 'W',
      warn(message: string) {
        seen.push(`${this.prefix}:${message}`)
      },
      error(message: string) {
        seen.push(`E:${message}`)
      },
    }
    warnThrough(withWarn, 'a')
    warnThrough({ error: (message: string) => seen.push(`E:${message}`) }, 'b')
    expect(seen).toEqual(['W:a', 'E:b'])
  })
})
