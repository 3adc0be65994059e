// Task 10 · your JSON API and the server in front of it. Start with
// README.md; the steps there match the TODOs here. Run `grader task-10`
// after each step.
//
// As it stands the decoder swallows every byte, the API answers 501 to
// everything and the server never listens: it compiles, runs, and fails
// every criterion.
#include "widgets.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/stream_parser.hpp>

namespace task10 {

namespace beast = boost::beast;
namespace json = boost::json;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- the body

struct body_decoder::state {
  // TODO (step 3): a json::stream_parser, and what you need to say where
  // it stopped counted from the body's first byte, not from the start of
  // the piece it stopped in.
};

body_decoder::body_decoder() : state_(std::make_unique<state>()) {}
body_decoder::~body_decoder() = default;
body_decoder::body_decoder(body_decoder&&) noexcept = default;
body_decoder& body_decoder::operator=(body_decoder&&) noexcept = default;

bool body_decoder::write(std::string_view piece)
{
  // TODO (step 3): write the piece to the parser. Which of its write
  // functions also refuses what comes after the value? When it fails,
  // remember why and where, and say no to this piece and every later one.
  (void)piece;
  return true;
}

// ---------------------------------------------------------------- the API

struct widget_api::state {
  // TODO (step 5): the widgets stored so far, the next id, and whatever
  // keeps two threads calling handle() at once from corrupting them.
};

widget_api::widget_api() : state_(std::make_unique<state>()) {}
widget_api::~widget_api() = default;

response widget_api::handle(request_header const& req, body_decoder& body)
{
  // TODO (step 2): route POST /widgets, GET /widgets/N, 404 and 405.
  // TODO (step 4): finish what `body` began (the body may have ended too
  // soon), then check in the order widgets.hpp gives: an object, known
  // fields only, then each field's type and value.
  // TODO (step 5): store the widget and answer 201 {"id": N}.
  (void)body;
  response res{http::status::not_implemented, req.version()};
  res.set(http::field::content_type, "text/plain");
  res.body() = "widget_api: not written yet\n";
  res.prepare_payload();
  return res;
}

// ---------------------------------------------------------------- the server

struct widget_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  widget_api& api;
  // TODO (step 6): the acceptor, at least.
};

// TODO (step 6): a Beast body type whose reader writes each buffer it is
// given to a body_decoder (string_body's reader appends them to a string
// instead), and a session per connection, as in task 01, that reads each
// request with a fresh http::request_parser of that body whose
// body_limit() is max_body_bytes: the header first (http::async_read_header),
// then the body (http::async_read with the same parser), then api.handle().
// TODO (step 7): the answers that cannot wait for the whole body: a 413 for
// a body over the limit (when does the parser tell you, for a
// Content-Length and for a chunked body?) and handle()'s 400 once the
// decoder has refused a piece. Both close the connection: what happens to
// the answer, and to a client still sending, if you close the socket at
// once?

widget_server::widget_server(net::io_context& ioc, tcp::endpoint listen_on, widget_api& api)
    : state_(std::make_shared<state>(state{ioc, listen_on, api}))
{
}

widget_server::~widget_server() = default;

void widget_server::start()
{
  // TODO (step 6): open, bind, listen, and accept in a loop.
}

tcp::endpoint widget_server::local_endpoint() const
{
  // TODO (step 6): once listening, the port the operating system chose.
  return state_->endpoint;
}

} // namespace task10
