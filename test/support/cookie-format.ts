import { createHmac, randomBytes } from 'node:crypto'

/**
 * A session id in the format the library makes them: 24 random bytes in base64url without padding, 32 characters.
 * Written here from that format, not taken from the library, so tests that use it also pin the format.
 */
export function randomSessionId(): string {
  return randomBytes(24).toString('base64url')
}

/** The session cookie value for `id` signed with `secret`: `<id>.<HMAC-SHA256 of id keyed by secret, base64url>`. */
export function signedCookieValue(id: string, secret: string): string {
  return `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`
}
