// Task 04 · reference.
//
// One connection at a time, and one question asked every time a response
// ends: may the next request go out on this connection? Only if the parser
// has seen the whole message (is_done), the message's end was not "the
// server closes the connection" (need_eof), and both sides agreed to keep
// the connection (keep_alive). Anything else, and the connection is closed
// and forgotten: a new one costs a round trip; a dirty one costs a wrong
// answer.
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
using time_point = std::chrono::steady_clock::time_point;

namespace {

// buffer_body: the parser writes the body into whatever buffer we point it
// at, so one parser serves both get (read all) and open (read on demand).
using parser_type = http::response_parser<http::buffer_body>;

// get() keeps the whole body in memory: cap it, as Beast's own
// response_parser does by default. A reader streams, so it has no cap.
constexpr std::uint64_t get_body_limit = 8 * 1024 * 1024;

} // namespace

struct client::impl {
  std::string host;
  unsigned short port;
  std::chrono::milliseconds timeout;

  // Every call blocks its caller anyway, so the I/O runs on a private
  // io_context, driven by the calling thread: asynchronous operations,
  // because tcp_stream's deadlines apply to nothing else (task 02).
  net::io_context ioc;

  // The kept connection and the bytes read from it but not yet parsed.
  // They belong together: leftover bytes of one connection mean nothing on
  // another, so the buffer is emptied whenever the connection goes.
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Starts one asynchronous operation, runs the io_context until it has
  // completed, and returns its error. Every operation of a call shares the
  // call's deadline.
  template <class Initiate>
  beast::error_code run(time_point deadline, Initiate initiate)
  {
    // Beast 1.81's tcp_stream misbehaves when handed a deadline that has
    // already passed; a call whose budget is spent fails here instead.
    if (std::chrono::steady_clock::now() >= deadline) return beast::error::timeout;
    stream->expires_at(deadline);
    beast::error_code result;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  beast::error_code connect(time_point deadline)
  {
    beast::error_code ec;
    auto const address = net::ip::make_address(host, ec);
    if (ec) return ec;
    stream.emplace(ioc);
    buffer.consume(buffer.size());
    ec = run(deadline, [&](auto handler) { stream->async_connect(tcp::endpoint(address, port), handler); });
    if (ec) discard();
    return ec;
  }

  // Closes the connection and forgets it, with whatever was still on it.
  void discard()
  {
    if (!stream) return;
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
    stream.reset();
    buffer.consume(buffer.size());
  }

  // The response has ended (or been given up): keep the connection for the
  // next request only if it is exactly at the start of the next response.
  void finish(parser_type const& parser)
  {
    bool const reusable =
        parser.is_done()          // every byte of this message has been parsed...
        && !parser.need_eof()     // ...and its end was not "until the server closes"...
        && parser.keep_alive()    // ...and neither side said Connection: close (HTTP/1.0: keep-alive was asked for)
        && buffer.size() == 0;    // ...and the server sent nothing past the message's end
    if (!reusable) discard();
  }

  // Sends `request` and reads the response's header into `parser`. A kept
  // connection that fails before a single byte of the response arrives was
  // most likely closed by the server while idle: an idempotent request is
  // then sent once more, on a new connection. Any other failure is final.
  beast::error_code start(http::request<http::string_body>& request, bool idempotent,
                          std::optional<parser_type>& parser, std::optional<std::uint64_t> body_limit,
                          time_point deadline)
  {
    request.set(http::field::host, host + ":" + std::to_string(port));
    request.set(http::field::user_agent, "workbook-task-04");
    request.prepare_payload();
    for (int attempt = 1;; ++attempt) {
      bool const reused = stream.has_value();
      if (!reused)
        if (auto ec = connect(deadline)) return ec;

      parser.emplace();  // a parser is single-use: a fresh one per attempt
      if (body_limit) parser->body_limit(*body_limit);
      else parser->body_limit(boost::none);

      auto ec = run(deadline, [&](auto handler) { http::async_write(*stream, request, handler); });
      if (!ec) ec = run(deadline, [&](auto handler) { http::async_read_header(*stream, buffer, *parser, handler); });
      if (!ec) return {};

      // Whatever happened, this connection is finished.
      bool const stale = reused && !parser->got_some() && ec != beast::error::timeout;
      discard();
      if (stale && idempotent && attempt == 1) continue;
      return ec;
    }
  }

  // Reads the next bytes of the body (at most max) into `out`. Returns with
  // at least one byte, or the body complete, or an error.
  beast::error_code read_some(parser_type& parser, std::string& out, std::size_t max, time_point deadline)
  {
    out.resize(max);
    std::size_t got = 0;
    beast::error_code ec;
    while (got == 0 && !parser.is_done()) {
      parser.get().body().data = out.data();
      parser.get().body().size = max;
      // One read from the socket (or none, if the buffer already holds
      // body bytes), parsed into `out`. need_buffer only means that `out`
      // is full.
      ec = run(deadline, [&](auto handler) { http::async_read_some(*stream, buffer, parser, handler); });
      if (ec == http::error::need_buffer) ec = {};
      got = max - parser.get().body().size;
      if (ec) break;
    }
    out.resize(got);
    return ec;
  }
};

// ---------------------------------------------------------------- body_reader

struct body_reader::state {
  client::impl* owner = nullptr;
  std::optional<parser_type> parser;
  beast::error_code error;
  int status = 0;
  bool finished = false;  // the connection has been kept or closed: nothing left to do

  // Given up before the end: the rest of the body is still on its way, and
  // the next response would begin in the middle of it. Reading it all to
  // make the connection clean could take as long as the server likes (it
  // may be endless), so the connection is closed instead.
  ~state()
  {
    if (!finished && owner) owner->discard();
  }
};

body_reader::body_reader(std::unique_ptr<state> s) : state_(std::move(s)) {}
body_reader::body_reader(body_reader&&) noexcept = default;
body_reader& body_reader::operator=(body_reader&&) noexcept = default;  // the old state's destructor gives up
body_reader::~body_reader() = default;

int body_reader::status() const { return state_ ? state_->status : 0; }
boost::system::error_code body_reader::error() const { return state_ ? state_->error : boost::system::error_code{}; }
bool body_reader::done() const { return state_ && !state_->error && state_->finished; }

std::string body_reader::read_some(std::size_t max)
{
  std::string piece;
  if (!state_ || state_->finished || state_->error || max == 0) return piece;
  auto& s = *state_;
  s.error = s.owner->read_some(*s.parser, piece, max, std::chrono::steady_clock::now() + s.owner->timeout);
  if (s.error) {
    s.owner->discard();
    s.finished = true;
    piece.clear();
  } else if (s.parser->is_done()) {
    // The last byte is in: decide now, not when the reader is destroyed,
    // so a reader kept around after reading does not hold the connection.
    s.owner->finish(*s.parser);
    s.finished = true;
  }
  return piece;
}

// ---------------------------------------------------------------- client

client::client(std::string host, unsigned short port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>())
{
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

client::~client()
{
  impl_->discard();
}

namespace {

// The request's header has arrived (or failed) in `s`; wraps it as a reader.
body_reader opened(client::impl& owner, std::unique_ptr<body_reader::state> s)
{
  s->owner = &owner;
  if (s->error) {
    s->finished = true;  // start() has already closed the connection
  } else {
    s->status = static_cast<int>(s->parser->get().result_int());
    if (s->parser->is_done()) {  // no body at all (204, 304, Content-Length: 0)
      owner.finish(*s->parser);
      s->finished = true;
    }
  }
  return body_reader(std::move(s));
}

// Sends `request` and reads the whole response under one deadline.
response exchange(client::impl& owner, http::request<http::string_body> request, bool idempotent)
{
  auto const deadline = std::chrono::steady_clock::now() + owner.timeout;
  response result;
  std::optional<parser_type> parser;
  if (auto ec = owner.start(request, idempotent, parser, get_body_limit, deadline)) {
    result.error = ec;
    return result;
  }
  std::string piece;
  while (!parser->is_done()) {
    if (auto ec = owner.read_some(*parser, piece, 64 * 1024, deadline)) {
      owner.discard();
      result.error = ec;
      result.body.clear();
      return result;
    }
    result.body += piece;
  }
  owner.finish(*parser);
  result.status = static_cast<int>(parser->get().result_int());
  return result;
}

} // namespace

response client::get(std::string const& target)
{
  return exchange(*impl_, http::request<http::string_body>{http::verb::get, target, 11}, true);
}

response client::post(std::string const& target, std::string body)
{
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::content_type, "text/plain");
  request.body() = std::move(body);
  return exchange(*impl_, std::move(request), false);
}

body_reader client::open(std::string const& target)
{
  auto s = std::make_unique<body_reader::state>();
  http::request<http::string_body> request{http::verb::get, target, 11};
  s->error = impl_->start(request, true, s->parser, std::nullopt,
                          std::chrono::steady_clock::now() + impl_->timeout);
  return opened(*impl_, std::move(s));
}

} // namespace task04
