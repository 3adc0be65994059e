// Task 04 · test helpers. The client blocks, and a wrong one may block for
// good, so every use of it runs on a thread of its own and the test waits a
// bounded time (workbook::call_bounded). What the tests believe about
// connections comes from the server's counters, never from the client.
#pragma once

#include "client.hpp"

#include <workbook/bounded_call.hpp>
#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

namespace task04_test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// The client's own deadline in these tests: short, so a client that waits
// for an answer that will never come fails in seconds.
inline constexpr milliseconds client_timeout = 1500ms;

// How long a test waits for its client before it stops the server.
inline constexpr milliseconds patience = 5s;

// The client under test, for `server`. Held by a shared_ptr so that a call
// that never returns can keep it alive on its detached thread.
inline std::shared_ptr<task04::client> client_for(workbook::test_server const& server)
{
  return std::make_shared<task04::client>("127.0.0.1", server.port(), client_timeout);
}

inline std::string describe(boost::system::error_code const& ec)
{
  if (!ec) return "no error";
  std::ostringstream s;
  s << "\"" << ec.message() << "\" (" << ec.category().name() << " " << ec.value() << ")";
  return s.str();
}

inline std::string describe(task04::response const& r)
{
  std::ostringstream s;
  s << "status " << r.status << ", error " << describe(r.error) << ", body ";
  if (r.body.size() <= 80) s << "\"" << r.body << "\"";
  else s << r.body.size() << " bytes, starting \"" << r.body.substr(0, 40) << "\"";
  return s.str();
}

// Runs f(client) on a thread of its own and returns what it returned. If it
// has not returned within `patience`, the test stops the server (which ends
// any blocking read) and fails. f must capture by value: if even stopping
// the server does not end the call, it is left running on a detached thread.
template <class F>
auto drive(std::shared_ptr<task04::client> client, workbook::test_server& server, F f)
{
  auto outcome = workbook::call_bounded([client, f]() mutable { return f(*client); }, patience,
                                        [&server] { server.stop(); });
  if (outcome.overran)
    FAIL("the client was still busy " << patience.count()
         << " ms after the test started it (its timeout is " << client_timeout.count()
         << " ms), so the test stopped the server"
         << (outcome.returned_after_rescue ? "; only then did the client return."
                                           : ", and even that did not end the call.")
         << " Something waited without a deadline: a blocking read on a connection the client "
            "should have given up, or a retry that never stops?");
  INFO("the client threw: " << outcome.exception);
  REQUIRE(outcome.exception.empty());
  REQUIRE(outcome.value.has_value());
  return std::move(*outcome.value);
}

// The target of a raw request, as a scripted peer reads it: "GET /a HTTP/1.1" -> "/a".
inline std::string target_of(std::string const& request)
{
  auto const first = request.find(' ');
  if (first == std::string::npos) return {};
  auto const second = request.find(' ', first + 1);
  return request.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

inline std::string method_of(std::string const& request)
{
  return request.substr(0, request.find(' '));
}

} // namespace task04_test
