import { describe, expect, spyOn, test } from 'bun:test'
import { generateSessionId, isSessionId, SESSION_ID_LENGTH } from '../../src/session-id.js'
import { createCookieSigner } from '../../src/signing.js'

const SECRET = 'signing-test-secret-0123456789abcdef'
const OTHER_SECRET = 'signing-test-other-secret-0123456789'
const NEW_SECRET = 'signing-test-new-secret-0123456789ab'
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const signer = createCookieSigner([SECRET])

describe('sign', () => {
  test('sign gives <id>.<43 base64url characters>', () => {
    const id = generateSessionId()
    const cookie = signer.sign(id)
    expect(cookie.startsWith(`${id}.`)).toBe(true)
    expect(cookie.slice(id.length + 1)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  test('sign is deterministic for one id and secret', () => {
    const id = generateSessionId()
    expect(signer.sign(id)).toBe(createCookieSigner([SECRET]).sign(id))
  })

  test('sign uses the first secret', () => {
    const id = generateSessionId()
    expect(createCookieSigner([NEW_SECRET, SECRET]).sign(id)).toBe(createCookieSigner([NEW_SECRET]).sign(id))
    expect(createCookieSigner([NEW_SECRET, SECRET]).sign(id)).not.toBe(signer.sign(id))
  })

  test('createCookieSigner without secrets throws a TypeError', () => {
    expect(() => createCookieSigner([])).toThrow(TypeError)
  })
})

describe('verify', () => {
  test('verify(sign(id)) gives the id, not stale', () => {
    const id = generateSessionId()
    expect(signer.verify(signer.sign(id))).toEqual({ id, stale: false })
  })

  test('changing any single character of the cookie makes verify return null', () => {
    const cookie = signer.sign(generateSessionId())
    expect(signer.verify(cookie)).not.toBeNull()
    for (let index = 0; index < cookie.length; index++) {
      const original = cookie[index]!
      // Three replacements per position: neighbours in the alphabet, and one far away.
      const at = BASE64URL.indexOf(original)
      const replacements = new Set([
        BASE64URL[(at + 1 + BASE64URL.length) % BASE64URL.length]!,
        BASE64URL[(at + 2 + BASE64URL.length) % BASE64URL.length]!,
        BASE64URL[(at + 32 + BASE64URL.length) % BASE64URL.length]!,
      ])
      for (const replacement of replacements) {
        expect(replacement).not.toBe(original)
        const tampered = cookie.slice(0, index) + replacement + cookie.slice(index + 1)
        expect(signer.verify(tampered)).toBeNull()
      }
    }
  })

  test('malformed cookie values make verify return null', () => {
    const id = generateSessionId()
    const cookie = signer.sign(id)
    const signature = cookie.slice(id.length + 1)
    const malformed = {
      truncated: cookie.slice(0, -1),
      'truncated id': cookie.slice(1),
      extended: `${cookie}A`,
      'extended id': `A${cookie}`,
      empty: '',
      'only a dot': '.',
      'no dot': id + signature,
      'two dots': `${id}..${signature}`,
      'a dot inside the signature': `${id}.${signature.slice(0, 20)}.${signature.slice(21)}`,
      'a leading dot': `.${cookie}`,
      'id alone': id,
      'signature alone': `.${signature}`,
      'padded signature': `${cookie}=`,
      'whitespace around': ` ${cookie} `,
    }
    for (const [name, value] of Object.entries(malformed)) {
      expect({ name, verified: signer.verify(value) }).toEqual({ name, verified: null })
    }
  })

  test('a correctly signed id of the wrong length or alphabet makes verify return null', () => {
    const id = generateSessionId()
    for (const badId of [id.slice(1), `${id}A`, `${id.slice(1)}+`, `${id.slice(1)}/`, `${id.slice(1)}=`, '']) {
      expect(signer.verify(signer.sign(badId))).toBeNull()
    }
  })

  test('a signature made with a different secret makes verify return null', () => {
    const cookie = createCookieSigner([OTHER_SECRET]).sign(generateSessionId())
    expect(signer.verify(cookie)).toBeNull()
  })

  test('a signature made for another id makes verify return null', () => {
    const first = generateSessionId()
    const second = generateSessionId()
    const signature = signer.sign(first).slice(first.length + 1)
    expect(signer.verify(`${second}.${signature}`)).toBeNull()
  })

  test('a non-canonical base64url signature of the same bytes makes verify return null', () => {
    const cookie = signer.sign(generateSessionId())
    const last = cookie.at(-1)!
    // 43 characters carry 258 bits for a 256-bit digest: the last character's two low bits are unused.
    const alternative = BASE64URL[BASE64URL.indexOf(last) ^ 1]!
    const tampered = cookie.slice(0, -1) + alternative
    const signatureOf = (value: string) => Buffer.from(value.slice(value.indexOf('.') + 1), 'base64url')
    expect(signatureOf(tampered).equals(signatureOf(cookie))).toBe(true)
    expect(tampered).not.toBe(cookie)
    expect(signer.verify(tampered)).toBeNull()
  })

  test('BUG: a non-ASCII character in the signature makes verify return null instead of throwing', () => {
    const cookie = signer.sign(generateSessionId())
    for (const character of ['é', '€', '\u0000', '😀'.charAt(0)]) {
      const tampered = cookie.slice(0, -1) + character
      expect(() => signer.verify(tampered)).not.toThrow()
      expect(signer.verify(tampered)).toBeNull()
    }
  })

  test('a value longer than any signed one is refused without computing an HMAC', () => {
    const signed = signer.sign(generateSessionId())
    const hmacs = spyOn(Bun.CryptoHasher.prototype, 'copy')
    try {
      for (const value of [
        `${signed}${'A'.repeat(100_000)}`,
        `${signed}A`,
        'a'.repeat(100_000),
        `${'a'.repeat(32)}.${'b'.repeat(100_000)}`,
      ]) {
        expect(signer.verify(value)).toBeNull()
      }
      expect(hmacs).toHaveBeenCalledTimes(0)
      // The spy sees the HMACs of a value of the right length.
      expect(signer.verify(signed)).not.toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(1)
    } finally {
      hmacs.mockRestore()
    }
  })
})

describe('remembered signatures', () => {
  test('a cookie whose id this signer verified lately is checked without computing its HMAC again', () => {
    const fresh = createCookieSigner([SECRET])
    const signed = fresh.sign(generateSessionId())
    const signedElsewhere = createCookieSigner([SECRET]).sign(generateSessionId())
    const hmacs = spyOn(Bun.CryptoHasher.prototype, 'copy')
    try {
      expect(fresh.verify(signed)).not.toBeNull()
      expect(fresh.verify(signedElsewhere)).not.toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(2)
      expect(fresh.verify(signed)).not.toBeNull()
      expect(fresh.verify(signedElsewhere)).not.toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(2)
    } finally {
      hmacs.mockRestore()
    }
  })

  test('a remembered signature still refuses every other signature for its id', () => {
    const fresh = createCookieSigner([SECRET])
    const signed = fresh.sign(generateSessionId())
    expect(fresh.verify(signed)).not.toBeNull()
    const dot = signed.indexOf('.')
    const other = createCookieSigner([NEW_SECRET]).sign(signed.slice(0, dot))
    expect(fresh.verify(other)).toBeNull()
    const flipped = `${signed.slice(0, -1)}${signed.endsWith('A') ? 'B' : 'A'}`
    expect(fresh.verify(flipped)).toBeNull()
    expect(fresh.verify(signed)).toEqual({ id: signed.slice(0, dot), stale: false })
  })

  test('a forged signature is never remembered: the genuine cookie for its id is checked in full', () => {
    const fresh = createCookieSigner([SECRET])
    const signed = fresh.sign(generateSessionId())
    const forged = createCookieSigner([OTHER_SECRET]).sign(signed.slice(0, signed.indexOf('.')))
    const hmacs = spyOn(Bun.CryptoHasher.prototype, 'copy')
    try {
      expect(fresh.verify(forged)).toBeNull()
      expect(fresh.verify(forged)).toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(2)
      expect(fresh.verify(signed)).not.toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(3)
      expect(fresh.verify(signed)).not.toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(3)
    } finally {
      hmacs.mockRestore()
    }
  })

  test('at most 10,000 are remembered: past that, an early id is signed again when it returns', () => {
    const fresh = createCookieSigner([SECRET])
    const early = fresh.sign(generateSessionId())
    fresh.verify(early)
    for (let index = 0; index < 10_000; index++) fresh.verify(fresh.sign(generateSessionId()))
    const hmacs = spyOn(Bun.CryptoHasher.prototype, 'copy')
    try {
      expect(fresh.verify(early)).not.toBeNull()
      expect(hmacs).toHaveBeenCalledTimes(1)
    } finally {
      hmacs.mockRestore()
    }
  })
})

describe('secret rotation', () => {
  const rotated = createCookieSigner([NEW_SECRET, SECRET])

  test('a cookie signed with an older secret verifies as stale', () => {
    const id = generateSessionId()
    expect(rotated.verify(signer.sign(id))).toEqual({ id, stale: true })
  })

  test('a cookie signed with the first secret verifies as not stale', () => {
    const id = generateSessionId()
    expect(rotated.verify(createCookieSigner([NEW_SECRET]).sign(id))).toEqual({ id, stale: false })
  })

  test('a cookie signed with a secret that was removed no longer verifies', () => {
    expect(createCookieSigner([NEW_SECRET]).verify(signer.sign(generateSessionId()))).toBeNull()
  })
})

describe('session ids', () => {
  test('generateSessionId gives 32 base64url characters', () => {
    expect(SESSION_ID_LENGTH).toBe(32)
    expect(generateSessionId()).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })

  test('generateSessionId gives unique ids over 10,000 draws', () => {
    const ids = new Set<string>()
    for (let draw = 0; draw < 10_000; draw++) ids.add(generateSessionId())
    expect(ids.size).toBe(10_000)
  })

  test('isSessionId accepts generated ids', () => {
    for (let draw = 0; draw < 1_000; draw++) {
      const id = generateSessionId()
      expect({ id, accepted: isSessionId(id) }).toEqual({ id, accepted: true })
    }
  })

  test('isSessionId rejects strings of the wrong length or alphabet', () => {
    const id = generateSessionId()
    const rejected = [
      '',
      id.slice(1),
      `${id}A`,
      `${id.slice(1)}+`,
      `${id.slice(1)}/`,
      `${id.slice(1)}=`,
      `${id.slice(1)}.`,
      `${id.slice(1)} `,
      `${id.slice(1)}é`,
      `${id.slice(1)}\n`,
      `${id}\n`,
    ]
    for (const value of rejected) expect({ value, accepted: isSessionId(value) }).toEqual({ value, accepted: false })
  })
})
