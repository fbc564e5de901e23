-- wrk script for bench/run. Arguments after `--`:
--   get   [TOKEN]              GET the URL (with `Authorization: Token TOKEN` if given)
--   tokens FILE                GET the URL with each token of FILE (one a line) in turn
--   lead  TOKEN RUNID          POST /api/leads/ with an email unique per run, thread and request
--   login USERNAME PASSWORD    POST /api/auth/login with correct credentials
-- At the end it prints one line "BENCHJSON {...}" with requests/s, latency
-- percentiles in ms and error counts. Only the POST modes hook response():
-- a response callback costs wrk CPU that the GET ceiling should not pay, so
-- GET modes count non-2xx through wrk's own status counter (status >= 400).

local threads = {}
local next_tid = 0

function setup(thread)
   next_tid = next_tid + 1
   thread:set("tid", next_tid)
   table.insert(threads, thread)
end

local function count_response(status, headers, body)
   if status == 201 then created = created + 1 end
   if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

local function lead_request()
   counter = counter + 1
   local body = string.format(
      '{"name":"Bench lead %d","email":"r%st%dn%d@bench.example.com","message":"Benchmark lead %d of thread %d"}',
      counter, runid, tid, counter, counter, tid)
   return wrk.format(nil, nil, nil, body)
end

function init(args)
   mode = args[1] or "get"
   counter, created, non2xx = 0, 0, 0
   if mode == "get" then
      if args[2] and args[2] ~= "" then
         wrk.headers["Authorization"] = "Token " .. args[2]
      end
   elseif mode == "tokens" then
      -- Each request formatted once, here: request() only hands them out.
      local requests = {}
      for token in io.lines(args[2]) do
         requests[#requests + 1] = wrk.format(nil, nil, {["Authorization"] = "Token " .. token})
      end
      local i = 0
      request = function()
         i = i % #requests + 1
         return requests[i]
      end
   elseif mode == "lead" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      wrk.headers["Authorization"] = "Token " .. args[2]
      runid = args[3]
      request = lead_request
      response = count_response
   elseif mode == "login" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      wrk.body = string.format('{"username":"%s","password":"%s"}', args[2], args[3])
      response = count_response
   else
      error("unknown mode " .. tostring(mode))
   end
   hooked = (response ~= nil) and 1 or 0
end

function done(summary, latency, requests)
   local created_total, non2xx_total, hooked_any = 0, 0, 0
   for _, t in ipairs(threads) do
      created_total = created_total + (t:get("created") or 0)
      non2xx_total = non2xx_total + (t:get("non2xx") or 0)
      hooked_any = math.max(hooked_any, t:get("hooked") or 0)
   end
   local e = summary.errors
   if hooked_any == 0 then non2xx_total = e.status end
   local secs = summary.duration / 1e6
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,'
      .. '"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,"non2xx":%d,"connect":%d,"read":%d,'
      .. '"write":%d,"timeout":%d,"created":%d,"errors":%d}\n',
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
      non2xx_total, e.connect, e.read, e.write, e.timeout, created_total,
      non2xx_total + e.connect + e.read + e.write + e.timeout))
end
