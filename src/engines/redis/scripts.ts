import { EXPIRY_FIELD, OWNER_SET_FIELD } from './keys.js'

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
const ownerSetField = JSON.stringify(OWNER_SET_FIELD)

/**
 * Lua that keeps the owner set `ownerSet` (false when the session has none) in step with the session `key` whose
 * lifetime just became `lifetime` ms: the session stays a member (added again should the set have been lost) and
 * the set lives at least as long as it, or it leaves the set when that lifetime ended it.
 */
const KEEP_IN_OWNER_SET = `if ownerSet then
  if tonumber(lifetime) <= 0 then
    redis.call('SREM', ownerSet, key)
  else
    redis.call('SADD', ownerSet, key)
    if redis.call('PTTL', ownerSet) < tonumber(lifetime) then redis.call('PEXPIRE', ownerSet, lifetime) end
  end
end`

/** How many arguments a script passes to one `redis.call` at most: an even number, well inside Lua's stack. */
const SLICE = 1_000

/**
 * Applies one request's changes to the hash KEYS[1] in one step, so concurrent commits to other keys survive.
 * ARGV[1] holds five values apart by one space (each argument costs the client a conversion): existingOnly (1 or 0),
 * lifetime in ms, expiresAt, the owner change (`=` unchanged, `-` removed, `+` set to the owner set in ARGV[2]) and
 * the number n of deleted fields; then come the n deleted fields, then field/value pairs to set. Values stay opaque
 * JSON text. The session's owner set is changed in the same step: the session leaves its old set, joins its new one,
 * and its set lives at least as long as it. A lifetime of 0 or less deletes the session (PEXPIRE does), as it has
 * expired already. Returns 1 when it wrote, 0 when existingOnly found no session. Each `redis.call` costs Redis about
 * as much as a command of its own, so fields go in as few calls as Lua's stack allows (`SLICE` values at a time).
 */
export const COMMIT_SCRIPT = script(
  'commit',
  `local key = KEYS[1]
local existingOnly, lifetime, expiresAt, ownerChange, deletedCount =
  string.match(ARGV[1], '^([01]) (%S+) (%S+) ([=+-]) (%d+)$')
if existingOnly == '1' and redis.call('EXISTS', key) == 0 then return 0 end
local deletedFrom = ownerChange == '+' and 3 or 2
local setFrom = deletedFrom + tonumber(deletedCount)
for first = deletedFrom, setFrom - 1, ${SLICE} do
  redis.call('HDEL', key, unpack(ARGV, first, math.min(first + ${SLICE - 1}, setFrom - 1)))
end
local ownerSet = redis.call('HGET', key, ${ownerSetField})
if ownerChange ~= '=' then
  local newOwnerSet = ownerChange == '+' and ARGV[2]
  if ownerSet and ownerSet ~= newOwnerSet then redis.call('SREM', ownerSet, key) end
  ownerSet = newOwnerSet
  if not ownerSet then redis.call('HDEL', key, ${ownerSetField}) end
end
local last = math.min(#ARGV, setFrom + ${SLICE - 1})
if ownerChange == '+' then
  redis.call('HSET', key, ${expiryField}, expiresAt, ${ownerSetField}, ownerSet, unpack(ARGV, setFrom, last))
else
  redis.call('HSET', key, ${expiryField}, expiresAt, unpack(ARGV, setFrom, last))
end
for first = last + 1, #ARGV, ${SLICE} do
  redis.call('HSET', key, unpack(ARGV, first, math.min(first + ${SLICE - 1}, #ARGV)))
end
${KEEP_IN_OWNER_SET}
redis.call('PEXPIRE', key, lifetime)
return 1`,
)

/**
 * Moves the expiry of the hash KEYS[1] to ARGV[1] ms from now, recording ARGV[2] as its expiresAt, without touching
 * its data, and keeps its owner set alive at least as long; an absent session is never created. Returns 1 when the
 * session was there, else 0.
 */
export const TOUCH_SCRIPT = script(
  'touch',
  `local key, lifetime = KEYS[1], ARGV[1]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, ${expiryField}, ARGV[2])
local ownerSet = redis.call('HGET', key, ${ownerSetField})
${KEEP_IN_OWNER_SET}
redis.call('PEXPIRE', key, lifetime)
return 1`,
)

/** Deletes the hash KEYS[1] and takes it out of its owner set in the same step. */
export const DELETE_SCRIPT = script(
  'delete',
  `local ownerSet = redis.call('HGET', KEYS[1], ${ownerSetField})
if ownerSet then redis.call('SREM', ownerSet, KEYS[1]) end
return redis.call('DEL', KEYS[1])`,
)

/**
 * Lua that walks the members of the owner set KEYS[1] and calls `visit(key)` for each session still in it; a member
 * whose session expired, was deleted or moved to another owner is removed from the set on the way.
 */
const EACH_OWNED_SESSION = `local ownerSet = KEYS[1]
for _, key in ipairs(redis.call('SMEMBERS', ownerSet)) do
  if redis.call('HGET', key, ${ownerSetField}) == ownerSet then
    visit(key)
  else
    redis.call('SREM', ownerSet, key)
  end
end`

/**
 * Lists the sessions of the owner set KEYS[1]: for each, its key, its PTTL and its hash as a flat field/value list.
 * Costs in proportion to that owner's sessions; expired members are pruned from the set.
 */
export const LIST_BY_OWNER_SCRIPT = script(
  'listByOwner',
  `local found = {}
local function visit(key)
  found[#found + 1] = { key, redis.call('PTTL', key), redis.call('HGETALL', key) }
end
${EACH_OWNED_SESSION}
return found`,
)

/**
 * Deletes the sessions of the owner set KEYS[1] whose keys are not among the ARGV, and returns how many it deleted;
 * expired members are pruned from the set, kept ones stay in it.
 */
export const DELETE_BY_OWNER_SCRIPT = script(
  'deleteByOwner',
  `local kept = {}
for _, key in ipairs(ARGV) do kept[key] = true end
local deleted = 0
local function visit(key)
  if kept[key] then return end
  redis.call('DEL', key)
  redis.call('SREM', KEYS[1], key)
  deleted = deleted + 1
end
${EACH_OWNED_SESSION}
return deleted`,
)
