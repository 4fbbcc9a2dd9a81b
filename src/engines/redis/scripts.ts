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

/** How many arguments a script passes to one `redis.call` at most: an even number, well inside Lua's stack. */
const SLICE = 1_000

/**
 * Applies one request's changes to the hash KEYS[1] in one step, so concurrent commits to other keys survive.
 * ARGV[1] holds four numbers apart by one space (each argument costs the client a conversion): existingOnly (1 or 0),
 * lifetime in ms, expiresAt and the number n of deleted fields; then come the n deleted fields, then field/value pairs
 * to set. Values stay opaque JSON text. A lifetime of 0 or less deletes the session (PEXPIRE does), as it has expired
 * already. Returns 1 when it wrote, 0 when existingOnly found no session. Each `redis.call` costs Redis about as much
 * as a command of its own, so fields go in as few calls as Lua's stack allows (`SLICE` values at a time).
 */
export const COMMIT_SCRIPT = script(
  'commit',
  `local key = KEYS[1]
local existingOnly, lifetime, expiresAt, deletedCount = string.match(ARGV[1], '^([01]) (%S+) (%S+) (%d+)$')
if existingOnly == '1' and redis.call('EXISTS', key) == 0 then return 0 end
local setFrom = 2 + tonumber(deletedCount)
for first = 2, setFrom - 1, ${SLICE} do
  redis.call('HDEL', key, unpack(ARGV, first, math.min(first + ${SLICE - 1}, setFrom - 1)))
end
local last = math.min(#ARGV, setFrom + ${SLICE - 1})
redis.call('HSET', key, ${expiryField}, expiresAt, unpack(ARGV, setFrom, last))
for first = last + 1, #ARGV, ${SLICE} do
  redis.call('HSET', key, unpack(ARGV, first, math.min(first + ${SLICE - 1}, #ARGV)))
end
redis.call('PEXPIRE', key, lifetime)
return 1`,
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
