-- wrk script of the data-standard part of `make bench`: every request
-- pushes a smartcampus roster to the gateway.
--
--   wrk -s std_push.lua -H 'Authorization: Bearer ...' \
--       -H 'Content-Type: application/json' \
--       http://127.0.0.1:PORT/std/v1/push/smartcampus -- DIR COUNT
--
-- DIR holds the rosters roster-1.json .. roster-COUNT.json, sent in
-- turn, and totals.txt: the "totals" objects a right answer may hold, one
-- a line, exactly as the gateway writes them.  done() prints one
-- "bench-push" line per thread: answers that were 200 with one of those
-- totals, and the others.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

function init(args)
    local dir, count = args[1], tonumber(args[2])
    requests = {}
    for i = 1, count do
        local f = assert(io.open(dir .. "/roster-" .. i .. ".json", "rb"))
        requests[i] = wrk.format("POST", nil, nil, f:read("*a"))
        f:close()
    end
    totals = {}
    for line in io.lines(dir .. "/totals.txt") do
        totals[#totals + 1] = line
    end
    -- each thread starts elsewhere in the list
    next_one = id % count
    right = 0
    wrong = 0
end

function request()
    next_one = next_one % #requests + 1
    return requests[next_one]
end

function response(status, headers, body)
    if status == 200 then
        for _, t in ipairs(totals) do
            if body:find(t, 1, true) then
                right = right + 1
                return
            end
        end
    end
    wrong = wrong + 1
end

function done(summary, latency, reqs)
    for _, t in ipairs(threads) do
        io.write(string.format("bench-push thread=%d right=%d wrong=%d\n",
                               t:get("id"), t:get("right"),
                               t:get("wrong")))
    end
end
