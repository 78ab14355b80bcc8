/**
 * The Redis side's scripts. The conditional update, one atomic script: a record replaces the namespace's
 * current record of its key only when its version wins (compareVersions in codec.ts, in Lua), and
 * then goes onto the stream. Two bridges can therefore never interleave into a current value that
 * is not the winner. Returns {1, stream id} when taken, {0, current record} when refused.
 *
 * KEYS[1] the values hash, KEYS[2] the stream; ARGV[1] the store key, ARGV[2] the record,
 * ARGV[3] the stream's approximate maximum length.
 */
export const PUT_SCRIPT = `
local function version(record)
  -- stamp: 12 hex digits of wall ms, 4 of counter (exact as Lua numbers); then the host id
  local wall = tonumber(string.sub(record, 1, 12), 16)
  local counter = tonumber(string.sub(record, 13, 16), 16)
  local hostLength = string.byte(record, 19)
  return wall, counter, string.sub(record, 20, 19 + hostLength)
end

-- byte order, not the locale's collation that Lua's < on strings uses
local function hostBefore(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function wins(new, old)
  local nw, nc, nh = version(new)
  local ow, oc, oh = version(old)
  if nw ~= ow then return nw > ow end
  if nc ~= oc then return nc > oc end
  return hostBefore(oh, nh)
end

local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and not wins(ARGV[2], current) then
  return {0, current}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', ARGV[1], 'r', ARGV[2])
return {1, id}
`;

/**
 * What the reader needs of XINFO STREAM, without the first and last entries' values (which may
 * be as large as a store value): {length, entries-added or -1, first id or '', max-deleted id or ''}.
 * KEYS[1] the stream.
 */
export const STREAM_STATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, -1, '', ''} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local state = {0, -1, '', ''}
for i = 1, #info, 2 do
  local name, value = info[i], info[i + 1]
  if name == 'length' then state[1] = value
  elseif name == 'entries-added' then state[2] = value
  elseif name == 'first-entry' and value then state[3] = value[1]
  elseif name == 'max-deleted-entry-id' then state[4] = value end
end
return state
`;
