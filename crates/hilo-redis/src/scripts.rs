//! The broker's Lua scripts: each is one atomic step on the server, so an
//! ownership check and what depends on it cannot be split by another
//! client's command.
//!
//! They name keys built from entry data (an owner's inbox) that are not
//! declared in `KEYS`: fine on one Redis server, not on a Redis Cluster
//! (shard by prefix instead; see `docs/scaling.md`).

use std::sync::LazyLock;

use redis::Script;

/// Renews a lease: for each id `ARGV[3..]` the consumer `ARGV[2]` still
/// holds in group `ARGV[1]` of stream `KEYS[1]`, resets its idle time
/// (`XCLAIM … JUSTID` does not count a delivery). Returns the ids it no
/// longer holds.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
",
    )
});

/// Takes over up to `ARGV[4]` entries of stream `KEYS[1]` idle for
/// `ARGV[3]` ms in group `ARGV[1]`, for consumer `ARGV[2]`. Returns
/// `{id, delivery count, fields}` for each.
pub(crate) static RECLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
for _, e in ipairs(r[2]) do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
  out[#out + 1] = {e[1], p[1][4], e[2]}
end
return out
",
    )
});

/// Finishes entry `ARGV[3]` of stream `KEYS[1]` if consumer `ARGV[2]`
/// holds it in group `ARGV[1]`: acknowledged, deleted, the result
/// `ARGV[4]` added to the inbox `KEYS[2]`, which expires `ARGV[5]` s after
/// its last message, and the counter of finished tasks `KEYS[3]` counts
/// it. Returns 1, or 0 (not held: nothing done).
pub(crate) static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] then
  return 0
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('XADD', KEYS[2], '*', 'm', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('INCR', KEYS[3])
return 1
",
    )
});

/// Withdraws entry `ARGV[2]` of stream `KEYS[1]` (group `ARGV[1]`): if a
/// consumer holds it and `ARGV[5]` is `0`, it is taken from it and its id
/// sent to that consumer's inbox (`ARGV[3]` .. owner, expiring after
/// `ARGV[4]` s): `{'taken', owner}`; held and `ARGV[5]` is `1`: left,
/// `{'held', owner}`; still queued: deleted, `{'removed'}`; else
/// `{'gone'}`.
pub(crate) static WITHDRAW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if p[1] and ARGV[5] == '1' then
  return {'held', p[1][2]}
end
if p[1] then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
  local inbox = ARGV[3] .. p[1][2]
  redis.call('XADD', inbox, '*', 'm', ARGV[2])
  redis.call('EXPIRE', inbox, ARGV[4])
  return {'taken', p[1][2]}
end
if redis.call('XDEL', KEYS[1], ARGV[2]) == 1 then
  return {'removed'}
end
return {'gone'}
",
    )
});

/// Takes up to `ARGV[3]` new entries for consumer `ARGV[2]` of group
/// `ARGV[1]` from the streams `KEYS` in order, a later one only while the
/// earlier ones have too few: one round trip for the priority scan.
/// Returns `{key, id, fields}` for each.
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local want = tonumber(ARGV[3])
local out = {}
for _, key in ipairs(KEYS) do
  if #out >= want then break end
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', want - #out, 'STREAMS', key, '>')
  if r then
    for _, e in ipairs(r[1][2]) do
      out[#out + 1] = {key, e[1], e[2]}
    end
  end
end
return out
",
    )
});
