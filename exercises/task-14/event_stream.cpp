// Task 14 · your server of server-sent events. Start with README.md; the
// steps there match the TODOs here. Run `grader task-14` after each step.
//
// As it stands format_event() writes nothing and the server never listens:
// it compiles, runs, and fails every criterion.
#include "event_stream.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>

namespace task14 {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- the wire format

std::string format_event(std::uint64_t id, std::string_view data)
{
  // TODO (step 1): the id line, one "data: " line per line of `data`, and
  // the blank line. How many line breaks does the standard's parser know,
  // and what does it make of a "\r" that you leave inside a data line?
  (void)id;
  (void)data;
  return {};
}

// ---------------------------------------------------------------- the server

struct event_server::state {
  net::io_context& ioc;
  tcp::endpoint endpoint;
  stream_options options;
  // TODO (step 2): the acceptor, at least.
  // TODO (step 5): the count open_streams() reads, safe to read from any
  // thread while the io_context's threads change it.
};

// TODO (step 2): a session per connection, on a strand of its own: read a
// request under request_timeout, answer GET / with the page and anything
// but GET /events with a 404, and keep the connection alive as asked.
//
// TODO (step 3): GET /events: the head of a response that never ends. A
// response<empty_body> with chunked(true), its fields, a serializer, and
// http::async_write_header. Where do the response and the serializer live
// while the write is in flight?
// TODO (step 4): the events: one http::make_chunk per event, written when
// it is due, one tick apart, the ids counted from Last-Event-ID. What does
// the buffer you hand make_chunk point into, and how long must it live?
// TODO (step 5): the client's departure: what tells you, between two
// events, that the client has gone? Free the session then, and count it
// out only when it is really gone.
// TODO (step 6): the deadlines. Which ones does a stream inherit from the
// request and its head, and which does each write need?
// TODO (step 7): the heartbeat, the retry line, and close_after with the
// last chunk.

event_server::event_server(net::io_context& ioc, tcp::endpoint listen_on, stream_options options)
    : state_(std::make_shared<state>(state{ioc, listen_on, std::move(options)}))
{
}

event_server::~event_server() = default;

void event_server::start()
{
  // TODO (step 2): open, bind, listen, and accept in a loop.
}

tcp::endpoint event_server::local_endpoint() const
{
  // TODO (step 2): once listening, the port the operating system chose.
  return state_->endpoint;
}

std::size_t event_server::open_streams() const
{
  // TODO (step 5): how many streams exist now.
  return 0;
}

} // namespace task14
