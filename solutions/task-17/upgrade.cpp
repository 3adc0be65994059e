// Task 17 · reference.
//
// A connection starts as HTTP and may end as something else. The HTTP
// session reads requests through a beast::tcp_stream, with Beast's deadlines,
// and answers them; when a request asks for the echo protocol it writes the
// 101 by hand and then hands over the two things the echo needs: the socket,
// released from the tcp_stream, and the flat_buffer, which may already hold
// the client's first lines. From then on the echo session owns the
// connection: its reads and writes, its one timer, its close. Nothing of the
// HTTP session is left to touch the socket.
//
//   http_session   read a request (request_timeout), route it, answer it
//                  (write_timeout), keep alive; or switch protocols:
//   echo_session   lines in, uppercased lines out, each step under
//                  echo_timeout, on a socket and a timer of its own;
//   ws_session     the same over a real WebSocket (GET /ws).
#include "upgrade.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace task17 {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct upgrade_server::state {
  state(net::io_context& ioc, tcp::endpoint ep, upgrade_options o)
      : ioc(ioc), acceptor(net::make_strand(ioc)), endpoint(ep), options(o)
  {
  }

  net::io_context& ioc;
  tcp::acceptor acceptor;
  tcp::endpoint endpoint;
  upgrade_options const options;  // read-only once constructed: every strand may read it
  std::atomic<std::size_t> echo_connections{0};
};

namespace {

// One echo connection in echo_connections(): counted for as long as its
// ticket exists. The HTTP session takes one when it decides to upgrade and
// hands it to the echo session with the socket; whichever of the two is
// destroyed last with it counts the connection out.
class echo_ticket {
public:
  explicit echo_ticket(std::shared_ptr<upgrade_server::state> server) : server_(std::move(server))
  {
    ++server_->echo_connections;
  }
  ~echo_ticket()
  {
    if (server_) --server_->echo_connections;
  }
  echo_ticket(echo_ticket&&) noexcept = default;
  echo_ticket& operator=(echo_ticket&&) = delete;
  echo_ticket(echo_ticket const&) = delete;
  echo_ticket& operator=(echo_ticket const&) = delete;

  upgrade_server::state const& server() const { return *server_; }

private:
  std::shared_ptr<upgrade_server::state> server_;
};

// The echo protocol's one transformation: ASCII letters only. A byte of
// UTF-8 is >= 0x80 and is not a letter here; neither is anything std::toupper
// might think is one in some locale.
void uppercase_ascii(char* first, char* last)
{
  for (; first != last; ++first)
    if (*first >= 'a' && *first <= 'z') *first = static_cast<char>(*first - 'a' + 'A');
}

// Does this field's value, on any of its lines, hold `token`? A field may be
// sent as one comma-separated list or as several lines, which together are
// one list (RFC 9110 §5.3); req[field] would see the first line only.
bool has_token(http::request<http::string_body> const& req, http::field field, beast::string_view token)
{
  auto const [first, last] = req.equal_range(field);
  for (auto it = first; it != last; ++it)
    if (http::token_list{it->value()}.exists(token)) return true;
  return false;
}

// An upgrade to the echo protocol: GET, HTTP/1.1 (a server must ignore
// Upgrade in an HTTP/1.0 request), `upgrade` among Connection's tokens and
// `echo` among Upgrade's. websocket::is_upgrade is the same test for
// `websocket`; it looks at the first Connection and Upgrade lines only.
bool is_echo_upgrade(http::request<http::string_body> const& req)
{
  return req.method() == http::verb::get && req.version() == 11 &&
         has_token(req, http::field::connection, "upgrade") && has_token(req, http::field::upgrade, "echo");
}

// ---------------------------------------------------------------- the echo protocol

class echo_session : public std::enable_shared_from_this<echo_session> {
public:
  // The socket and whatever the HTTP session had read past the request: the
  // client may have sent its first lines in the same segment as the request,
  // and those bytes exist nowhere else any more. The ticket goes with the
  // session, when nothing holds it any more: a handler that still holds it
  // (a timer nobody cancelled) shows in echo_connections().
  echo_session(tcp::socket socket, beast::flat_buffer already_read, echo_ticket ticket)
      : socket_(std::move(socket)),
        deadline_(socket_.get_executor()),  // the socket's executor is the connection's strand
        input_(std::move(already_read)),
        ticket_(std::move(ticket))
  {
  }

  void start()
  {
    // Replies are small and answer the client's lines: send each at once,
    // not when Nagle's algorithm has collected a segment.
    beast::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    arm_deadline();  // the first line is due within echo_timeout of the 101
    next_lines();
  }

private:
  upgrade_options const& options() const { return ticket_.server().options; }

  // Every whole line the input holds becomes a reply; then either the
  // replies go out, or more input is needed.
  void next_lines()
  {
    replies_.clear();
    for (;;) {
      std::string_view const input(static_cast<char const*>(input_.data().data()), input_.size());
      auto const eol = input.find('\n');
      if (eol == std::string_view::npos) break;
      std::size_t length = eol;
      if (length > 0 && input[length - 1] == '\r') --length;  // CRLF: the CR is part of the line end
      if (length > options().max_line) return close();
      auto const at = replies_.size();
      replies_.append(input.substr(0, length));
      uppercase_ascii(replies_.data() + at, replies_.data() + replies_.size());
      replies_ += '\n';
      input_.consume(eol + 1);
    }
    if (!replies_.empty()) return write_replies();
    if (eof_) return close();  // the client has finished, and every whole line is answered
    // No line end yet: a line that is already longer than allowed (plus a
    // CR that may belong to its end) will never be accepted. Stop reading
    // now rather than buffer whatever the client cares to send.
    if (input_.size() > options().max_line + 1) return close();
    read_more();
  }

  // Not a new step: the deadline armed when this line became due still
  // runs, so a client that sends a byte now and then cannot keep it open.
  void read_more()
  {
    socket_.async_read_some(input_.prepare(16 * 1024),
                            beast::bind_front_handler(&echo_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t n)
  {
    input_.commit(n);
    if (closed_) return;  // the deadline closed the connection while this read was under way
    if (ec == net::error::eof) {
      // The client's FIN: it sends nothing more, but may still read. Answer
      // what it sent (a partial last line is not a line), then close.
      eof_ = true;
      return next_lines();
    }
    if (ec) return close();  // a reset, or our own close()
    next_lines();
  }

  void write_replies()
  {
    arm_deadline();  // a reply that cannot be written in time (a client that stopped reading) ends it
    net::async_write(socket_, net::buffer(replies_),
                     beast::bind_front_handler(&echo_session::on_written, shared_from_this()));
  }

  void on_written(beast::error_code ec, std::size_t)
  {
    // A write can succeed and still complete after the deadline closed the
    // connection (both were due at once); arming the timer again then would
    // keep a closed session alive for a whole echo_timeout.
    if (ec || closed_) return close();
    arm_deadline();  // the next line is due within echo_timeout of this reply
    next_lines();
  }

  // One timer for the connection, re-armed at each step. expires_after
  // cancels the wait in progress; but a wait that has already expired and
  // whose handler is queued cannot be cancelled any more, so the handler
  // checks whether the deadline it was armed for is still the current one.
  void arm_deadline()
  {
    deadline_.expires_after(options().echo_timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // re-armed or cancelled
      if (self->deadline_.expiry() > net::steady_timer::clock_type::now()) return;  // re-armed after it fired
      self->close();
    });
  }

  // Every way out comes here, once. The pending read or write completes with
  // operation_aborted, the timer's wait with the same, each handler drops
  // its share of the session, and the last one frees it.
  void close()
  {
    if (closed_) return;
    closed_ = true;
    deadline_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  net::steady_timer deadline_;
  beast::flat_buffer input_;
  std::string replies_;  // what the write in flight reads from
  bool eof_ = false;
  bool closed_ = false;
  echo_ticket ticket_;
};

// ---------------------------------------------------------------- the WebSocket echo

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  // A fresh tcp_stream around the released socket: no deadline of the HTTP
  // session comes along; the WebSocket's own timeouts take over.
  explicit ws_session(tcp::socket socket) : ws_(std::move(socket)) {}

  // async_accept(req) builds its 101 from the request before it returns, so
  // the request need not outlive this call. It takes no buffer: bytes read
  // past the request would be lost here. A WebSocket client must wait for
  // the 101 before it sends a frame (RFC 6455 §4.1), so there are none.
  void start(http::request<http::string_body> const& req, upgrade_options const& options)
  {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.write_timeout;
    timeouts.idle_timeout = options.echo_timeout;
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

private:
  void on_accept(beast::error_code ec)
  {
    if (ec) return;
    read();
  }

  void read()
  {
    buffer_.clear();
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t)
  {
    if (ec) return;  // closed by the client (websocket::error::closed), a timeout, a reset
    auto const bytes = buffer_.data();
    auto* const first = static_cast<char*>(bytes.data());
    uppercase_ascii(first, first + bytes.size());
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(), beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t)
  {
    if (ec) return;
    read();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

// ---------------------------------------------------------------- HTTP

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket socket, std::shared_ptr<upgrade_server::state> server)
      : stream_(std::move(socket)), server_(std::move(server))
  {
  }

  void run()
  {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&http_session::read_request, shared_from_this()));
  }

private:
  upgrade_options const& options() const { return server_->options; }

  void read_request()
  {
    req_ = {};
    stream_.expires_after(options().request_timeout);
    http::async_read(stream_, buffer_, req_, beast::bind_front_handler(&http_session::on_request, shared_from_this()));
  }

  void on_request(beast::error_code ec, std::size_t)
  {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    if (ec && ec.category() == http::make_error_code(http::error::bad_version).category())
      return respond(http::status::bad_request, "not an HTTP request\n", {}, /*keep_alive=*/false);
    if (ec) return close();  // the deadline passed, or a reset

    auto const target = req_.target();
    auto const path = target.substr(0, target.find('?'));
    if (path == "/echo") {
      if (is_echo_upgrade(req_)) return switch_to_echo();
      return respond(http::status::upgrade_required, "this resource speaks the echo protocol only\n", "echo",
                     req_.keep_alive());
    }
    if (path == "/ws") {
      if (websocket::is_upgrade(req_)) return switch_to_websocket();
      return respond(http::status::upgrade_required, "this resource speaks WebSocket only\n", "websocket",
                     req_.keep_alive());
    }
    respond(http::status::not_found, "not found\n", {}, req_.keep_alive());
  }

  void respond(http::status status, beast::string_view body, beast::string_view upgrade, bool keep_alive)
  {
    res_.emplace(status, req_.version() == 10 ? 10 : 11);
    res_->set(http::field::content_type, "text/plain");
    // A 426 must say what to upgrade to, and Upgrade is a hop-by-hop field,
    // named in Connection (RFC 9110 §7.8, §15.5.22).
    if (!upgrade.empty()) {
      res_->set(http::field::upgrade, upgrade);
      res_->set(http::field::connection, "Upgrade");
    }
    res_->keep_alive(keep_alive);  // edits Connection's tokens, keeps "Upgrade"
    res_->body() = std::string(body);
    res_->prepare_payload();
    stream_.expires_after(options().write_timeout);
    http::async_write(stream_, *res_, beast::bind_front_handler(&http_session::on_response_written, shared_from_this()));
  }

  void on_response_written(beast::error_code ec, std::size_t)
  {
    bool const keep_alive = res_->keep_alive();
    res_.reset();
    if (ec || !keep_alive) return close();
    read_request();
  }

  // ------------------------------------------------------------ switching protocols

  void switch_to_echo()
  {
    // Counted from the decision on; if the 101 never makes it, the ticket
    // goes with this session.
    ticket_.emplace(server_);
    // By hand: a 101 has no body, so no Content-Length and no chunked
    // encoding; the serializer of a response<empty_body> with
    // prepare_payload() would add "Content-Length: 0". Nothing else is
    // written before the echo's first reply.
    switching_ =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: echo\r\n"
        "Connection: Upgrade\r\n"
        "\r\n";
    stream_.expires_after(options().write_timeout);
    net::async_write(stream_, net::buffer(switching_),
                     beast::bind_front_handler(&http_session::on_switched, shared_from_this()));
  }

  void on_switched(beast::error_code ec, std::size_t)
  {
    if (ec) return close();
    // The hand-off. release_socket() cancels what the tcp_stream still has
    // pending and moves the socket out: the read deadline armed for the
    // request and the write deadline of the 101 stay behind with a stream
    // that no longer has a socket to close. The buffer goes too, with
    // whatever the client sent after its request. This session ends when
    // this handler returns: nothing of it refers to the connection any more.
    auto echo = std::make_shared<echo_session>(stream_.release_socket(), std::move(buffer_), std::move(*ticket_));
    echo->start();
  }

  void switch_to_websocket()
  {
    auto ws = std::make_shared<ws_session>(stream_.release_socket());
    ws->start(req_, options());
  }

  void close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response<http::string_body>> res_;
  std::string switching_;  // the 101, read by the write in flight
  std::optional<echo_ticket> ticket_;
  std::shared_ptr<upgrade_server::state> server_;
};

void do_accept(std::shared_ptr<upgrade_server::state> server)
{
  // Each connection on a strand of its own: the socket keeps that executor
  // when it is released, so the echo session's handlers and its timer's
  // run on the same strand as the HTTP session's did.
  server->acceptor.async_accept(net::make_strand(server->ioc), [server](beast::error_code ec, tcp::socket socket) {
    if (!server->acceptor.is_open()) return;  // the server is being destroyed
    if (!ec) std::make_shared<http_session>(std::move(socket), server)->run();
    do_accept(server);
  });
}

} // namespace

upgrade_server::upgrade_server(net::io_context& ioc, tcp::endpoint listen_on, upgrade_options options)
    : state_(std::make_shared<state>(ioc, listen_on, options))
{
}

upgrade_server::~upgrade_server()
{
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

void upgrade_server::start()
{
  auto& a = state_->acceptor;
  a.open(state_->endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(state_->endpoint);
  a.listen(net::socket_base::max_listen_connections);
  state_->endpoint = a.local_endpoint();
  net::dispatch(a.get_executor(), [s = state_] { do_accept(s); });
}

tcp::endpoint upgrade_server::local_endpoint() const { return state_->endpoint; }

std::size_t upgrade_server::echo_connections() const { return state_->echo_connections.load(); }

} // namespace task17
