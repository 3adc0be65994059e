// Task 15 · reference.
//
// Three parts. The JSON text of a record, written by hand into a buffer
// that is reused, with the escapes a string needs. A Beast body type,
// record_stream_body, whose writer produces the records a batch at a time,
// only when the serializer asks for the next buffer: the socket pulls the
// records out of the source, so nothing is produced that the connection
// cannot take, and a connection that dies takes the production with it.
// And a session that reads a request, checks its parameters, and writes the
// stream one async_write_some at a time, each under a deadline of its own.
#include "records.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace task15 {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

struct records_server::state {
  state(net::io_context& io, tcp::endpoint ep, record_source src, server_options opt)
      : ioc(io), acceptor(net::make_strand(io)), endpoint(ep), source(std::move(src)), options(opt)
  {
  }
  net::io_context& ioc;
  tcp::acceptor acceptor;
  tcp::endpoint endpoint;
  record_source source;
  server_options options;
  std::atomic<std::size_t> live_sessions{0};
};

namespace {

// How long a connection may take to send a request (or to start the next
// one on a kept-alive connection). The stream itself runs under
// options.stall_timeout, one write at a time.
constexpr auto request_timeout = 30s;

// ---------------------------------------------------------------- JSON text

// Appends `s` as a JSON string, quotes included. RFC 8259 §7: inside a
// string, `"`, `\` and the control characters U+0000 to U+001F must be
// escaped; everything else, UTF-8 beyond ASCII and DEL included, may stand
// as it is. The runs of characters that need nothing are copied whole.
void append_json_string(std::string& out, std::string_view s)
{
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // where the current run of plain characters began
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto const c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    default: {
      // The other control characters have no short form: \u and four hex
      // digits, the first two always 0.
      char const escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f]};
      out.append(escape, sizeof escape);
    }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// Integers in decimal, exactly: std::to_chars never goes through a double
// and never looks at the locale, and INT64_MIN is just another number to it.
template <class Integer>
void append_integer(std::string& out, Integer value)
{
  char digits[24];
  auto const end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

void append_record(std::string& out, record const& r)
{
  out += "{\"id\":";
  append_integer(out, r.id);
  out += ",\"name\":";
  append_json_string(out, r.name);
  out += ",\"value\":";
  append_integer(out, r.value);
  out += '}';
}

// ---------------------------------------------------------------- the body

enum class format { json, ndjson };

// A Beast body whose bytes are a stream of records, produced while it is
// serialized. Its value is only a description (where the records come
// from, how many, in which format); the writer produces them.
//
// The serializer calls writer::get() for the next buffer only once it has
// written all of the previous one. So each get() is one batch, produced
// when the socket has taken the batch before it: the production runs at
// the pace of the client, the memory is one batch (a string whose capacity
// is reused), and when a write fails the serializer never asks again.
// With a chunked message the serializer frames each buffer as one chunk
// (serializer::next in boost/beast/http/impl/serializer.hpp).
struct record_stream_body {
  struct value_type {
    record_source const* source = nullptr;
    std::uint64_t count = 0;
    format form = format::json;
  };

  class writer {
  public:
    using const_buffers_type = net::const_buffer;

    template <bool isRequest, class Fields>
    writer(http::header<isRequest, Fields> const&, value_type const& body) : body_(body)
    {
    }

    void init(beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec)
    {
      ec = {};
      produce_batch();
      bool const last = next_ == body_.count;
      if (last) close();
      // Only an NDJSON stream of no records has no bytes at all: the
      // serializer then writes the last chunk alone.
      if (batch_.empty()) return boost::none;
      return std::make_pair(const_buffers_type(batch_.data(), batch_.size()), !last);
    }

  private:
    void produce_batch()
    {
      batch_.clear();
      bool const json = body_.form == format::json;
      if (json && next_ == 0) batch_ += '[';
      auto const end = std::min<std::uint64_t>(body_.count, next_ + batch_records);
      for (; next_ < end; ++next_) {
        // The commas go between records, so before every one but the
        // first of the stream (not of the batch).
        if (json) batch_ += next_ == 0 ? "\n" : ",\n";
        append_record(batch_, (*body_.source)(next_));
        // NDJSON ends every line, the last one too.
        if (!json) batch_ += '\n';
      }
    }

    void close()
    {
      if (body_.form == format::json) batch_ += body_.count == 0 ? "]\n" : "\n]\n";
    }

    value_type const& body_;
    std::uint64_t next_ = 0;  // the next record to produce
    std::string batch_;
  };
};

// ---------------------------------------------------------------- the request

// What GET /records asked for.
struct stream_spec {
  std::uint64_t count = 0;
  format form = format::json;
};

using small_response = http::response<http::string_body>;

small_response json_answer(unsigned version, http::status status, std::string body)
{
  small_response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

small_response bad_parameter(unsigned version, std::string_view parameter, std::string_view message)
{
  std::string body = "{\"error\":";
  append_json_string(body, message);
  body += ",\"parameter\":";
  append_json_string(body, parameter);
  body += '}';
  return json_answer(version, http::status::bad_request, std::move(body));
}

// n: decimal digits only, at most max_records. from_chars alone would take
// "12abc" (it stops at the a) and a leading '-' for a signed type; the
// digit check refuses both, and its overflow check catches 2^64.
std::optional<std::uint64_t> record_count(std::string_view text)
{
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t n = 0;
  auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n > max_records) return std::nullopt;
  return n;
}

// The request's answer: a stream to write, or a small response that says
// why not. Boost.URL splits the target and decodes the parameters' values.
std::variant<stream_spec, small_response> route(http::request<http::string_body> const& req)
{
  auto const version = req.version();
  auto const url = boost::urls::parse_origin_form(req.target());
  if (!url || url->encoded_path() != "/records")
    return json_answer(version, http::status::not_found, R"({"error":"not found"})");
  if (req.method() != http::verb::get) {
    auto res = json_answer(version, http::status::method_not_allowed, R"({"error":"method not allowed"})");
    res.set(http::field::allow, "GET");
    return res;
  }

  auto const params = url->params();
  auto const n = params.find("n");
  if (n == params.end()) return bad_parameter(version, "n", "n is missing: ask for /records?n=<how many>");
  auto const count = record_count((*n).value);
  if (!count)
    return bad_parameter(version, "n",
                         "n must be a whole number from 0 to " + std::to_string(max_records) + " in decimal digits, not \"" +
                             (*n).value + "\"");

  stream_spec spec{*count, format::json};
  if (auto const f = params.find("format"); f != params.end()) {
    if ((*f).value == "ndjson") spec.form = format::ndjson;
    else if ((*f).value != "json")
      return bad_parameter(version, "format", "format must be json or ndjson, not \"" + (*f).value + "\"");
  }
  return spec;
}

// ---------------------------------------------------------------- the session

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<records_server::state> server)
      : stream_(std::move(socket)), server_(std::move(server))
  {
    ++server_->live_sessions;
  }

  // Every way a session ends comes through here: the last handler that
  // held it has returned without starting another operation.
  ~session() { --server_->live_sessions; }

  void run()
  {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read_request, shared_from_this()));
  }

private:
  void read_request()
  {
    parser_.emplace();  // a parser serves one message
    stream_.expires_after(request_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_request, shared_from_this()));
  }

  void on_request(beast::error_code ec, std::size_t)
  {
    if (ec == http::error::end_of_stream) return close();
    if (ec) return;
    auto const& req = parser_->get();
    auto answer = route(req);
    if (auto* spec = std::get_if<stream_spec>(&answer)) return start_stream(*spec, req.version(), req.keep_alive());
    auto& res = std::get<small_response>(answer);
    res.keep_alive(req.keep_alive());
    send(std::move(res));
  }

  // ---- a small answer: one async_write, as usual

  void send(small_response res)
  {
    reply_ = std::move(res);
    stream_.expires_after(request_timeout);
    http::async_write(stream_, reply_, beast::bind_front_handler(&session::on_sent, shared_from_this()));
  }

  void on_sent(beast::error_code ec, std::size_t)
  {
    if (ec) return;
    if (!reply_.keep_alive()) return close();
    read_request();
  }

  // ---- the stream: a serializer driven one write at a time

  void start_stream(stream_spec spec, unsigned version, bool keep_alive)
  {
    stream_res_.emplace(http::status::ok, version);
    stream_res_->set(http::field::content_type,
                     spec.form == format::json ? "application/json" : "application/x-ndjson");
    stream_res_->keep_alive(keep_alive);
    // No size is known before the end, and none is wanted: each batch goes
    // out as a chunk, and the last chunk says where the body ends, so the
    // connection can carry the next request.
    stream_res_->chunked(true);
    stream_res_->body() = {&server_->source, spec.count, spec.form};
    serializer_.emplace(*stream_res_);
    write_some();
  }

  // One async_write_some of the serializer: the header, a batch, the rest
  // of a batch the socket could not take at once, or the last chunk. Each
  // has a deadline of its own: a client that keeps reading can take an hour
  // over a stream, one that has stopped is cut off after stall_timeout.
  // (One expires_after before http::async_write would bound the whole
  // stream instead, however fast the client reads.)
  void write_some()
  {
    stream_.expires_after(server_->options.stall_timeout);
    http::async_write_some(stream_, *serializer_, beast::bind_front_handler(&session::on_written, shared_from_this()));
  }

  void on_written(beast::error_code ec, std::size_t)
  {
    // The client reset or closed the connection, or stopped reading past
    // the deadline (tcp_stream closed the socket): nothing more to do. No
    // handler holds the session any more, so it is destroyed, and with it
    // the serializer, the writer and its batch. The source is never asked
    // for another record.
    if (ec) return;
    if (!serializer_->is_done()) return write_some();
    bool const keep_alive = stream_res_->keep_alive();
    serializer_.reset();  // before the message it refers to
    stream_res_.reset();
    if (!keep_alive) return close();
    read_request();
  }

  void close()
  {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<records_server::state> server_;
  std::optional<http::request_parser<http::string_body>> parser_;
  small_response reply_;
  std::optional<http::response<record_stream_body>> stream_res_;
  std::optional<http::response_serializer<record_stream_body>> serializer_;
};

void do_accept(std::shared_ptr<records_server::state> server)
{
  auto& acceptor = server->acceptor;
  acceptor.async_accept(net::make_strand(server->ioc),
                        [server = std::move(server)](beast::error_code ec, tcp::socket socket) mutable {
                          if (!ec) std::make_shared<session>(std::move(socket), server)->run();
                          if (server->acceptor.is_open()) do_accept(std::move(server));
                        });
}

} // namespace

// ---------------------------------------------------------------- the server

records_server::records_server(net::io_context& ioc, tcp::endpoint listen_on, record_source source,
                               server_options options)
    : state_(std::make_shared<state>(ioc, listen_on, std::move(source), options))
{
}

records_server::~records_server()
{
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

void records_server::start()
{
  auto& a = state_->acceptor;
  a.open(state_->endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(state_->endpoint);
  a.listen(net::socket_base::max_listen_connections);
  state_->endpoint = a.local_endpoint();  // port 0 asked for any: remember the one we got
  do_accept(state_);
}

tcp::endpoint records_server::local_endpoint() const { return state_->endpoint; }

std::size_t records_server::live_sessions() const { return state_->live_sessions.load(); }

} // namespace task15
