-- walk.lua: wrk walks whole five-hop USSD sessions (Africa's Talking
-- callbacks: the inputs so far joined by '*'), checking every screen.
-- Run with one connection per thread, so a session's hops never overlap:
--
--   wrk -t64 -c64 -d10s --timeout 5s --latency -s walk.lua URL -- menu=barefoot flow=visit phones=64 first=0
--
-- menu=barefoot : Barefoot's director menu, as the synthetic directors of
--                 `barefoot loadgen --seed-directors` (+861379xxxxxxx, English).
--                 flow=visit confirms (the last hop saves a visit), flow=browse
--                 backs out of the confirm with 0 (nothing saved). Thread t
--                 dials as directors t-1, t-1+phones, ... from the first-th
--                 round on, so no two threads share a director and a run
--                 given another first= does not meet the last run's walks.
-- menu=peer     : the same walk on the peer and the floor (.ci/bench/peer,
--                 .ci/bench/gomenu), which save nothing.
-- A hop answered with anything but 200 and the expected screen fails its
-- session, which is dropped; done() prints one RESULT line.

local cfg = { menu = "barefoot", flow = "visit", phones = "64", first = "0", directors = "20000" }
local children = { { "C0001", "王小明" }, { "C0002", "刘佳" }, { "C0003", "陈晨" }, { "C0004", "赵磊" }, { "C0005", "孙丽" } }
local threads, counter = {}, 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

ok, bad_status, bad_body, sessions_done, sessions_failed, offers = 0, 0, 0, 0, 0, 0
local tid, round, sess, run_id
sample, menu_arg, flow_arg = nil, "?", "?"
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  for _, a in ipairs(args) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if k then cfg[k] = v end
  end
  tid = tonumber(wrk.thread:get("tid")) or 1
  menu_arg, flow_arg = cfg.menu, cfg.flow
  round = tonumber(cfg.first)
  -- Session ids must be new to the gateway on every run: one it has seen
  -- end is answered "dial again".
  math.randomseed(os.time() * 1000 + tid * 7919 + math.floor((os.clock() * 1e6) % 1e6))
  run_id = string.format("%x%04x", os.time(), math.random(0, 0xffff))
end

-- steps: { input, expected substring, prefix }
local function steps(child)
  local code, name = child[1], child[2]
  if cfg.menu == "peer" then name = code end
  local s = {
    { "", "Child welfare reports", "CON " },
    { "1", "Enter the child ID", "CON " },
    { code, "How is " .. name .. "?", "CON " },
  }
  if cfg.menu == "peer" then
    table.insert(s, { "1", "Visit to " .. code .. ": Well", "CON " })
    table.insert(s, { "1", "Visit recorded: " .. code, "END " })
  else
    table.insert(s, { "1", "Visit to " .. name .. " (" .. code .. "): Well", "CON " })
    if cfg.flow == "browse" then
      table.insert(s, { "0", "How is " .. name .. "?", "CON " })
    else
      table.insert(s, { "1", "Visit saved. Ref V", "END " })
    end
  end
  return s
end

local function new_session()
  local phones, directors = tonumber(cfg.phones), tonumber(cfg.directors)
  local per = math.floor((directors - tid) / phones) + 1   -- directors of this thread
  local d = (tid - 1) + phones * (round % per)
  round = round + 1
  sess = {
    id = string.format("wrk%s-%d-%d", run_id, tid, round),
    phone = string.format("+861379%07d", d + 1),
    steps = steps(children[math.random(1, 5)]),
    inputs = {}, step = 1,
  }
end

function request()
  if sess == nil then new_session() end
  local text = table.concat(sess.inputs, "*")
  local body = "sessionId=" .. urlencode(sess.id) .. "&serviceCode=" .. urlencode("*384*2015#") ..
    "&phoneNumber=" .. urlencode(sess.phone) .. "&networkCode=46000&text=" .. urlencode(text)
  return wrk.format("POST", nil, headers, body)
end

local function fail(counter_name, body)
  if counter_name == "status" then bad_status = bad_status + 1 else bad_body = bad_body + 1 end
  sessions_failed = sessions_failed + 1
  if sample == nil then sample = string.format("step %d: %q", sess.step, body:sub(1, 80)) end
  sess = nil
end

function response(status, hdrs, body)
  if sess == nil then return end
  if status ~= 200 then return fail("status", tostring(status) .. " " .. body) end
  if sess.step == 1 and not sess.offered and body:find("You have an unfinished report.", 1, true) then
    -- A walk this director left unfinished: start again, as loadgen does.
    offers = offers + 1
    sess.offered = true
    sess.inputs = { "2" }
    return
  end
  local st = sess.steps[sess.step]
  if body:sub(1, 4) ~= st[3] or not body:find(st[2], 1, true) then return fail("body", body) end
  ok = ok + 1
  sess.step = sess.step + 1
  if sess.step > #sess.steps then
    sessions_done = sessions_done + 1
    sess = nil
    return
  end
  table.insert(sess.inputs, sess.steps[sess.step][1])
end

function done(summary, latency, requests)
  local t = { ok = 0, bad_status = 0, bad_body = 0, sessions_done = 0, sessions_failed = 0, offers = 0 }
  local first_sample
  for _, th in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + (tonumber(th:get(k)) or 0) end
    first_sample = first_sample or th:get("sample")
  end
  local menu = threads[1] and threads[1]:get("menu_arg") or "?"
  local flow = threads[1] and threads[1]:get("flow_arg") or "?"
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT tool=wrk menu=%s flow=%s rps=%.1f sessions_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f " ..
    "requests=%d ok=%d bad_status=%d bad_body=%d sessions_done=%d sessions_failed=%d resume_offers=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    menu, flow, summary.requests / secs, t.sessions_done / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    summary.requests, t.ok, t.bad_status, t.bad_body, t.sessions_done, t.sessions_failed, t.offers,
    e.connect, e.read, e.write, e.status, e.timeout))
  if first_sample then io.write("first failure: " .. first_sample .. "\n") end
end
