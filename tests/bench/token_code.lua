-- wrk script of `make bench`, scenario f: every request redeems another
-- authorization code at the token endpoint.
--
--   wrk -s token_code.lua -H 'Authorization: Basic ...' \
--       -H 'Content-Type: application/x-www-form-urlencoded' \
--       http://127.0.0.1:PORT/oauth2/token -- PREFIX
--
-- Thread n reads PREFIX.n: one form body per line, each with its own
-- code.  A code is single use: a thread that has sent all its lines asks
-- for /bench/none-left (410) instead, which the run reports as starved.
-- done() prints one "bench-feed" line per thread, read by token_bench.py.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

function init(args)
    bodies = {}
    for line in io.lines(args[1] .. "." .. id) do
        -- formatted now: request() only hands out prepared strings
        bodies[#bodies + 1] = wrk.format("POST", nil, nil, line)
    end
    sent = 0
    starved = 0
    tokenless = 0
    none_left = wrk.format("GET", "/bench/none-left")
end

-- wrk also calls this once before the run, to count pipelined requests;
-- that code is then never sent, and counts as sent: it is not handed out
-- again.
function request()
    if sent < #bodies then
        sent = sent + 1
        return bodies[sent]
    end
    starved = starved + 1
    return none_left
end

function response(status, headers, body)
    if status == 200 and not (body:find('"access_token":"', 1, true)
                              and body:find('"id_token":"', 1, true)
                              and body:find('"refresh_token":"', 1, true))
    then
        tokenless = tokenless + 1
    end
end

function done(summary, latency, reqs)
    for _, t in ipairs(threads) do
        io.write(string.format(
            "bench-feed thread=%d sent=%d starved=%d tokenless=%d\n",
            t:get("id"), t:get("sent"), t:get("starved"),
            t:get("tokenless")))
    end
end
