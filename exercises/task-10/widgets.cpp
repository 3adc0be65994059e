// Task 10 · your JSON API and the server in front of it. Start with
// README.md; the steps there match the TODOs here. Run `grader task-10`
// after each step.
//
// As it stands the API answers 501 to everything and the server never
// listens: it compiles, runs, and fails every criterion.
#include "widgets.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <nlohmann/json.hpp>

namespace task10 {

namespace beast = boost::beast;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- the API

struct widget_api::state {
  // TODO (step 4): the widgets stored so far, the next id, and whatever
  // keeps two threads calling handle() at once from corrupting them.
};

widget_api::widget_api() : state_(std::make_unique<state>()) {}
widget_api::~widget_api() = default;

response widget_api::handle(request const& req)
{
  // TODO (step 2): route POST /widgets, GET /widgets/N, 404 and 405.
  // TODO (step 3): decode the body, checking in the order widgets.hpp gives:
  // one JSON value and nothing after it, an object, known fields only, then
  // each field's type and value. Which exceptions can nlohmann::json throw
  // besides parse_error?
  // TODO (step 4): store the widget and answer 201 {"id": N}.
  response res{http::status::not_implemented, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.keep_alive(req.keep_alive());
  res.body() = "widget_api: not written yet\n";
  res.prepare_payload();
  return res;
}

// ---------------------------------------------------------------- the server

struct widget_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  widget_api& api;
  // TODO (step 5): the acceptor, at least.
};

// TODO (step 5): a session per connection, as in task 01, that reads each
// request with an http::request_parser<http::string_body> whose
// body_limit() is max_body_bytes: the header first (http::async_read_header),
// then, if the request may have its body, the body (http::async_read with the
// same parser), then api.handle().
// TODO (step 6): a body over the limit is a 413 that closes the connection.
// When does the parser tell you, for a Content-Length and for a chunked
// body? And what happens to the 413 if you close the socket while the client
// is still sending?

widget_server::widget_server(net::io_context& ioc, tcp::endpoint listen_on, widget_api& api)
    : state_(std::make_shared<state>(state{ioc, listen_on, api}))
{
}

widget_server::~widget_server() = default;

void widget_server::start()
{
  // TODO (step 5): open, bind, listen, and accept in a loop.
}

tcp::endpoint widget_server::local_endpoint() const
{
  // TODO (step 5): once listening, the port the operating system chose.
  return state_->endpoint;
}

} // namespace task10
