import { describe, expect, test } from 'bun:test'
import {
  CSRF_TOKEN_LENGTH,
  csrfTokenMatches,
  generateCsrfSecret,
  isCsrfSecret,
  maskCsrfToken,
} from '../../src/csrf-token.js'

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** `text` with the character at `index` replaced by another base64url character. */
function withCharacterChanged(text: string, index: number): string {
  const current = text.charAt(index)
  const other = BASE64URL.charAt((BASE64URL.indexOf(current) + 1) % BASE64URL.length)
  return text.slice(0, index) + other + text.slice(index + 1)
}

describe('secrets', () => {
  test('a secret is 32 random bytes in base64url (43 characters), different each time', () => {
    const secrets = new Set(Array.from({ length: 100 }, generateCsrfSecret))
    expect(secrets.size).toBe(100)
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32)
      expect(isCsrfSecret(secret)).toBe(true)
    }
  })

  test.each([
    ['a shorter string', 'abc'],
    ['a string with characters outside base64url', `${'a'.repeat(42)}=`],
    ['a number', 42],
    ['undefined', undefined],
  ])('isCsrfSecret rejects %s', (_, value) => {
    expect(isCsrfSecret(value)).toBe(false)
  })
})

describe('masked tokens', () => {
  test('a token is 64 bytes in base64url (86 characters)', () => {
    const token = maskCsrfToken(generateCsrfSecret())
    expect(CSRF_TOKEN_LENGTH).toBe(86)
    expect(token).toMatch(/^[A-Za-z0-9_-]{86}$/)
  })

  test('two tokens of one secret differ in both halves, and both verify', () => {
    const secret = generateCsrfSecret()
    const first = maskCsrfToken(secret)
    const second = maskCsrfToken(secret)
    expect(first.slice(0, 43)).not.toBe(second.slice(0, 43))
    expect(first.slice(43)).not.toBe(second.slice(43))
    expect(csrfTokenMatches(secret, first)).toBe(true)
    expect(csrfTokenMatches(secret, second)).toBe(true)
  })

  test('a token never contains the secret', () => {
    const secret = generateCsrfSecret()
    for (let round = 0; round < 20; round++) expect(maskCsrfToken(secret)).not.toContain(secret)
  })

  test('a token verifies again and again (tokens are not single-use)', () => {
    const secret = generateCsrfSecret()
    const token = maskCsrfToken(secret)
    for (let round = 0; round < 3; round++) expect(csrfTokenMatches(secret, token)).toBe(true)
  })
})

describe('tokenMatches refuses everything else, without throwing', () => {
  const secret = generateCsrfSecret()
  const token = maskCsrfToken(secret)

  test("another secret's token", () => {
    expect(csrfTokenMatches(secret, maskCsrfToken(generateCsrfSecret()))).toBe(false)
  })

  test('a token with any one character changed, in the pad or in the masked secret', () => {
    for (let index = 0; index < token.length; index++) {
      expect(csrfTokenMatches(secret, withCharacterChanged(token, index))).toBe(false)
    }
  })

  test('the secret itself, unmasked', () => {
    expect(csrfTokenMatches(secret, secret)).toBe(false)
  })

  test.each([
    ['a truncated token', token.slice(0, -1)],
    ['a token with a character added', `${token}A`],
    ['a token with padding', `${token}==`],
    ['standard base64 instead of base64url', Buffer.from(token, 'base64url').toString('base64')],
    ['a string of the right length outside base64url', '!'.repeat(86)],
    ['a string of the right length with non-ASCII characters', 'é'.repeat(86)],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an array holding the token', [token]],
    ['an object', { token }],
  ])('%s', (_, submitted) => {
    expect(csrfTokenMatches(secret, submitted)).toBe(false)
  })

  test('a token whose last character differs only in bits that decode to nothing', () => {
    // 86 characters hold 516 bits, 4 more than the 64 bytes: the last character has variants with the same bytes.
    const last = BASE64URL.indexOf(token.charAt(85))
    const variant = token.slice(0, 85) + BASE64URL.charAt(last ^ 0b1111)
    expect(Buffer.from(variant, 'base64url').equals(Buffer.from(token, 'base64url'))).toBe(true)
    expect(csrfTokenMatches(secret, variant)).toBe(false)
  })

  test.each([
    ['an empty secret', ''],
    ['a secret of the wrong shape', 'not-a-secret'],
  ])('a valid-looking token against %s', (_, badSecret) => {
    expect(csrfTokenMatches(badSecret, token)).toBe(false)
  })
})
