import { FUTURE_LIMIT_MS } from './clock.js';

/**
 * The Redis side's scripts. The conditional update, one atomic script: a record replaces the namespace's
 * current record of its key only when its version wins (compareVersions in codec.ts, in Lua), and
 * then goes onto the stream. Two bridges can therefore never interleave into a current value that
 * is not the winner. Returns {1, stream id} when taken, {0, current record} when refused.
 *
 * The current record is hostile input (anything can HSET the hash): one that is not a record a
 * bridge writes (decodeRecord's rules), or that is stamped more than FUTURE_LIMIT_MS past Redis's
 * TIME, is no current record at all, and the record offered replaces it. The record offered is the
 * bridge's own; one that is not a record is refused with an error.
 *
 * KEYS[1] the values hash, KEYS[2] the stream; ARGV[1] the store key, ARGV[2] the record,
 * ARGV[3] the stream's approximate maximum length.
 */
export const PUT_SCRIPT = `
-- Redis before 7 lets a script write after TIME only when it replicates its effects
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local latest = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + ${FUTURE_LIMIT_MS}

-- {wall, counter, host} of a record a bridge could have written, or nil for anything else
local function version(record)
  if type(record) ~= 'string' or #record < 20 then return nil end
  -- stamp: 12 hex digits of wall ms, 4 of counter (exact as Lua numbers)
  if not string.find(string.sub(record, 1, 16), '^[0-9a-f]+$') then return nil end
  local op = string.sub(record, 17, 17)
  local hostLength = string.byte(record, 19)
  if (op ~= 's' and op ~= 'u') or hostLength == 0 or #record < 19 + hostLength then return nil end
  if op == 's' and #record == 19 + hostLength then return nil end -- a store value is never empty
  local host = string.sub(record, 20, 19 + hostLength)
  if not string.find(host, '^[!-~]+$') then return nil end
  return {tonumber(string.sub(record, 1, 12), 16), tonumber(string.sub(record, 13, 16), 16), host}
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
  if new[1] ~= old[1] then return new[1] > old[1] end
  if new[2] ~= old[2] then return new[2] > old[2] end
  return hostBefore(old[3], new[3])
end

local offered = version(ARGV[2])
if not offered then return redis.error_reply('ERR splinter bridge: the record offered is not a record') end
local current = redis.call('HGET', KEYS[1], ARGV[1])
local held = current and version(current)
if held and held[1] <= latest and not wins(offered, held) then
  return {0, current}
end
-- The stream first: a script is not undone when a command fails, and an XADD that fails (the key
-- made something else than a stream) must not leave the record current without its entry (readers
-- would never see it, and the bridge, offering it again, would find it taken). HGET above already
-- showed the HSET cannot fail.
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', ARGV[1], 'r', ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
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
