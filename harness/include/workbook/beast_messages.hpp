// Beast messages in tests: convert between the harness's plain messages
// (workbook::request / response, what test_client and test_server speak)
// and Beast's, and serve code that takes and returns Beast messages from a
// real test_server, so that every check is an HTTP exchange the grader can
// show when it fails.
#pragma once

#include <workbook/http.hpp>
#include <workbook/test_server.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <utility>

namespace workbook {

using beast_request = boost::beast::http::request<boost::beast::http::string_body>;
using beast_response = boost::beast::http::response<boost::beast::http::string_body>;

// The request as a Beast server would have parsed it off the wire: HTTP/1.1,
// the method kept by name (methods Beast has no verb for included), the
// fields in order.
inline beast_request to_beast(request const& in)
{
  beast_request req;
  req.method_string(in.method);
  req.target(in.target);
  req.version(11);
  for (auto const& [name, value] : in.headers) req.insert(name, value);
  req.body() = in.body;
  return req;
}

// Status, fields and body of a Beast response. (test_server recomputes
// Content-Length and Connection when it writes it.)
inline response from_beast(beast_response const& in)
{
  response out;
  out.status = static_cast<int>(in.result_int());
  out.reason = std::string(in.reason());
  for (auto const& field : in)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = in.body();
  return out;
}

// A test_server (127.0.0.1, port 0, keep-alive) whose every request goes
// through h, called with a beast_request lvalue: h may take it by reference
// or by const reference, and returns a beast_response. Whatever h captures
// must outlive the server. Exceptions are test_server's business: a 500.
template <class Handler>
test_server serving_beast(Handler h)
{
  return test_server::serving([h = std::move(h)](request const& in) mutable {
    beast_request req = to_beast(in);
    return from_beast(h(req));
  });
}

} // namespace workbook
