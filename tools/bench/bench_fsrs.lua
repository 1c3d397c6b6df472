-- tools/bench/bench_fsrs.lua — wrk script of bench_fsrs.sh: requests as many learners.
--
-- BENCH_FSRS_FILE holds lines "<token> <card id>" (the bench learners and their cards);
-- BENCH_FSRS_MODE is "due" (GET /api/v1/reviews/due?limit=20 as a random learner) or "review"
-- (POST /api/v1/reviews of a random card of its learner with a random rating 1..4) or "me"
-- (GET /api/v1/me as a random learner: the cost of any authenticated request, for comparison).
local lines = {}
local mode = os.getenv("BENCH_FSRS_MODE") or "due"

init = function(args)
    for l in io.lines(os.getenv("BENCH_FSRS_FILE")) do
        local tok, card = l:match("^(%S+) (%S+)$")
        if tok then lines[#lines + 1] = { tok, card } end
    end
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

request = function()
    local l = lines[math.random(#lines)]
    if mode == "me" then
        return wrk.format("GET", "/api/v1/me", { ["Authorization"] = "Bearer " .. l[1] })
    end
    if mode == "due" then
        return wrk.format("GET", "/api/v1/reviews/due?limit=20",
                          { ["Authorization"] = "Bearer " .. l[1] })
    end
    local body = '{"card_id":"' .. l[2] .. '","rating":' .. math.random(4) .. ',"duration_ms":1500}'
    return wrk.format("POST", "/api/v1/reviews",
                      { ["Authorization"] = "Bearer " .. l[1],
                        ["Content-Type"] = "application/json" }, body)
end
