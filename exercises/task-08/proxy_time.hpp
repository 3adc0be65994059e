// Task 08 · the contract between your handler, the tests (the acceptance
// tests and yours) and the reference. Do not change this file.
#pragma once

#include "upstream_client.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <utility>

namespace task08 {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// A handler that tells the time by asking another service for it.
//
// For each request it sends `GET <upstream>/now` with its client. The
// upstream answers with a Unix time as text, such as "1700000000\n". Then:
//
//   the status is 2xx and the body, without the spaces, tabs, CRs and LFs
//   around it, is a decimal integer: digits, optionally after a '-', and
//   nothing else, within the range of std::int64_t
//       -> 200, Content-Type: text/plain, body "now: 1700000000"
//          (the integer as the upstream wrote it, and no newline)
//
//   the upstream could not be reached (refused, reset, no answer within
//   the client's timeout), or it answered with a status that is not 2xx,
//   or its body is not such an integer ("soon", "", "12.5", "42 s")
//       -> 502, Content-Type: text/plain, a body that says which
//
// Every response has the request's HTTP version and keep-alive.
//
// Nothing global: a proxy_time uses the upstream and the client it was built
// with, and nothing else. Several, built with different upstreams, may live
// side by side, and operator() may run on several threads at once.
class proxy_time {
public:
  // upstream: the base URL of the time service, without a path and without
  // a trailing slash, as workbook::test_server::url() gives it:
  // "http://127.0.0.1:41234".
  proxy_time(std::string upstream, upstream_client client)
      : upstream_(std::move(upstream)), client_(client) {}

  // Yours to write, in proxy_time.cpp. Blocks until the upstream has
  // answered or the client has given up.
  response operator()(request const& req) const;

private:
  std::string upstream_;
  upstream_client client_;
};

} // namespace task08
