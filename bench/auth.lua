-- wrk script of bench/auth.sh: each request presents the next of the
-- tokens in the file given after "--" as a Bearer token to /v1/auth.
local tokens = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  -- Threads start at different places in the list.
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/v1/auth", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["X-Original-Method"] = "GET",
    ["X-Original-URI"] = "/monitors/1",
  })
end
