import { describe, expect, test } from 'bun:test'
import { type CacheHeaders, cacheHeadersFor, varyWithCookie } from '../../src/cache-headers.js'
import type { CookieAction } from '../../src/cookie-decision.js'
import type { IncomingCookie } from '../../src/session-state.js'

describe('cacheHeadersFor', () => {
  const rows: [IncomingCookie, CookieAction, CacheHeaders][] = [
    ['none', 'none', 'none'],
    ['current', 'none', 'vary'],
    ['old-secret', 'none', 'vary'],
    ['names-no-session', 'none', 'vary'],
    ['none', 'send', 'private'],
    ['current', 'send', 'private'],
    ['old-secret', 'send', 'private'],
    ['names-no-session', 'send', 'private'],
    ['none', 'clear', 'private'],
    ['current', 'clear', 'private'],
    ['names-no-session', 'clear', 'private'],
  ]
  for (const [incoming, action, expected] of rows) {
    test(`a request whose cookie was ${incoming} and whose cookie action is ${action}: ${expected}`, () => {
      expect(cacheHeadersFor(incoming, action)).toBe(expected)
    })
  }
})

describe('varyWithCookie', () => {
  const rows: [string | undefined, string | undefined][] = [
    [undefined, 'Cookie'],
    ['', 'Cookie'],
    ['  ', 'Cookie'],
    ['Accept-Encoding', 'Accept-Encoding, Cookie'],
    ['Accept-Encoding, Origin', 'Accept-Encoding, Origin, Cookie'],
    ['Cookie', undefined],
    ['cookie', undefined],
    ['Origin,COOKIE ', undefined],
    ['*', undefined],
    [' * ', undefined],
    ['Cookies', 'Cookies, Cookie'],
    ['Set-Cookie', 'Set-Cookie, Cookie'],
  ]
  for (const [vary, expected] of rows) {
    test(`${JSON.stringify(vary)} gives ${JSON.stringify(expected)}`, () => {
      expect(varyWithCookie(vary)).toBe(expected)
    })
  }
})
