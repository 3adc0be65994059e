// What the harness's scripted servers (test_server, tls_test_server) send
// back: the response a test's handler returns, made into the reply Beast
// writes and recorded in the connection's transcript. Internal to the
// harness: tests see only the servers.
#pragma once

#include <workbook/http.hpp>
#include <workbook/transcript.hpp>

#include <boost/beast/http.hpp>

#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace workbook::detail {

// Calls the handler and fills `reply` from what it returns. A handler under
// test may throw anything (task 07's recover() is tested with `throw 42`):
// that is a 500 naming what was thrown, never std::terminate. A body on a
// status that cannot carry one (1xx, 204, 304) Beast refuses to frame: that
// is a 500 saying so (a test that wants those bytes on the wire scripts them
// raw). `server` names the server in those bodies.
template <class Handler>
void make_reply(boost::beast::http::response<boost::beast::http::string_body>& reply, bool keep_alive,
                std::string const& server, transcript::server_side& log, Handler&& handler)
{
  namespace http = boost::beast::http;
  response res;
  try {
    res = std::forward<Handler>(handler)();
  } catch (std::exception const& e) {
    res = response{500, "", {}, server + ": the handler threw: " + e.what() + "\n", ""};
  } catch (...) {
    res = response{500, "", {}, server + ": the handler threw something that is not a std::exception\n", ""};
  }
  reply = {};
  reply.version(11);
  reply.result(static_cast<unsigned>(res.status ? res.status : 200));
  for (auto const& [k, v] : res.headers) reply.insert(k, v);
  reply.body() = std::move(res.body);
  reply.keep_alive(keep_alive);
  try {
    reply.prepare_payload();
  } catch (std::invalid_argument const&) {
    reply.result(http::status::internal_server_error);
    reply.body() = server + ": the handler gave a body to a status that cannot have one\n";
    reply.prepare_payload();
  }
  std::ostringstream text;
  text << reply;
  log.record(transcript::direction::sent, text.str());
}

} // namespace workbook::detail
