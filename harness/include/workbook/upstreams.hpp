// Scripted upstreams that misbehave on purpose. Each returns a script for
// test_server::scripted().
#pragma once

#include <workbook/test_server.hpp>

#include <chrono>
#include <string>

namespace workbook::upstreams {

// Reads the request and never answers (until the client leaves or the server stops).
test_server::script silent();

// Answers 200 `body` after `delay`.
test_server::script slow(std::chrono::milliseconds delay, std::string body = "slow\n");

// Sends a 200 response with `body` one byte at a time, `interval` apart:
// progress keeps arriving, so only a deadline for the whole exchange stops it.
test_server::script dribbling(std::string body, std::chrono::milliseconds interval);

} // namespace workbook::upstreams
