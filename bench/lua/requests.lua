-- Replays a file of prepared requests round-robin; bench/requestfile.py writes the file.
--
-- The file is named by the BENCH_REQUESTS environment variable. One request per line,
-- fields separated by tabs:  METHOD  PATH  BODY  Name: value  Name: value ...
-- (BODY may be empty). A file of one line becomes wrk's static request, so the floors pay
-- nothing for Lua per request; longer files are pre-formatted once per thread in init().
--
-- done() prints one line, "BENCH_RESULT {json}", that bench/wrk.py reads: counts, errors
-- and latency percentiles in microseconds, straight from wrk's own statistics.

local function split(line, sep)
  local fields, start = {}, 1
  while true do
    local stop = string.find(line, sep, start, true)
    if not stop then
      fields[#fields + 1] = string.sub(line, start)
      return fields
    end
    fields[#fields + 1] = string.sub(line, start, stop - 1)
    start = stop + 1
  end
end

local function load(path)
  if not path or path == "" then
    error("BENCH_REQUESTS is not set: the harness names the request file")
  end
  local specs = {}
  for line in io.lines(path) do
    if line ~= "" then
      local fields = split(line, "\t")
      local headers = {}
      for i = 4, #fields do
        local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
        if not name then
          error("bad header field in " .. path .. ": " .. fields[i])
        end
        headers[name] = value
      end
      local body = fields[3]
      if body == "" then
        body = nil
      end
      specs[#specs + 1] = { method = fields[1], path = fields[2], headers = headers, body = body }
    end
  end
  if #specs == 0 then
    error("no requests in " .. path)
  end
  return specs
end

local specs = load(os.getenv("BENCH_REQUESTS"))

if #specs == 1 then
  local spec = specs[1]
  wrk.method = spec.method
  wrk.path = spec.path
  wrk.body = spec.body
  for name, value in pairs(spec.headers) do
    wrk.headers[name] = value
  end
else
  local prepared, index = {}, 0

  function init(args)
    for i, spec in ipairs(specs) do
      prepared[i] = wrk.format(spec.method, spec.path, spec.headers, spec.body)
    end
    -- Threads start at different places in the list so that they do not move in step.
    index = ((thread_number or 0) * math.floor(#prepared / 2)) % #prepared
  end

  function request()
    index = index % #prepared + 1
    return prepared[index]
  end
end

local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,'
      .. '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
