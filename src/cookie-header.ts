/**
 * The value of the first cookie called `name` in a Cookie request header, or `undefined`. Reads the header directly
 * instead of through Elysia's cookie jar, which parses and decodes every cookie of every request. Values are
 * returned as sent (without URL-decoding): a session cookie's value is base64url, and anything else fails its
 * signature check anyway.
 */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  const length = header.length
  let start = 0
  while (start < length) {
    while (header.charCodeAt(start) === 32) start++
    const semicolon = header.indexOf(';', start)
    const end = semicolon === -1 ? length : semicolon
    if (header.charCodeAt(start + name.length) === 61 && header.startsWith(name, start)) {
      const value = header.slice(start + name.length + 1, end).trim()
      // RFC 6265 allows a value in double quotes.
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
    }
    start = end + 1
  }
  return undefined
}
