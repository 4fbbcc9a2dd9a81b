import { isSessionId, SESSION_ID_LENGTH } from './session-id.js'

/** An HMAC-SHA256 digest in base64url without padding: 43 ASCII characters, so byte and character lengths agree. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** The length of every validly signed value, `<id>.<signature>`: one of any other length is refused before any work. */
const SIGNED_LENGTH = SESSION_ID_LENGTH + 1 + 43

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
 * How many verified ids' signatures under the first secret a signer remembers, so that a returning cookie is checked
 * without computing its HMAC again: enough for the sessions in use at once on a busy server, and a few MB at most.
 */
const REMEMBERED_SIGNATURES = 10_000

/**
 * A signer over `secrets`: the first signs, all verify. Keyed hashers are built once and copied per call, because
 * keying an HMAC costs more than hashing a short id. The first secret's signatures of recently verified ids are
 * remembered by id (found as the engine finds a session, by the id alone) and still compared in constant time.
 */
export function createCookieSigner(secrets: readonly string[]): CookieSigner {
  const keyed = secrets.map((secret) => new Bun.CryptoHasher('sha256', secret))
  const signWith = (hasher: Bun.CryptoHasher, id: string) => hasher.copy().update(id).digest('base64url')
  const primary = keyed[0]
  if (!primary) throw new TypeError('createCookieSigner needs at least one secret')
  const remembered = new Map<string, string>()
  const remember = (id: string, signature: string) => {
    // Emptied when full rather than evicted one by one: the ids in use are remembered again on their next request.
    if (remembered.size >= REMEMBERED_SIGNATURES) remembered.clear()
    remembered.set(id, signature)
  }

  return {
    // Remembered when the cookie comes back, not here: most new sessions of a busy server never return.
    sign: (id) => `${id}.${signWith(primary, id)}`,
    verify(value) {
      if (value.length !== SIGNED_LENGTH) return null
      const dot = value.indexOf('.')
      if (dot < 0) return null
      const id = value.slice(0, dot)
      const signature = value.slice(dot + 1)
      if (!isSessionId(id) || !SIGNATURE_PATTERN.test(signature)) return null
      const known = remembered.get(id)
      const expected = known ?? signWith(primary, id)
      // Comparing the encoded strings rejects non-canonical base64url too.
      if (equalInConstantTime(signature, expected)) {
        // Only a signature that checked out is remembered, so forged cookies never fill the memory.
        if (known === undefined) remember(id, expected)
        return { id, stale: false }
      }
      for (let index = 1; index < keyed.length; index++) {
        if (equalInConstantTime(signature, signWith(keyed[index] as Bun.CryptoHasher, id))) return { id, stale: true }
      }
      return null
    },
  }
}

/**
 * Whether two strings of equal length are equal, in time that depends only on their length: every character is
 * compared, whatever differs. Both are ASCII (checked by the caller), so no Buffer is needed per request.
 */
function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let index = 0; index < a.length; index++) difference |= a.charCodeAt(index) ^ b.charCodeAt(index)
  return difference === 0
}
