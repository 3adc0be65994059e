-- Each of wrk's connections waits 1 to 3 s (uniformly) before each request:
-- 10,000 connections then ask about 5,000 requests a second, and the first
-- requests are spread over two seconds instead of arriving with the connect
-- storm. wrk measures a request's latency from its write, not from the delay.
function delay()
  return math.random(1000, 3000)
end
