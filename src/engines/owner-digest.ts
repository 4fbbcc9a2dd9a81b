/**
 * The SHA-256 of `owner`'s UTF-16 code units, in base64url: 43 characters safe in file names and SQL text, and
 * distinct for distinct owners, lone surrogates and U+0000 included.
 */
export function ownerDigest(owner: string): string {
  return new Bun.CryptoHasher('sha256').update(Buffer.from(owner, 'utf16le')).digest('base64url')
}
