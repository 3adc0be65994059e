// Task 04 · your client. Start with README.md; the steps there match the
// TODOs here. Run `grader task-04` after each step.
//
// The question this task is about, asked each time a response ends: may the
// next request go out on this connection? Write the answer in one place,
// and make every path (a whole body read, a body given up, an error) go
// through it.
#include "client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace task04 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// TODO (step 2): what does the client keep between requests? At least the
// connection (a beast::tcp_stream, or nothing yet) and the flat_buffer that
// holds bytes read from it but not yet parsed. Why must the two always go
// together? And what runs the asynchronous operations (task 02)?
struct client::impl {
  std::string host;
  unsigned short port = 0;
  std::chrono::milliseconds timeout{};
};

// TODO (step 3): what does a reader keep? It needs the client's connection,
// a parser that has read the header and is partway through the body, and
// whatever tells it, when it goes away, whether the body was read to the end.
struct body_reader::state {
};

body_reader::body_reader(std::unique_ptr<state> s) : state_(std::move(s)) {}
body_reader::body_reader(body_reader&&) noexcept = default;
// Careful: assigning over a reader destroys the state it held. If giving up
// on a body happens in ~body_reader only, it does not happen here.
body_reader& body_reader::operator=(body_reader&&) noexcept = default;

body_reader::~body_reader()
{
  // TODO (step 4): a reader destroyed before its body was read to the end.
  // The rest of the body is still on the connection. What can you do with
  // the connection now, and how long could the alternative take?
}

int body_reader::status() const
{
  return 0;  // TODO (step 3)
}

boost::system::error_code body_reader::error() const
{
  return {};  // TODO (step 3)
}

std::string body_reader::read_some(std::size_t max)
{
  // TODO (step 3): read the next piece of the body, at most `max` bytes.
  // Beast's http::buffer_body lets the parser write the body straight into
  // a buffer you provide (README, Source trail). When the last byte is in,
  // decide the connection's fate (step 4).
  (void)max;
  return {};
}

bool body_reader::done() const
{
  return false;  // TODO (step 3)
}

client::client(std::string host, unsigned short port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>())
{
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

client::~client() = default;  // TODO: close the kept connection, if there is one

response client::get(std::string const& target)
{
  // TODO (step 2): send GET `target` on the kept connection, or on a new one
  // if there is none, and read the whole response.
  // TODO (step 4): when it has ended, may the connection be kept?
  // TODO (step 5): the kept connection failed before any byte of the
  // response came back: try once more, on a new connection.
  (void)target;
  return {};
}

response client::post(std::string const& target, std::string body)
{
  // TODO (step 5): like get, but never sent twice. Why?
  (void)target;
  (void)body;
  return {};
}

body_reader client::open(std::string const& target)
{
  // TODO (step 3): like get, but stop once the header has arrived, and
  // hand the rest to a reader.
  (void)target;
  return body_reader(std::make_unique<body_reader::state>());
}

} // namespace task04
