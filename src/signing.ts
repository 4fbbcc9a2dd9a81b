import { isSessionId } from './session-id.js'

/** An HMAC-SHA256 digest in base64url without padding: 43 ASCII characters, so byte and character lengths agree. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** The id read from a cookie whose signature checked out. */
export interface VerifiedId {
  readonly id: string
  /** True when an older secret signed the cookie, so it should be sent again, signed with the first one. */
  readonly stale: boolean
}

/** Signs session ids into cookie values and verifies them in constant time. */
export interface CookieSigner {
  /** `<id>.<HMAC-SHA256(id) in base64url>` with the first secret. */
  sign(id: string): string
  /** The id inside a cookie value, or `null` when the value is malformed or no secret signed it. */
  verify(value: string): VerifiedId | null
}

/**
 * A signer over `secrets`: the first signs, all verify. Keyed hashers are built once and copied per call, because
 * keying an HMAC costs more than hashing a short id.
 */
export function createCookieSigner(secrets: readonly string[]): CookieSigner {
  const keyed = secrets.map((secret) => new Bun.CryptoHasher('sha256', secret))
  const signWith = (hasher: Bun.CryptoHasher, id: string) => hasher.copy().update(id).digest('base64url')
  const primary = keyed[0]
  if (!primary) throw new TypeError('createCookieSigner needs at least one secret')

  return {
    sign: (id) => `${id}.${signWith(primary, id)}`,
    verify(value) {
      const dot = value.indexOf('.')
      if (dot < 0) return null
      const id = value.slice(0, dot)
      const signature = value.slice(dot + 1)
      if (!isSessionId(id) || !SIGNATURE_PATTERN.test(signature)) return null
      const given = Buffer.from(signature)
      for (let index = 0; index < keyed.length; index++) {
        const expected = Buffer.from(signWith(keyed[index] as Bun.CryptoHasher, id))
        // Equal lengths are guaranteed above; comparing the encoded strings rejects non-canonical base64url too.
        if (crypto.timingSafeEqual(given, expected)) return { id, stale: index > 0 }
      }
      return null
    },
  }
}
