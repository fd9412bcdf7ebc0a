/**
 * The Lua scripts behind the Redis store's atomic operations. Each mirrors, step for step, the
 * same operation in `store-memory.ts`; the store conformance test runs both against one suite.
 * Numbers cross as strings (Redis would truncate Lua numbers to integers).
 *
 * @module
 */

/** KEYS[1]; ARGV: by, ttlMs. Returns the new value. */
export const INCR = `
local e = redis.call('EXISTS', KEYS[1])
local v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if e == 0 and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

/** KEYS[1]; ARGV: ttlMs, field1, by1, field2, by2 ... */
export const HINCR = `
local e = redis.call('EXISTS', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
if e == 0 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`;

/**
 * KEYS: one per spec; ARGV: id, now, then per spec amount, limit, mode (f fixed | s sliding |
 * t total), param (f: resetAt epoch ms; s: window ms). Sliding counters are a hash (id → amount,
 * `_t` → total) plus a sorted set `<key>:ts` (id by time). Returns {ok, failed, retryMs, used...}.
 */
export const RESERVE = `
local id = ARGV[1]
local now = tonumber(ARGV[2])
local used = {}
local failed = 0
local retry = -1
for i = 1, #KEYS do
  local b = 2 + (i - 1) * 4
  local amount = tonumber(ARGV[b + 1])
  local limit = tonumber(ARGV[b + 2])
  local mode = ARGV[b + 3]
  local p = tonumber(ARGV[b + 4])
  local k = KEYS[i]
  local z = k .. ':ts'
  local u
  if mode == 's' then
    local old = redis.call('ZRANGEBYSCORE', z, '-inf', now - p)
    for _, m in ipairs(old) do
      local a = redis.call('HGET', k, m)
      if a then
        redis.call('HINCRBYFLOAT', k, '_t', -tonumber(a))
        redis.call('HDEL', k, m)
      end
    end
    if #old > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now - p) end
    u = tonumber(redis.call('HGET', k, '_t') or '0')
  else
    u = tonumber(redis.call('GET', k) or '0')
  end
  used[i] = u
  if failed == 0 and u + amount > limit then
    failed = i
    if mode == 'f' then
      retry = math.max(0, p - now)
    elseif mode == 's' then
      retry = p
      if amount <= limit then
        local need = u + amount - limit
        local freed = 0
        local es = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
        for j = 1, #es, 2 do
          freed = freed + tonumber(redis.call('HGET', k, es[j]) or '0')
          if freed >= need then
            retry = math.max(0, tonumber(es[j + 1]) + p - now)
            break
          end
        end
      end
    end
  end
end
if failed == 0 then
  for i = 1, #KEYS do
    local b = 2 + (i - 1) * 4
    local amount = ARGV[b + 1]
    local mode = ARGV[b + 3]
    local p = ARGV[b + 4]
    local k = KEYS[i]
    if mode == 's' then
      redis.call('ZADD', k .. ':ts', now, id)
      redis.call('HINCRBYFLOAT', k, id, amount)
      redis.call('HINCRBYFLOAT', k, '_t', amount)
      redis.call('PEXPIRE', k, p)
      redis.call('PEXPIRE', k .. ':ts', p)
    else
      redis.call('INCRBYFLOAT', k, amount)
      if mode == 'f' then redis.call('PEXPIREAT', k, p) end
    end
    used[i] = used[i] + tonumber(amount)
  end
end
local out = { failed == 0 and 1 or 0, failed, tostring(retry) }
for i = 1, #KEYS do out[3 + i] = tostring(used[i]) end
return out`;

/** KEYS: one per adjustment; ARGV: id, then per key mode, delta. */
export const SETTLE = `
local id = ARGV[1]
for i = 1, #KEYS do
  local mode = ARGV[2 * i]
  local d = ARGV[2 * i + 1]
  local k = KEYS[i]
  if mode == 's' then
    if redis.call('HEXISTS', k, id) == 1 then
      redis.call('HINCRBYFLOAT', k, id, d)
      redis.call('HINCRBYFLOAT', k, '_t', d)
    end
  elseif redis.call('EXISTS', k) == 1 then
    redis.call('INCRBYFLOAT', k, d)
  end
end
return 1`;
