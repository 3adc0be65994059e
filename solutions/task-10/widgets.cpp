// Task 10 · reference.
//
// Two halves. widget_api turns one complete request into a response: strict
// parse, shape, unknown fields, values, store. widget_server decides, from
// the header alone, whether a body may be read at all, and only then reads
// it: the body limit is enforced by Beast's parser while the bytes arrive,
// not by checking the size of a string that has already been buffered.
#include "widgets.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <nlohmann/json.hpp>

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
using tcp = net::ip::tcp;
using json = nlohmann::json;
// ordered_json keeps the members in the order of the body, so "the first
// unknown field" means the first one the client wrote (json sorts them).
using ordered_json = nlohmann::ordered_json;

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
  ordered_json body;
};

response json_response(request const& req, http::status status, ordered_json const& body)
{
  response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  // `replace`: a string that came from the client is valid UTF-8 (the
  // parser checked), but dump() would throw on an invalid byte, and an
  // exception here would turn a refusal into a crash. Never let it.
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

rejection field_error(http::status status, std::string const& field, std::string message)
{
  return {status, ordered_json{{"error", std::move(message)}, {"field", field}}};
}

// The checks of widgets.hpp, in its order. The first that fails decides.
std::variant<widget, rejection> decode(std::string const& body)
{
  ordered_json doc;
  try {
    // parse() is strict: one value, then only whitespace. Trailing data
    // (`{..}{..}`, `{..} x`) is a syntax error at the first byte after the
    // value, which is exactly what Go's dec.More() checks by hand.
    doc = ordered_json::parse(body);
  } catch (json::parse_error const& e) {
    // e.byte counts the bytes read, 1-based: the last one read is at e.byte - 1.
    return rejection{http::status::bad_request,
                     ordered_json{{"error", "malformed JSON"}, {"offset", e.byte - 1}}};
  } catch (json::exception const&) {
    // Not a parse_error: out_of_range 406, a number (1e999) that overflows a
    // double. Valid JSON, unusable value, and no position to report.
    return rejection{http::status::bad_request, ordered_json{{"error", "a number is out of range"}}};
  }

  if (!doc.is_object()) return rejection{http::status::bad_request, ordered_json{{"error", "expected a JSON object"}}};

  // Unknown fields before values: a typo ("prize") must be reported as the
  // typo, not as "price is missing".
  for (auto const& [key, value] : doc.items())
    if (key != "name" && key != "price" && key != "quantity")
      return field_error(http::status::bad_request, key, "unknown field");

  widget w;
  auto const name = doc.find("name");
  if (name == doc.end() || !name->is_string())
    return field_error(http::status::unprocessable_entity, "name", "name must be a string");
  w.name = name->get<std::string>();
  if (w.name.empty() || w.name.size() > max_name_bytes)
    return field_error(http::status::unprocessable_entity, "name", "name must be 1 to 100 bytes");

  auto const price = doc.find("price");
  if (price == doc.end() || !price->is_number())
    return field_error(http::status::unprocessable_entity, "price", "price must be a number");
  w.price = price->get<double>();
  if (!std::isfinite(w.price) || w.price < 0)
    return field_error(http::status::unprocessable_entity, "price", "price must be >= 0");

  if (auto const quantity = doc.find("quantity"); quantity != doc.end()) {
    // is_number_integer(): written without fraction or exponent. 1.0 and
    // 1e3 are floats to the parser, and to this API.
    if (!quantity->is_number_integer())
      return field_error(http::status::unprocessable_entity, "quantity", "quantity must be an integer");
    bool in_range = false;
    if (quantity->is_number_unsigned()) {
      auto const q = quantity->get<std::uint64_t>();
      in_range = q <= static_cast<std::uint64_t>(max_quantity);
      w.quantity = in_range ? static_cast<std::int64_t>(q) : 0;
    } else {
      w.quantity = quantity->get<std::int64_t>();
      in_range = w.quantity >= 0 && w.quantity <= max_quantity;
    }
    if (!in_range)
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

response widget_api::handle(request const& req)
{
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));  // routing ignores the query

  if (target == "/widgets") {
    if (req.method() != http::verb::post) {
      auto res = json_response(req, http::status::method_not_allowed, {{"error", "method not allowed"}});
      res.set(http::field::allow, "POST");
      return res;
    }
    auto decoded = decode(req.body());
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
    // arrives, and a parser is good for one message.
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
    if (ec) return;
    send(server_->api.handle(parser_->get()));
  }

  void too_large()
  {
    response res{http::status::payload_too_large, parser_->get().version()};
    res.set(http::field::content_type, "application/json");
    res.body() = ordered_json{{"error", "request body too large"}, {"limit", max_body_bytes}}.dump();
    // The rest of the body is still on its way, and we will not read it as a
    // request: this connection cannot carry another one.
    res.keep_alive(false);
    res.prepare_payload();
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

  // Closing a socket whose receive buffer still holds unread bytes makes
  // the kernel send a reset, and a reset can destroy our 413 in the
  // client's receive buffer before the client reads it. So: stop sending
  // (the client sees the end of the response), then read and discard what
  // the client still sends, for a bounded time, and only then close. Go's
  // server does the same (closeWriteAndWait); Apache calls it lingering close.
  void lingering_close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(1s);
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
  std::optional<http::request_parser<http::string_body>> parser_;
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
