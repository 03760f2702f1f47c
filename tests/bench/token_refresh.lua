-- wrk script of `make bench`, scenario g: refresh token rotation at the
-- token endpoint.
--
--   wrk -s token_refresh.lua -H 'Authorization: Basic ...' \
--       -H 'Content-Type: application/x-www-form-urlencoded' \
--       http://127.0.0.1:PORT/oauth2/token -- PREFIX
--
-- Thread n reads PREFIX.n: one refresh token per line, each of its own
-- family.  request() takes the oldest token out of the thread's queue,
-- response() puts the successor from the answer at the end.  A token is
-- thus sent once: presenting a used one would revoke its whole family.
-- With more tokens than connections the queue never runs dry; if it
-- did, request() asks for /bench/none-left (410) rather than reuse a
-- token, and the run reports it as starved.  done() prints the tokens
-- still queued ("bench-token") for the next round and one "bench-feed"
-- line per thread, read by token_bench.py.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

function init(args)
    queue = {}
    for line in io.lines(args[1] .. "." .. id) do
        queue[#queue + 1] = line
    end
    head = 1
    tail = #queue
    low = #queue
    starved = 0
    tokenless = 0
    none_left = wrk.format("GET", "/bench/none-left")
end

-- wrk also calls this once before the run, to count pipelined requests;
-- the token it takes is never sent, and is dropped, not queued again.
function request()
    if head > tail then
        starved = starved + 1
        return none_left
    end
    local token = queue[head]
    queue[head] = nil
    head = head + 1
    if tail - head + 1 < low then
        low = tail - head + 1
    end
    return wrk.format("POST", nil, nil,
                      "grant_type=refresh_token&refresh_token=" .. token)
end

-- Only a 200 carries a successor; the statuses are checked from the
-- access log.
function response(status, headers, body)
    if status ~= 200 then
        return
    end
    local token = body:match('"refresh_token":"([%w_%-]+)"')
    if token == nil or not body:find('"access_token":"', 1, true) then
        tokenless = tokenless + 1
        return
    end
    tail = tail + 1
    queue[tail] = token
end

function done(summary, latency, reqs)
    for _, t in ipairs(threads) do
        local q = t:get("queue")
        for i = t:get("head"), t:get("tail") do
            io.write("bench-token ", q[i], "\n")
        end
        io.write(string.format(
            "bench-feed thread=%d low=%d starved=%d tokenless=%d\n",
            t:get("id"), t:get("low"), t:get("starved"),
            t:get("tokenless")))
    end
end
