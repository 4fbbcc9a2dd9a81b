/** Random bytes in a session id: 192 bits, well above the 128-bit minimum OWASP asks for. */
const ID_BYTES = 24

/** Length of an id in characters: base64url of `ID_BYTES`, no padding. */
export const SESSION_ID_LENGTH = Math.ceil((ID_BYTES * 4) / 3)

const ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${SESSION_ID_LENGTH}}$`)

/** How many ids' worth of random bytes one call to the CSPRNG fetches. */
const IDS_PER_FILL = 256
const randomPool = Buffer.alloc(ID_BYTES * IDS_PER_FILL)
let poolOffset = randomPool.length

/**
 * A new session id from the CSPRNG, in base64url (safe in cookies and URLs). Random bytes are fetched for many ids at
 * once, and each byte is used for one id only.
 */
export function generateSessionId(): string {
  if (poolOffset === randomPool.length) {
    crypto.getRandomValues(randomPool)
    poolOffset = 0
  }
  const start = poolOffset
  poolOffset += ID_BYTES
  return randomPool.toString('base64url', start, poolOffset)
}

/** Whether `id` has the shape of an id made by `generateSessionId`. */
export function isSessionId(id: string): boolean {
  return ID_PATTERN.test(id)
}
