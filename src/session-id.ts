/** Random bytes in a session id: 192 bits, well above the 128-bit minimum OWASP asks for. */
const ID_BYTES = 24

/** Length of an id in characters: base64url of `ID_BYTES`, no padding. */
export const SESSION_ID_LENGTH = Math.ceil((ID_BYTES * 4) / 3)

const ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${SESSION_ID_LENGTH}}$`)

/** A new session id from the CSPRNG, in base64url (safe in cookies and URLs). */
export function generateSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(ID_BYTES))).toString('base64url')
}

/** Whether `id` has the shape of an id made by `generateSessionId`. */
export function isSessionId(id: string): boolean {
  return ID_PATTERN.test(id)
}
