// Task 02 · the contract between your client, the tests and the reference.
// Do not change this file: the tests are compiled against it.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>

namespace task02 {

struct fetch_result {
  // Empty on success. When the deadline passed it compares equal to
  // boost::beast::error::timeout; any other failure (connection refused,
  // reset, a malformed response) is reported as it happened.
  boost::system::error_code error;

  // The response's status code (200, 404, ...), also when it is not 2xx: a
  // 404 is an answer, not an error. 0 when no complete response arrived.
  int status = 0;

  // The whole response body; empty when `error` is set.
  std::string body;
};

// Sends `GET target` over HTTP/1.1 to host:port and reads the whole response.
//
//   host     an IP literal, "127.0.0.1" or "::1": fetch resolves no names
//   target   the request target, "/" or "/path?query"
//   timeout  ONE deadline, counted from the call, for connecting, writing
//            the request and reading the entire response
//
// Blocks the calling thread until the response is read, the deadline passes
// or something fails. Reports failures in `error`; it does not throw for them.
fetch_result fetch(std::string const& host,
                   unsigned short port,
                   std::string const& target,
                   std::chrono::milliseconds timeout);

} // namespace task02
