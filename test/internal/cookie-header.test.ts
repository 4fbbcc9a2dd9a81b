import { describe, expect, test } from 'bun:test'
import { readCookie } from '../../src/cookie-header.js'

describe('readCookie', () => {
  const cases: [string | null, string | undefined][] = [
    [null, undefined],
    ['', undefined],
    ['sessid=abc', 'abc'],
    ['theme=dark; sessid=abc; lang=en', 'abc'],
    ['theme=dark;sessid=abc', 'abc'],
    ['  sessid=abc  ', 'abc'],
    ['sessid="abc"', 'abc'],
    ['sessid=', ''],
    ['xsessid=abc', undefined],
    ['sessidx=abc', undefined],
    ['sessid2=abc; sessid=def', 'def'],
    ['sessid=first; sessid=second', 'first'],
    ['theme=sessid=abc', undefined],
    ['sessid', undefined],
  ]
  for (const [header, expected] of cases) {
    test(`${JSON.stringify(header)} gives ${JSON.stringify(expected)}`, () => {
      expect(readCookie(header, 'sessid')).toBe(expected)
    })
  }
})
