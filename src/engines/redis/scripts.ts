import { EXPIRY_FIELD } from './keys.js'

/** A Lua script, with the SHA1 digest EVALSHA calls it by. */
export interface RedisScript {
  readonly name: string
  readonly source: string
  readonly sha: string
}

function script(name: string, source: string): RedisScript {
  return { name, source, sha: new Bun.CryptoHasher('sha1').update(source).digest('hex') }
}

const expiryField = JSON.stringify(EXPIRY_FIELD)

/**
 * Applies one request's changes to the hash KEYS[1] in one step, so concurrent commits to other keys survive.
 * ARGV: existingOnly ('1' or '0'), lifetime in ms, expiresAt, the number n of deleted fields, the n deleted fields,
 * then field/value pairs to set. Values stay opaque JSON text. A lifetime of 0 or less deletes the session (PEXPIRE
 * does), as it has expired already. Returns 1 when it wrote, 0 when existingOnly found no session.
 */
export const COMMIT_SCRIPT = script(
  'commit',
  `local key = KEYS[1]
if ARGV[1] == '1' and redis.call('EXISTS', key) == 0 then return 0 end
local deletedCount = tonumber(ARGV[4])
for index = 5, 4 + deletedCount do redis.call('HDEL', key, ARGV[index]) end
redis.call('HSET', key, ${expiryField}, ARGV[3])
for index = 5 + deletedCount, #ARGV, 2 do redis.call('HSET', key, ARGV[index], ARGV[index + 1]) end
redis.call('PEXPIRE', key, ARGV[2])
return 1`,
)

/** Reads the hash KEYS[1] with its remaining lifetime in ms: { pttl, { field, value, ... } }, or nil when absent. */
export const LOAD_SCRIPT = script(
  'load',
  `local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then return nil end
return { pttl, redis.call('HGETALL', KEYS[1]) }`,
)

/**
 * Moves the expiry of the hash KEYS[1] to ARGV[1] ms from now, recording ARGV[2] as its expiresAt, without touching
 * its data; an absent session is never created. Returns 1 when the session was there, else 0.
 */
export const TOUCH_SCRIPT = script(
  'touch',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ${expiryField}, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`,
)
