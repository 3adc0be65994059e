// Task 10 · reference.
//
// Three parts. body_decoder hands each piece of a body to Boost.JSON's
// stream_parser as it arrives and remembers where the parser stopped.
// widget_api finishes the decoding and checks the value: object, unknown
// fields, values, store. widget_server decides from the header alone
// whether a body may be read at all, then streams it into a decoder through
// a Beast body type of its own, and answers as soon as the answer is known:
// a 413 when the body grows past the limit, a 400 when its bytes stop being
// JSON, whether or not the client has finished sending.
#include "widgets.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace task10 {

namespace beast = boost::beast;
namespace json = boost::json;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- the body

struct body_decoder::state {
  json::stream_parser parser;  // default options: strict JSON, nesting at most 32 deep
  std::size_t before = 0;      // bytes of the body written before the current piece
  json::error_code error;      // why the parser stopped, once it has
  std::size_t stopped_at = 0;  // ... and where, counted from the body's first byte
};

body_decoder::body_decoder() : state_(std::make_unique<state>()) {}
body_decoder::~body_decoder() = default;
body_decoder::body_decoder(body_decoder&&) noexcept = default;
body_decoder& body_decoder::operator=(body_decoder&&) noexcept = default;

bool body_decoder::write(std::string_view piece)
{
  auto& s = *state_;
  if (s.error) return false;
  // write(), not write_some(): write_some() stops quietly after the value,
  // write() also refuses what follows it unless it is whitespace
  // (error::extra_data), even when the value ended in an earlier piece.
  auto const n = s.parser.write(piece.data(), piece.size(), s.error);
  if (s.error) {
    // n is where the parser stopped inside this piece; the client counts
    // from the first byte of the body, and knows nothing of our pieces.
    s.stopped_at = s.before + n;
    return false;
  }
  s.before += piece.size();
  return true;
}

namespace {

constexpr std::size_t max_name_bytes = 100;
constexpr std::int64_t max_quantity = 1000000;

struct widget {
  std::string name;
  double price = 0;
  std::int64_t quantity = 0;
};

// Why a body was refused: the status and the JSON body that says so.
struct rejection {
  http::status status;
  json::object body;
};

response json_response(request_header const& req, http::status status, json::object const& body)
{
  response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  // serialize() escapes what needs escaping (quotes, backslashes, control
  // characters) in a member's name the client chose: never paste one into
  // JSON text by hand.
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

rejection field_error(http::status status, std::string_view field, std::string_view message)
{
  return {status, json::object{{"error", message}, {"field", field}}};
}

// Check 1: the body is one JSON value, and nothing but whitespace follows.
// Every byte has been written by now, unless write() refused one.
std::variant<json::value, rejection> finish(body_decoder::state& s)
{
  if (!s.error) {
    s.parser.finish(s.error);
    // The only failure left at the end: the body ended inside the value.
    if (s.error) s.stopped_at = s.before;
  }
  if (s.error)
    // The parser's message is a fixed text ("syntax error", "too deep"):
    // it says what went wrong without quoting the body back.
    return rejection{http::status::bad_request,
                     json::object{{"error", "malformed JSON: " + s.error.message()}, {"offset", s.stopped_at}}};
  return s.parser.release();
}

// Checks 2 to 4 of widgets.hpp, in its order. The first that fails decides.
std::variant<widget, rejection> decode(json::value const& doc)
{
  auto const* object = doc.if_object();
  if (!object) return rejection{http::status::bad_request, json::object{{"error", "expected a JSON object"}}};

  // Unknown fields before values: a typo ("prize") must be reported as the
  // typo, not as "price is missing". json::object keeps the members in the
  // order of the body, so the first unknown one is the first the client wrote.
  for (auto const& member : *object)
    if (member.key() != "name" && member.key() != "price" && member.key() != "quantity")
      return field_error(http::status::bad_request, member.key(), "unknown field");

  widget w;
  auto const* name = object->if_contains("name");
  if (!name || !name->is_string())
    return field_error(http::status::unprocessable_entity, "name", "name must be a string");
  w.name = name->get_string();
  if (w.name.empty() || w.name.size() > max_name_bytes)
    return field_error(http::status::unprocessable_entity, "name", "name must be 1 to 100 bytes");

  // A number is one of three kinds to Boost.JSON: int64, uint64 or double.
  auto const* price = object->if_contains("price");
  if (!price || !price->is_number())
    return field_error(http::status::unprocessable_entity, "price", "price must be a number");
  w.price = price->to_number<double>();
  // 1e999 parses: as infinity. It is not a price.
  if (!std::isfinite(w.price) || w.price < 0)
    return field_error(http::status::unprocessable_entity, "price", "price must be a finite number >= 0");

  if (auto const* quantity = object->if_contains("quantity")) {
    // Written without fraction or exponent, an integer arrives as int64
    // (uint64 only beyond INT64_MAX, so out of range anyway); 2.0 and 1e3
    // arrive as doubles, and this API refuses them instead of converting.
    if (!quantity->is_int64() && !quantity->is_uint64())
      return field_error(http::status::unprocessable_entity, "quantity", "quantity must be an integer");
    w.quantity = quantity->is_int64() ? quantity->get_int64() : -1;
    if (w.quantity < 0 || w.quantity > max_quantity)
      return field_error(http::status::unprocessable_entity, "quantity", "quantity must be 0 to 1000000");
  }
  return w;
}

// "/widgets/42" -> 42; anything else (no digits, a sign, more path, 0,
// more than 64 bits) -> nothing.
std::optional<std::uint64_t> widget_id(std::string_view segment)
{
  std::uint64_t id = 0;
  auto const [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), id);
  if (ec != std::errc{} || end != segment.data() + segment.size() || id == 0) return std::nullopt;
  return id;
}

} // namespace

// ---------------------------------------------------------------- the API

struct widget_api::state {
  std::mutex mutex;  // handle() runs on every server thread
  std::map<std::uint64_t, widget> widgets;
  std::uint64_t next_id = 1;
};

widget_api::widget_api() : state_(std::make_unique<state>()) {}
widget_api::~widget_api() = default;

response widget_api::handle(request_header const& req, body_decoder& body)
{
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));  // routing ignores the query

  if (target == "/widgets") {
    if (req.method() != http::verb::post) {
      auto res = json_response(req, http::status::method_not_allowed, {{"error", "method not allowed"}});
      res.set(http::field::allow, "POST");
      return res;
    }
    auto parsed = finish(*body.state_);
    if (auto* r = std::get_if<rejection>(&parsed)) return json_response(req, r->status, r->body);
    auto decoded = decode(std::get<json::value>(parsed));
    if (auto* r = std::get_if<rejection>(&decoded)) return json_response(req, r->status, r->body);

    std::uint64_t id = 0;
    {
      std::lock_guard lock(state_->mutex);
      id = state_->next_id++;
      state_->widgets.emplace(id, std::move(std::get<widget>(decoded)));
    }
    auto res = json_response(req, http::status::created, {{"id", id}});
    res.set(http::field::location, "/widgets/" + std::to_string(id));
    return res;
  }

  constexpr std::string_view prefix = "/widgets/";
  if (target.substr(0, prefix.size()) == prefix && target.find('/', prefix.size()) == std::string_view::npos) {
    if (req.method() != http::verb::get) {
      auto res = json_response(req, http::status::method_not_allowed, {{"error", "method not allowed"}});
      res.set(http::field::allow, "GET");
      return res;
    }
    if (auto const id = widget_id(target.substr(prefix.size()))) {
      std::optional<widget> found;
      {
        std::lock_guard lock(state_->mutex);
        if (auto const it = state_->widgets.find(*id); it != state_->widgets.end()) found = it->second;
      }
      if (found)
        return json_response(req, http::status::ok,
                             {{"id", *id}, {"name", found->name}, {"price", found->price}, {"quantity", found->quantity}});
    }
    return json_response(req, http::status::not_found, {{"error", "no such widget"}});
  }

  return json_response(req, http::status::not_found, {{"error", "not found"}});
}

// ---------------------------------------------------------------- the server

struct widget_server::state {
  state(net::io_context& io, tcp::endpoint ep, widget_api& a)
      : ioc(io), acceptor(net::make_strand(io)), endpoint(ep), api(a) {}
  net::io_context& ioc;
  tcp::acceptor acceptor;
  tcp::endpoint endpoint;
  widget_api& api;
};

namespace {

using namespace std::chrono_literals;

// A Beast body type that decodes instead of collecting. string_body's
// reader appends every buffer the parser hands it to a string; this one
// writes it to a body_decoder, and stops the read as soon as the decoder
// refuses one. The parser calls put() as the bytes arrive, one call per
// buffer it has, so the body is decoded while it is still on its way.
struct decoding_body {
  struct value_type {
    body_decoder decoder;
    bool refused = false;  // write() said no: the rest of the body was not read
  };

  class reader {
  public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(boost::optional<std::uint64_t> const&, beast::error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    std::size_t put(ConstBufferSequence const& buffers, beast::error_code& ec)
    {
      ec = {};
      std::size_t n = 0;
      for (auto const buffer : beast::buffers_range_ref(buffers)) {
        n += buffer.size();
        if (!body_.decoder.write({static_cast<char const*>(buffer.data()), buffer.size()})) {
          body_.refused = true;
          // Any error ends http::async_read here; the session tells this
          // one from the others by `refused`.
          ec = make_error_code(boost::system::errc::bad_message);
          break;
        }
      }
      return n;
    }

    void finish(beast::error_code& ec) { ec = {}; }

  private:
    value_type& body_;
  };
};

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<widget_server::state> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void run()
  {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read_header, shared_from_this()));
  }

private:
  void read_header()
  {
    // A fresh parser per request: body_limit counts down as the body
    // arrives, a parser is good for one message, and the decoder in its
    // body is good for one body.
    parser_.emplace();
    parser_->body_limit(max_body_bytes);
    stream_.expires_after(30s);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t)
  {
    // Content-Length over the limit: Beast's parser refuses it as soon as
    // the header is complete (basic_parser::finish_header), so this is the
    // moment, before a single byte of the body has been waited for.
    if (ec == http::error::body_limit) return too_large();
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec) return;  // timeout, reset, or not HTTP: nothing worth answering

    // The header is in and the body is acceptable so far: a client that
    // asked for permission to send it (Expect: 100-continue) gets it now.
    auto const& head = parser_->get();
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, head.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
        if (!ec) self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body()
  {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t)
  {
    // A chunked body crosses the limit while it arrives: the parser stops at
    // the chunk that would exceed it.
    if (ec == http::error::body_limit) return too_large();
    auto& req = parser_->get();
    // The decoder refused a piece: handle() has its answer (400 with the
    // offset), and the rest of the body, maybe still on its way, is not read.
    if (req.body().refused) return send_and_close(server_->api.handle(req.base(), req.body().decoder));
    if (ec) return;
    auto res = server_->api.handle(req.base(), req.body().decoder);
    res.keep_alive(req.keep_alive());
    send(std::move(res));
  }

  void too_large()
  {
    response res{http::status::payload_too_large, parser_->get().version()};
    res.set(http::field::content_type, "application/json");
    res.body() = json::serialize(json::object{{"error", "request body too large"}, {"limit", max_body_bytes}});
    res.prepare_payload();
    send_and_close(std::move(res));
  }

  // The rest of the body is still on its way, and we will not read it as a
  // request: this connection cannot carry another one.
  void send_and_close(response res)
  {
    res.keep_alive(false);
    send(std::move(res));
  }

  void send(response res)
  {
    res_ = std::move(res);
    stream_.expires_after(30s);
    http::async_write(stream_, res_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t)
  {
    if (ec) return;
    if (!res_.keep_alive()) return lingering_close();
    read_header();
  }

  // Closing a socket whose receive buffer still holds unread bytes, or that
  // receives more after it is closed, makes the kernel send a reset, and a
  // reset can destroy our answer in the client's receive buffer before the
  // client reads it, or fail the send the client is still making. So: stop
  // sending (the client sees the end of the response), then read and
  // discard what the client still sends, for a bounded time, and only then
  // close. Go's server does the same (closeWriteAndWait); Apache calls it a
  // lingering close.
  void lingering_close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(2s);
    drain();
  }

  void drain()
  {
    stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) return self->drain();
      self->stream_.close();  // EOF from the client, or the deadline
    });
  }

  void shutdown()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<decoding_body>> parser_;
  response res_;
  std::array<char, 16 * 1024> scratch_{};
  std::shared_ptr<widget_server::state> server_;
};

void do_accept(std::shared_ptr<widget_server::state> server)
{
  auto& acceptor = server->acceptor;
  acceptor.async_accept(net::make_strand(server->ioc),
                        [server = std::move(server)](beast::error_code ec, tcp::socket socket) mutable {
                          if (!ec) std::make_shared<session>(std::move(socket), server)->run();
                          if (server->acceptor.is_open()) do_accept(std::move(server));
                        });
}

} // namespace

widget_server::widget_server(net::io_context& ioc, tcp::endpoint listen_on, widget_api& api)
    : state_(std::make_shared<state>(ioc, listen_on, api))
{
}

widget_server::~widget_server()
{
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

void widget_server::start()
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

tcp::endpoint widget_server::local_endpoint() const { return state_->endpoint; }

} // namespace task10
