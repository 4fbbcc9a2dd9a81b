import { timingSafeEqual } from 'node:crypto'

/** Random bytes in a session's CSRF secret. */
const SECRET_BYTES = 32

/** Length of a secret in characters: base64url of `SECRET_BYTES`, no padding. */
const SECRET_LENGTH = Math.ceil((SECRET_BYTES * 4) / 3)

/** Length of a masked token in characters: base64url of a one-time pad and the masked secret, no padding. */
export const CSRF_TOKEN_LENGTH = Math.ceil((SECRET_BYTES * 2 * 4) / 3)

const SECRET_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${SECRET_LENGTH}}$`)
const TOKEN_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${CSRF_TOKEN_LENGTH}}$`)

/** A new CSRF secret from the CSPRNG: 32 random bytes in base64url, to keep in a session. */
export function generateCsrfSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(SECRET_BYTES))).toString('base64url')
}

/** Whether `value` has the shape of a secret made by `generateCsrfSecret`. */
export function isCsrfSecret(value: unknown): value is string {
  return typeof value === 'string' && SECRET_PATTERN.test(value)
}

/**
 * A token for `secret`: a fresh random pad followed by the secret XORed with it, in base64url. Every call gives a
 * different string, so a page that is compressed together with attacker-chosen text (BREACH) never repeats a token,
 * yet every token unmasks to the same secret.
 */
export function maskCsrfToken(secret: string): string {
  const raw = Buffer.from(secret, 'base64url')
  const token = Buffer.alloc(SECRET_BYTES * 2)
  crypto.getRandomValues(token.subarray(0, SECRET_BYTES))
  for (let index = 0; index < SECRET_BYTES; index++) {
    token[SECRET_BYTES + index] = (token[index] as number) ^ (raw[index] as number)
  }
  return token.toString('base64url')
}

/**
 * Whether `submitted` is a token made by `maskCsrfToken(secret)`. Anything else (another session's token, a tampered,
 * short or non-string value, a secret that is not one) gives false, never an exception; the secret is compared in
 * constant time.
 */
export function csrfTokenMatches(secret: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || !TOKEN_PATTERN.test(submitted) || !isCsrfSecret(secret)) return false
  const token = Buffer.from(submitted, 'base64url')
  // The last character carries spare bits: re-encoding rejects the variants that decode to the same bytes.
  if (token.toString('base64url') !== submitted) return false
  const unmasked = Buffer.alloc(SECRET_BYTES)
  for (let index = 0; index < SECRET_BYTES; index++) {
    unmasked[index] = (token[index] as number) ^ (token[SECRET_BYTES + index] as number)
  }
  return timingSafeEqual(unmasked, Buffer.from(secret, 'base64url'))
}
