// Task 17 · [AC7] (bonus): the same echo over a real WebSocket. GET /ws
// with a WebSocket handshake is accepted with beast::websocket; every
// message comes back uppercased, as a message of the same kind; no HTTP
// deadline follows the connection into the WebSocket; /ws without a
// handshake is a 426 naming websocket. The clients: Beast's own WebSocket
// client, and headless Chromium's `new WebSocket(...)` where it is
// installed.
#include "fixtures.hpp"

#include <workbook/browser.hpp>
#include <workbook/eventually.hpp>
#include <workbook/skip.hpp>
#include <workbook/temp_dir.hpp>
#include <workbook/test_server.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <mutex>
#include <sstream>

using namespace task17_test;
using namespace std::chrono_literals;

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct ws_message {
  std::string data;
  bool text = true;
};

// A WebSocket client on a private io_context: each operation is started
// asynchronously and the io_context run for a bounded time; one that does
// not finish in time closes the socket. What it sends and receives goes to
// the transcript as notes.
class ws_client {
public:
  explicit ws_client(unsigned short port, std::string const& target = "/ws") : ws_(ioc_)
  {
    id_ = workbook::transcript::open_connection();
    auto ec = run([&](auto handler) {
      beast::get_lowest_layer(ws_).async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), handler);
    });
    if (ec) {
      error = "connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message();
      note(error);
      return;
    }
    note("connected to 127.0.0.1:" + std::to_string(port));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(1);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    websocket::response_type response;
    ec = run([&](auto handler) { ws_.async_handshake(response, "127.0.0.1:" + std::to_string(port), target, handler); });
    std::ostringstream head;
    head << response.base();
    workbook::transcript::record(id_, workbook::transcript::direction::received, head.str());
    if (ec) {
      error = "the WebSocket handshake on " + target + " failed: " + ec.message();
      note(error);
      return;
    }
    open = true;
    note("WebSocket open");
  }

  bool send(std::string const& data, bool text = true)
  {
    if (!open) return false;
    note(std::string("> ") + (text ? "text" : "binary") + " message: " + printable(data, 200));
    ws_.text(text);
    auto const ec = run([&](auto handler) { ws_.async_write(net::buffer(data), handler); });
    if (ec) fail("sending failed: " + ec.message());
    return !ec;
  }

  std::optional<ws_message> read(milliseconds within = 1000ms)
  {
    if (!open) return std::nullopt;
    beast::flat_buffer buffer;
    auto const ec = run([&](auto handler) { ws_.async_read(buffer, handler); }, within);
    if (ec) {
      fail(ec == websocket::error::closed ? "the server closed the WebSocket" : "reading failed: " + ec.message());
      return std::nullopt;
    }
    ws_message m{beast::buffers_to_string(buffer.data()), ws_.got_text()};
    note(std::string("< ") + (m.text ? "text" : "binary") + " message: " + printable(m.data, 200));
    return m;
  }

  // The closing handshake: our close frame, the server's, the end.
  bool close()
  {
    if (!open) return false;
    note("> close frame (1000, normal)");
    auto const ec = run([&](auto handler) { ws_.async_close(websocket::close_code::normal, handler); });
    open = false;
    if (ec) {
      note("the closing handshake failed: " + ec.message());
      return false;
    }
    note("< close frame; WebSocket closed");
    return true;
  }

  bool open = false;
  std::string error;

private:
  // Starts an operation with a handler that records its result, and runs
  // the io_context until it completes or `within` has passed.
  template <class Start>
  beast::error_code run(Start&& start, milliseconds within = 1000ms)
  {
    auto result = std::make_shared<std::optional<beast::error_code>>();
    start([result](beast::error_code ec, auto&&...) { *result = ec; });
    ioc_.restart();
    ioc_.run_for(within);
    if (*result) return **result;
    note("no completion within " + std::to_string(within.count()) + " ms; the client closes the socket");
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    ioc_.restart();
    ioc_.run_for(1000ms);
    open = false;
    return beast::error::timeout;
  }

  void fail(std::string const& why)
  {
    error = why;
    open = false;
    note(why);
  }

  void note(std::string const& text) { workbook::transcript::note(id_, text); }

  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  int id_ = 0;
};

std::string upper(std::string_view s)
{
  auto reply = expected_reply(s);
  reply.pop_back();  // a WebSocket message has no line end
  return reply;
}

} // namespace

TEST_CASE("GET /ws is a WebSocket that echoes every message uppercased", "[AC7]")
{
  running_server s;
  ws_client c(s.port);
  INFO(c.error);
  REQUIRE(c.open);
  for (std::string const text : {"hello", "Hello, WebSocket!", "gr\xc3\xbc\xc3\x9f" "e {~}", "", "line\nbreaks\r\nkept",
                                 "the sixth message"}) {
    REQUIRE(c.send(text));
    auto const reply = c.read();
    INFO("sent the text message " << printable(text) << "; " << (reply ? "got " + printable(reply->data) : c.error));
    REQUIRE(reply);
    CHECK(reply->text);
    CHECK(reply->data == upper(text));
  }
  std::string const binary("bin\0ary data", 12);
  REQUIRE(c.send(binary, /*text=*/false));
  auto const reply = c.read();
  INFO("sent a binary message; " << (reply ? "got " + printable(reply->data) : c.error));
  REQUIRE(reply);
  CHECK_FALSE(reply->text);
  CHECK(reply->data == upper(binary));
  CHECK(c.close());
}

TEST_CASE("the WebSocket echo outlives the HTTP deadlines", "[AC7]")
{
  auto options = test_options();
  options.request_timeout = 100ms;
  options.write_timeout = 1000ms;  // also the handshake's limit
  options.echo_timeout = 3000ms;
  running_server s(options);
  ws_client c(s.port);
  INFO(c.error);
  REQUIRE(c.open);
  REQUIRE(c.send("before the pause"));
  REQUIRE(c.read().value_or(ws_message{}).data == "BEFORE THE PAUSE");
  // Four request_timeouts with nothing to say.
  std::this_thread::sleep_for(400ms);
  bool const sent = c.send("after the pause");
  auto const reply = sent ? c.read() : std::nullopt;
  INFO("request_timeout 100 ms; after a pause of 400 ms: " << (reply ? "got " + printable(reply->data) : c.error)
       << ". Which deadline does the WebSocket's tcp_stream still carry?");
  REQUIRE(reply);
  CHECK(reply->data == "AFTER THE PAUSE");
  CHECK(c.close());
}

TEST_CASE("GET /ws without a WebSocket handshake gets 426 naming websocket", "[AC7]")
{
  running_server s;
  line_client c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(request_text("/ws", {})));
  auto const refused = c.read_response(1000ms);
  INFO("GET /ws without a handshake: " << (refused ? printable(refused->head.raw) : "no response; received " + printable(c.unread())));
  REQUIRE(refused);
  CHECK(refused->head.status == 426);
  CHECK(refused->head.has_token("Upgrade", "websocket"));
  REQUIRE(c.send(request_text("/missing", {})));
  auto const next = c.read_response(1000ms);
  INFO("then GET /missing on the same connection: " << (next ? printable(next->head.raw) : "no response"));
  REQUIRE(next);
  CHECK(next->head.status == 404);
}

TEST_CASE("headless Chromium's WebSocket gets its messages back uppercased", "[AC7]")
{
  auto const chromium = workbook::find_program("chromium");
  if (!chromium) WORKBOOK_SKIP("chromium is not installed: apt install chromium");

  running_server s;
  std::vector<std::string> const messages = {"hello from a browser", "Gr\xc3\xbc\xc3\x9f" "e, {world}", "third",
                                             "fourth message", "the fifth"};
  nlohmann::json page_messages = messages;

  // The page comes from a test server of its own (another origin: a
  // WebSocket is not bound by the same-origin policy), opens a WebSocket on
  // your /ws, sends the messages, and reports what came back.
  std::mutex mutex;
  nlohmann::json report;
  auto page_server = workbook::test_server::serving([&](workbook::request const& req) {
    if (req.method == "POST" && req.target == "/report") {
      auto parsed = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      std::lock_guard lock(mutex);
      if (parsed.is_object() && parsed.contains("got") && parsed["got"].is_array() &&
          (report.is_null() || parsed["got"].size() >= report["got"].size()))
        report = std::move(parsed);
      return workbook::response{204, "No Content", {}, "", ""};
    }
    std::string const page = R"(<!doctype html>
<meta charset="utf-8">
<title>task 17</title>
<script>
const messages = )" + page_messages.dump() + R"(;
const seen = { got: [], kinds: [], opened: false, error: false, closed: null };
function send() { fetch('/report', { method: 'POST', body: JSON.stringify(seen) }).catch(() => {}); }
const ws = new WebSocket('ws://127.0.0.1:)" + std::to_string(s.port) + R"(/ws');
ws.onopen = () => { seen.opened = true; for (const m of messages) ws.send(m); };
ws.onmessage = (e) => {
  seen.got.push(e.data);
  seen.kinds.push(typeof e.data);
  if (seen.got.length === messages.length) { send(); ws.close(1000); }
};
ws.onerror = () => { seen.error = true; send(); };
ws.onclose = (e) => { seen.closed = e.code; send(); };
</script>
)";
    return workbook::response{200, "OK", {{"Content-Type", "text/html; charset=utf-8"}}, page, ""};
  });

  // Before the browser: the WebSocket must work at all.
  {
    ws_client c(s.port);
    INFO(c.error);
    REQUIRE(c.open);
    REQUIRE(c.close());
  }

  workbook::temp_dir dir("task17-browser");
  auto const start = clock_type::now();
  bool reported = false;
  {
    workbook::headless_browser browser(*chromium, dir.path(), page_server.url() + "/");
    reported = workbook::eventually(
        [&] {
          std::lock_guard lock(mutex);
          // All the replies, or the page has given up (an error, a close).
          return !report.is_null() && (report["got"].size() >= messages.size() || report["error"] == true ||
                                       !report["closed"].is_null());
        },
        20000ms);
  }
  std::lock_guard lock(mutex);
  INFO("after " << since(start).count() << " ms the page reported: "
                << (report.is_null() ? std::string("(nothing)") : report.dump())
                << "\nchromium's output, last lines:" << workbook::last_lines(dir.path() / "chromium.log"));
  REQUIRE(reported);
  REQUIRE(report["got"].size() >= messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    INFO("message " << i + 1 << ": sent " << printable(messages[i]));
    CHECK(report["got"][i].get<std::string>() == upper(messages[i]));
    CHECK(report["kinds"][i].get<std::string>() == "string");  // a text message
  }
}
