// Task 12 · reference.
//
// One session per client connection, on a strand of its own. For each
// request: read the header into a parser whose body is a buffer_body (so
// nothing of the body is read yet), refuse what cannot be forwarded safely,
// rewrite the header in place, connect to the backend, write the header,
// then move the body across a piece at a time through one fixed buffer;
// then the same for the response, the other way. Beast's parser and
// serializer do the framing on each side; the session only hands pieces
// from one to the other, and never reads the next piece before the last
// one has been written. That one rule is the streaming, the bounded memory
// and the backpressure.
#include "proxy.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace task12 {

namespace beast = boost::beast;
namespace http = beast::http;

struct reverse_proxy::state {
  state(net::io_context& io, tcp::endpoint ep, proxy_options o)
      : ioc(io), acceptor(net::make_strand(io)), endpoint(ep), options(o) {}
  net::io_context& ioc;
  tcp::acceptor acceptor;
  tcp::endpoint endpoint;
  proxy_options const options;
};

namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- the header

// The fields that describe one connection rather than the message
// (RFC 9110, section 7.6.1). Each hop has its own; none may be passed on.
constexpr http::field hop_by_hop[] = {
    http::field::connection,          http::field::keep_alive, http::field::proxy_authenticate,
    http::field::proxy_authorization, http::field::te,         http::field::trailer,
    http::field::transfer_encoding,   http::field::upgrade,
};

template <bool isRequest>
void remove_hop_by_hop(http::header<isRequest>& h)
{
  // A sender can make any field hop-by-hop by naming it in Connection, and
  // may send Connection more than once: h[field::connection] would show
  // only the first. Collect every token before erasing anything.
  std::vector<std::string> named;
  auto const [first, last] = h.equal_range(http::field::connection);
  for (auto it = first; it != last; ++it)
    for (auto const token : http::token_list{it->value()}) named.emplace_back(token);
  for (auto const& name : named) h.erase(name);  // erase(name) is case-insensitive
  for (auto const f : hop_by_hop) h.erase(f);
}

// "/api/x?q=1" -> "/x?q=1", "/api" -> "/", "/api?x" -> "/?x"; nothing for
// a target outside the prefix, "/apix" included: a prefix of a path is
// whole segments, not characters.
std::optional<std::string> backend_target(std::string_view target)
{
  if (target.substr(0, api_prefix.size()) != api_prefix) return std::nullopt;
  auto const rest = target.substr(api_prefix.size());
  if (rest.empty()) return "/";
  if (rest.front() == '?') return "/" + std::string(rest);
  if (rest.front() != '/') return std::nullopt;
  return std::string(rest);
}

// Whether the request's body ends where the proxy and the backend will both
// think it ends. Beast's parser already refuses Transfer-Encoding: chunked
// together with Content-Length; it accepts a Transfer-Encoding that does not
// end in chunked (with or without a Content-Length), which leaves the body's
// length to guesswork. A proxy that guesses differently from its backend is
// how requests are smuggled past it (RFC 9112, section 6.3).
bool framing_is_unambiguous(http::request_header<> const& req)
{
  auto const codings = req.count(http::field::transfer_encoding);
  if (codings == 0) return true;
  if (req.count(http::field::content_length) != 0) return false;
  return codings == 1 && beast::iequals(req[http::field::transfer_encoding], "chunked");
}

std::string address_of(tcp::endpoint const& ep)
{
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// The request as the backend gets it. `length` and `chunked` are what the
// client's framing said, read from the parser before the framing fields go.
void rewrite_request(http::request<http::buffer_body>& req, std::string const& target, std::string const& client_ip,
                     tcp::endpoint const& backend, boost::optional<std::uint64_t> length, bool chunked)
{
  std::string const client_host(req[http::field::host]);
  remove_hop_by_hop(req);
  req.version(11);
  req.target(target);
  req.set(http::field::host, address_of(backend));

  // X-Forwarded-For is a list of every hop so far: keep what the client
  // said (all of its fields, as one list) and add the client itself.
  std::string forwarded_for;
  auto const [first, last] = req.equal_range("X-Forwarded-For");
  for (auto it = first; it != last; ++it) {
    if (!forwarded_for.empty()) forwarded_for += ", ";
    forwarded_for.append(it->value());
  }
  if (!forwarded_for.empty()) forwarded_for += ", ";
  forwarded_for += client_ip;
  req.set("X-Forwarded-For", forwarded_for);
  // The other two describe this hop only: ours replace the client's.
  if (client_host.empty()) req.erase("X-Forwarded-Host");
  else req.set("X-Forwarded-Host", client_host);
  req.set("X-Forwarded-Proto", "http");

  // Framing is ours now: the same length, or chunks of our own.
  if (length) req.content_length(*length);
  else if (chunked) req.chunked(true);
  // One backend connection per request: say so.
  req.keep_alive(false);
}

// The response as the client gets it. `length` as the backend framed it;
// `has_body` false when the header is the whole response (HEAD, 204, 304).
void rewrite_response(http::response<http::buffer_body>& res, boost::optional<std::uint64_t> length, bool has_body,
                      unsigned client_version, bool keep_alive)
{
  remove_hop_by_hop(res);
  res.set("X-Proxy", x_proxy_value);
  if (has_body && !length) {
    // The backend sent chunks, or a body that ends when it closes. Chunks
    // of our own keep the client's connection usable; an HTTP/1.0 client
    // cannot read them, so its body ends when we close.
    if (client_version >= 11) res.chunked(true);
    else keep_alive = false;
  }
  res.keep_alive(keep_alive);
}

// A header goes out in one write and the first piece of its body in the
// next. With Nagle's algorithm on, the kernel holds that second small write
// until the first is acknowledged, and the peer, waiting for more, delays
// its acknowledgement: 40 ms lost on every response. Go's net package turns
// Nagle off on every TCP connection; Asio leaves it to you.
void no_delay(beast::tcp_stream& stream)
{
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
}

bool is_malformed(beast::error_code ec)
{
  // Everything Beast's HTTP parser reports, except the peer going away.
  return ec.category() == make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// ---------------------------------------------------------------- a connection

// Which side a body relay stopped at.
enum class relay_end { complete, reading_failed, writing_failed };

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<reverse_proxy::state> proxy)
      : client_(std::move(socket)), proxy_(std::move(proxy)), buffer_(proxy_->options.buffer_size)
  {
    // A read into a flat_buffer asks the socket for as much as the buffer
    // has room for (at least 512 bytes: beast::read_size). The parser
    // empties it after every read, so it would never grow, and a body
    // would cross the proxy 512 bytes per system call. Room for a whole
    // piece, once, makes every read a piece.
    client_buffer_.reserve(buffer_.size());
    backend_buffer_.reserve(buffer_.size());
    no_delay(client_);
    beast::error_code ec;
    auto const peer = client_.socket().remote_endpoint(ec);
    if (!ec) client_ip_ = peer.address().to_string();
  }

  void run()
  {
    net::dispatch(client_.get_executor(), beast::bind_front_handler(&session::read_request_header, shared_from_this()));
  }

private:
  proxy_options const& options() const { return proxy_->options; }

  // ---- the request

  void read_request_header()
  {
    // A parser serves one message. Its body is a buffer_body: the header is
    // read now, the body later, a piece at a time into our buffer. No body
    // limit: a body passing through is never stored, so its size costs
    // nothing here.
    req_parser_.emplace();
    req_parser_->body_limit(boost::none);
    client_.expires_after(options().client_timeout);
    http::async_read_header(client_, client_buffer_, *req_parser_,
                            beast::bind_front_handler(&session::on_request_header, shared_from_this()));
  }

  void on_request_header(beast::error_code ec, std::size_t)
  {
    if (is_malformed(ec)) return refuse("the request is not valid HTTP/1.1");
    if (ec) return close_client();  // the client left, reset, or went quiet
    auto& req = req_parser_->get();
    if (!framing_is_unambiguous(req)) return refuse("the request's body length is ambiguous");

    // What the client said about itself, before the rewrite changes it.
    client_keep_alive_ = req_parser_->keep_alive();
    client_version_ = req.version();
    method_ = req.method();
    auto const target = backend_target(req.target());
    if (!target) return answer(http::status::not_found, "not found: only /api is proxied");

    rewrite_request(req, *target, client_ip_, options().backend, req_parser_->content_length(),
                    req_parser_->chunked());
    connect_backend();
  }

  void connect_backend()
  {
    // A connection per request: no pool to keep, and no stale connection
    // to retry (task 05 is where a pool is the lesson).
    backend_.emplace(client_.get_executor());
    backend_->expires_after(options().backend_timeout);
    backend_->async_connect(options().backend,
                            beast::bind_front_handler(&session::on_backend_connected, shared_from_this()));
  }

  void on_backend_connected(beast::error_code ec)
  {
    if (ec) return backend_failed(ec);
    no_delay(*backend_);
    req_serializer_.emplace(req_parser_->get());
    backend_->expires_after(options().backend_timeout);
    http::async_write_header(*backend_, *req_serializer_,
                             beast::bind_front_handler(&session::on_request_header_sent, shared_from_this()));
  }

  void on_request_header_sent(beast::error_code ec, std::size_t)
  {
    if (ec) return backend_failed(ec);
    relay_body(*req_parser_, client_, client_buffer_, options().client_timeout, *req_serializer_, *backend_,
               options().backend_timeout, [self = shared_from_this()](relay_end end, beast::error_code ec) {
                 self->on_request_sent(end, ec);
               });
  }

  void on_request_sent(relay_end end, beast::error_code ec)
  {
    if (end == relay_end::writing_failed) return backend_failed(ec);
    if (end == relay_end::reading_failed) return close_both();  // the client gave up mid-body
    read_response_header();
  }

  // ---- the response

  void read_response_header()
  {
    res_parser_.emplace();
    res_parser_->body_limit(boost::none);
    // The response to a HEAD has a header that describes a body it does not carry.
    res_parser_->skip(method_ == http::verb::head);
    backend_->expires_after(options().backend_timeout);
    http::async_read_header(*backend_, backend_buffer_, *res_parser_,
                            beast::bind_front_handler(&session::on_response_header, shared_from_this()));
  }

  void on_response_header(beast::error_code ec, std::size_t)
  {
    if (ec) return backend_failed(ec);
    auto& res = res_parser_->get();
    // An interim response (100 Continue) is the backend talking to a hop,
    // not an answer: the real one follows.
    if (res.result_int() / 100 == 1 && res.result() != http::status::switching_protocols)
      return read_response_header();

    bool const has_body = !res_parser_->is_done();
    rewrite_response(res, res_parser_->content_length(), has_body, client_version_, keep_client());
    res_serializer_.emplace(res);
    client_.expires_after(options().client_timeout);
    http::async_write_header(client_, *res_serializer_,
                             beast::bind_front_handler(&session::on_response_header_sent, shared_from_this()));
  }

  void on_response_header_sent(beast::error_code ec, std::size_t)
  {
    if (ec) return close_both();
    relay_body(*res_parser_, *backend_, backend_buffer_, options().backend_timeout, *res_serializer_, client_,
               options().client_timeout, [self = shared_from_this()](relay_end end, beast::error_code ec) {
                 self->on_response_sent(end, ec);
               });
  }

  void on_response_sent(relay_end end, beast::error_code)
  {
    // The backend failed mid-body. The client has a header that promised a
    // body, and the only honest thing left to say is to stop: closing
    // without the last chunk (or short of the Content-Length) tells the
    // client the response is incomplete. Finishing it politely would lie.
    if (end == relay_end::reading_failed) return close_both();
    if (end == relay_end::writing_failed) return close_both();
    close_backend();
    if (res_serializer_->get().keep_alive()) return read_request_header();
    close_client();
  }

  // ---- the body relay, both directions

  // Moves one body from `parser` (reading `from`) to `serializer` (writing
  // `to`) through buffer_, one piece at a time: read a piece, write it,
  // and only then read the next. Calls done(end, error) once.
  template <bool isRequest, class Done>
  void relay_body(http::parser<isRequest, http::buffer_body>& parser, beast::tcp_stream& from,
                  beast::flat_buffer& from_buffer, std::chrono::milliseconds from_timeout,
                  http::serializer<isRequest, http::buffer_body>& serializer, beast::tcp_stream& to,
                  std::chrono::milliseconds to_timeout, Done done)
  {
    auto& body = parser.get().body();
    if (parser.is_done()) {
      // Nothing more to read: data == nullptr with more == false ends the
      // body (for a chunked one, the serializer writes the last chunk).
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      return write_piece(parser, from, from_buffer, from_timeout, serializer, to, to_timeout, std::move(done));
    }
    body.data = buffer_.data();
    body.size = buffer_.size();
    from.expires_after(from_timeout);
    http::async_read_some(
        from, from_buffer, parser,
        [self = shared_from_this(), &parser, &from, &from_buffer, from_timeout, &serializer, &to, to_timeout,
         done = std::move(done)](beast::error_code ec, std::size_t) mutable {
          // need_buffer: our buffer is full, which is a piece ready to go.
          if (ec == http::error::need_buffer) ec = {};
          if (ec) return done(relay_end::reading_failed, ec);
          auto& body = parser.get().body();
          std::size_t const got = self->buffer_.size() - body.size;
          if (got == 0 && !parser.is_done())
            // Only framing was read (a chunk's size line). An empty piece
            // must never reach the serializer: an empty chunk is the last.
            return self->relay_body(parser, from, from_buffer, from_timeout, serializer, to, to_timeout,
                                    std::move(done));
          body.data = got ? self->buffer_.data() : nullptr;
          body.size = got;
          body.more = !parser.is_done();
          self->write_piece(parser, from, from_buffer, from_timeout, serializer, to, to_timeout, std::move(done));
        });
  }

  template <bool isRequest, class Done>
  void write_piece(http::parser<isRequest, http::buffer_body>& parser, beast::tcp_stream& from,
                   beast::flat_buffer& from_buffer, std::chrono::milliseconds from_timeout,
                   http::serializer<isRequest, http::buffer_body>& serializer, beast::tcp_stream& to,
                   std::chrono::milliseconds to_timeout, Done done)
  {
    to.expires_after(to_timeout);
    http::async_write(
        to, serializer,
        [self = shared_from_this(), &parser, &from, &from_buffer, from_timeout, &serializer, &to, to_timeout,
         done = std::move(done)](beast::error_code ec, std::size_t) mutable {
          // need_buffer: the serializer has written the piece and wants the next.
          if (ec == http::error::need_buffer) ec = {};
          if (ec) return done(relay_end::writing_failed, ec);
          if (serializer.is_done()) return done(relay_end::complete, ec);
          self->relay_body(parser, from, from_buffer, from_timeout, serializer, to, to_timeout, std::move(done));
        });
  }

  // ---- answers of our own, and endings

  // Whether the client's connection can carry another request after this
  // one: the client must want it, and the request must have been read to
  // its end (or the rest of its body would be taken for the next request).
  bool keep_client() const { return client_keep_alive_ && req_parser_->is_done(); }

  void backend_failed(beast::error_code ec)
  {
    close_backend();
    if (ec == beast::error::timeout) return answer(http::status::gateway_timeout, "the backend did not answer in time");
    answer(http::status::bad_gateway, "the backend could not be reached or failed");
  }

  // 400, and the connection is finished: whatever follows the request on
  // it cannot be told apart from the request.
  void refuse(std::string_view why)
  {
    client_keep_alive_ = false;
    answer(http::status::bad_request, why);
  }

  void answer(http::status status, std::string_view why)
  {
    own_ = {status, 11};
    own_.set(http::field::content_type, "text/plain");
    own_.set("X-Proxy", x_proxy_value);
    own_.body() = std::string(why) + "\n";
    own_.keep_alive(keep_client());
    own_.prepare_payload();
    client_.expires_after(options().client_timeout);
    http::async_write(client_, own_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close_both();
      if (self->own_.keep_alive()) return self->read_request_header();
      self->close_client();
    });
  }

  void close_backend()
  {
    if (!backend_) return;
    beast::error_code ignored;
    backend_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    backend_->close();
  }

  // A connection that cannot go on. Closed at once: a client that was
  // promised a body learns it will not get the rest.
  void close_both()
  {
    close_backend();
    client_.close();
  }

  // The end of a connection whose last answer went out whole. Stop sending
  // (the client sees the end), then read and discard whatever the client
  // still sends until it closes or a deadline passes, and only then close:
  // closing a socket with unread bytes in it sends a reset, which can wipe
  // our last answer out of the client's receive buffer before it reads it.
  void close_client()
  {
    close_backend();
    beast::error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.expires_after(std::min<std::chrono::milliseconds>(options().client_timeout, 2s));
    drain();
  }

  void drain()
  {
    client_.async_read_some(net::buffer(buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) return self->drain();
      self->client_.close();
    });
  }

  beast::tcp_stream client_;
  beast::flat_buffer client_buffer_;
  std::optional<beast::tcp_stream> backend_;
  beast::flat_buffer backend_buffer_;
  std::shared_ptr<reverse_proxy::state> proxy_;
  std::vector<char> buffer_;  // the one buffer every body passes through
  std::string client_ip_ = "unknown";

  std::optional<http::request_parser<http::buffer_body>> req_parser_;
  std::optional<http::request_serializer<http::buffer_body>> req_serializer_;
  std::optional<http::response_parser<http::buffer_body>> res_parser_;
  std::optional<http::response_serializer<http::buffer_body>> res_serializer_;
  http::response<http::string_body> own_;
  http::verb method_ = http::verb::unknown;
  unsigned client_version_ = 11;
  bool client_keep_alive_ = false;
};

void do_accept(std::shared_ptr<reverse_proxy::state> proxy)
{
  auto& acceptor = proxy->acceptor;
  acceptor.async_accept(net::make_strand(proxy->ioc),
                        [proxy = std::move(proxy)](beast::error_code ec, tcp::socket socket) mutable {
                          if (!ec) std::make_shared<session>(std::move(socket), proxy)->run();
                          if (proxy->acceptor.is_open()) do_accept(std::move(proxy));
                        });
}

} // namespace

reverse_proxy::reverse_proxy(net::io_context& ioc, tcp::endpoint listen_on, proxy_options options)
    : state_(std::make_shared<state>(ioc, listen_on, options))
{
}

reverse_proxy::~reverse_proxy()
{
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

void reverse_proxy::start()
{
  auto& a = state_->acceptor;
  a.open(state_->endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(state_->endpoint);
  a.listen(net::socket_base::max_listen_connections);
  // Port 0 asked for any free port: remember the one we got, now, before
  // the io_context's threads start using the acceptor.
  state_->endpoint = a.local_endpoint();
  do_accept(state_);
}

tcp::endpoint reverse_proxy::local_endpoint() const { return state_->endpoint; }

} // namespace task12
