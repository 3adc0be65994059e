// Task 13 · [AC6]: the printer. One line per frame, the way Go's
// GODEBUG=http2debug=2 and `nghttp -v` show a connection: the captured
// session against an expected trace, then every frame type's details and
// flag names on frames built by hand (so that these cases test the printer
// alone, whatever the decoder does).
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task13_test;
using task13::direction;
using task13::priority_fields;
namespace flag = task13::flag;
namespace id = task13::setting_id;

namespace {

frame make(frame_type type, std::uint8_t flags, std::uint32_t stream, std::uint32_t length)
{
  frame f;
  f.type = type;
  f.flags = flags;
  f.stream_id = stream;
  f.length = length;
  return f;
}

// The session as nghttp lived it: each frame line of its -v output,
// replaced by your trace_line() for the decoded frame it names.
std::string session_trace(std::string const& capture)
{
  auto const sent = decode_all(sender::client, fixture(capture + ".c2s.bin"));
  auto const received = decode_all(sender::server, fixture(capture + ".s2c.bin"));
  REQUIRE(sent.clean());
  REQUIRE(received.clean());
  auto const order = nghttp_frames(fixture(capture + ".nghttp.txt"), "send");
  auto const order_recv = nghttp_frames(fixture(capture + ".nghttp.txt"), "recv");
  REQUIRE(order.size() == sent.frames.size());
  REQUIRE(order_recv.size() == received.frames.size());
  // nghttp_frames() keeps one way; walk the text again for the interleaving.
  std::string out;
  std::size_t s = 0, r = 0;
  std::istringstream in(fixture(capture + ".nghttp.txt"));
  for (std::string l; std::getline(in, l);) {
    if (l.find(" frame <length=") == std::string::npos) continue;
    if (l.find("] send ") != std::string::npos) out += trace_line(sent.frames.at(s++), direction::send) + "\n";
    else if (l.find("] recv ") != std::string::npos) out += trace_line(received.frames.at(r++), direction::recv) + "\n";
  }
  return out;
}

} // namespace

TEST_CASE("the trace of the captured session (nghttp --no-dep against nghttpd), one line per frame", "[AC6]")
{
  std::string const expected =
      "send SETTINGS stream=0 len=12 settings=[MAX_CONCURRENT_STREAMS=100 INITIAL_WINDOW_SIZE=65535]\n"
      "send HEADERS stream=1 flags=END_STREAM|END_HEADERS len=39 block=39\n"
      "recv SETTINGS stream=0 len=6 settings=[MAX_CONCURRENT_STREAMS=100]\n"
      "send SETTINGS stream=0 flags=ACK len=0\n"
      "recv SETTINGS stream=0 flags=ACK len=0\n"
      "recv HEADERS stream=1 flags=END_HEADERS len=87 block=87\n"
      "recv DATA stream=1 len=16384 data=16384\n"
      "recv DATA stream=1 len=16384 data=16384\n"
      "recv DATA stream=1 len=16384 data=16384\n"
      "recv DATA stream=1 len=16383 data=16383\n"
      "send WINDOW_UPDATE stream=0 len=4 incr=32768\n"
      "send WINDOW_UPDATE stream=1 len=4 incr=32768\n"
      "send WINDOW_UPDATE stream=0 len=4 incr=32767\n"
      "send WINDOW_UPDATE stream=1 len=4 incr=32767\n"
      "recv DATA stream=1 len=16384 data=16384\n"
      "recv DATA stream=1 len=16384 data=16384\n"
      "recv DATA stream=1 flags=END_STREAM len=1697 data=1697\n"
      "send GOAWAY stream=0 len=8 last_stream=0 error=NO_ERROR debug=\"\"\n";
  CHECK(session_trace("nodep") == expected);
}

TEST_CASE("the trace without --no-dep and with padding: priority fields, weights from 1 to 256, pad=", "[AC6]")
{
  auto const dep = session_trace("dep");
  for (char const* line :
       {"send PRIORITY stream=3 len=5 depends_on=0 weight=201 exclusive=0\n",
        "send PRIORITY stream=5 len=5 depends_on=0 weight=101 exclusive=0\n",
        "send PRIORITY stream=7 len=5 depends_on=0 weight=1 exclusive=0\n",
        "send PRIORITY stream=9 len=5 depends_on=7 weight=1 exclusive=0\n",
        "send PRIORITY stream=11 len=5 depends_on=3 weight=1 exclusive=0\n",
        "send HEADERS stream=13 flags=END_STREAM|END_HEADERS|PRIORITY len=44 block=39 depends_on=11 weight=16 exclusive=0\n",
        "recv DATA stream=13 flags=END_STREAM len=1697 data=1697\n"}) {
    INFO("the trace:\n" << dep);
    CHECK_THAT(dep, Catch::Contains(line));
  }
  auto const padded = session_trace("padded");
  for (char const* line : {"send HEADERS stream=1 flags=END_STREAM|END_HEADERS|PADDED len=103 block=39 pad=63\n",
                           "recv HEADERS stream=1 flags=END_HEADERS|PADDED len=151 block=87 pad=63\n",
                           "recv DATA stream=1 flags=END_STREAM|PADDED len=1761 data=1697 pad=63\n"}) {
    INFO("the trace:\n" << padded);
    CHECK_THAT(padded, Catch::Contains(line));
  }
}

TEST_CASE("flags are named by the frame's type: 0x1 is END_STREAM on DATA and ACK on SETTINGS; other bits in hex", "[AC6]")
{
  struct one {
    frame f;
    direction d;
    char const* expected;
  };
  auto headers_all = make(frame_type::headers, 0xff, 1, 6);
  headers_all.pad_length = 0;
  headers_all.priority = priority_fields{};
  auto padded_headers = make(frame_type::headers, flag::padded | flag::end_headers, 3, 10);
  padded_headers.pad_length = 4;
  padded_headers.payload = "abcde";
  auto promise = make(frame_type::push_promise, flag::end_headers | flag::padded, 1, 13);
  promise.promised_stream_id = 2;
  promise.payload = "hpack";
  promise.pad_length = 3;
  auto ping = make(frame_type::ping, flag::ack, 0, 8);
  ping.payload = std::string("\x00\x01\x02\x7f\x80\xfe\xff" "A", 8);
  auto window = make(frame_type::window_update, 0x3, 0, 4);
  window.window_increment = 0x7fffffff;
  auto data = make(frame_type::data, 0x43, 5, 2);
  data.payload = "ok";
  auto rst = make(frame_type::rst_stream, 0x80, 3, 4);
  rst.error_code = 0x8;
  auto unknown = make(static_cast<frame_type>(0x0b), 0x1, 7, 8);
  unknown.payload = "whatever";
  auto continuation = make(frame_type::continuation, flag::end_headers, 3, 1);
  continuation.payload = "x";

  one const cases[] = {
      {make(frame_type::settings, flag::ack, 0, 0), direction::recv, "recv SETTINGS stream=0 flags=ACK len=0"},
      {ping, direction::send, "send PING stream=0 flags=ACK len=8 opaque=0001027f80feff41"},
      {make(frame_type::data, flag::end_stream, 1, 0), direction::send, "send DATA stream=1 flags=END_STREAM len=0 data=0"},
      {headers_all, direction::recv,
       "recv HEADERS stream=1 flags=END_STREAM|END_HEADERS|PADDED|PRIORITY|0xd2 len=6 block=0 pad=0 depends_on=0 "
       "weight=16 exclusive=0"},
      {padded_headers, direction::recv, "recv HEADERS stream=3 flags=END_HEADERS|PADDED len=10 block=5 pad=4"},
      {promise, direction::recv, "recv PUSH_PROMISE stream=1 flags=END_HEADERS|PADDED len=13 promised=2 block=5 pad=3"},
      {continuation, direction::recv, "recv CONTINUATION stream=3 flags=END_HEADERS len=1 block=1"},
      {window, direction::send, "send WINDOW_UPDATE stream=0 flags=0x3 len=4 incr=2147483647"},
      {data, direction::recv, "recv DATA stream=5 flags=END_STREAM|0x42 len=2 data=2"},
      {rst, direction::recv, "recv RST_STREAM stream=3 flags=0x80 len=4 error=CANCEL"},
      {unknown, direction::recv, "recv UNKNOWN_TYPE_11 stream=7 flags=0x1 len=8"},
  };
  for (auto const& c : cases) {
    INFO("the frame: " << describe(c.f));
    CHECK(trace_line(c.f, c.d) == c.expected);
  }
}

TEST_CASE("the decoded payload of SETTINGS, WINDOW_UPDATE, PING, GOAWAY and RST_STREAM", "[AC6]")
{
  auto settings = make(frame_type::settings, 0, 0, 42);
  settings.settings = {{id::header_table_size, 4096},    {id::enable_push, 0},        {id::max_concurrent_streams, 100},
                       {id::initial_window_size, 65535}, {id::max_frame_size, 16384}, {id::max_header_list_size, 8192},
                       {0x99, 7}};
  auto const empty_settings_frame = make(frame_type::settings, 0, 0, 0);
  auto goaway = make(frame_type::goaway, 0, 0, 8 + 15);
  goaway.last_stream_id = 13;
  goaway.error_code = 0xb;
  goaway.payload = std::string("say \"hi\" \\ \x00\x7f\xc3\n", 15);
  auto goaway_unknown = make(frame_type::goaway, 0, 0, 8);
  goaway_unknown.error_code = 0xe;
  auto rst = make(frame_type::rst_stream, 0, 5, 4);
  rst.error_code = 0x1234;
  auto rst_last = make(frame_type::rst_stream, 0, 7, 4);
  rst_last.error_code = 0xd;
  auto ping = make(frame_type::ping, 0, 0, 8);
  ping.payload = std::string(8, '\0');
  auto window = make(frame_type::window_update, 0, 9, 4);
  window.window_increment = 1;
  auto priority = make(frame_type::priority, 0, 9, 5);
  priority.priority = priority_fields{true, 7, 256};

  CHECK(trace_line(settings, direction::recv) ==
        "recv SETTINGS stream=0 len=42 settings=[HEADER_TABLE_SIZE=4096 ENABLE_PUSH=0 MAX_CONCURRENT_STREAMS=100 "
        "INITIAL_WINDOW_SIZE=65535 MAX_FRAME_SIZE=16384 MAX_HEADER_LIST_SIZE=8192 UNKNOWN_SETTING_153=7]");
  CHECK(trace_line(empty_settings_frame, direction::send) == "send SETTINGS stream=0 len=0 settings=[]");
  CHECK(trace_line(goaway, direction::recv) ==
        "recv GOAWAY stream=0 len=23 last_stream=13 error=ENHANCE_YOUR_CALM debug=\"say \\\"hi\\\" \\\\ \\x00\\x7f\\xc3\\x0a\"");
  CHECK(trace_line(goaway_unknown, direction::recv) == "recv GOAWAY stream=0 len=8 last_stream=0 error=0xe debug=\"\"");
  CHECK(trace_line(rst, direction::send) == "send RST_STREAM stream=5 len=4 error=0x1234");
  CHECK(trace_line(rst_last, direction::send) == "send RST_STREAM stream=7 len=4 error=HTTP_1_1_REQUIRED");
  CHECK(trace_line(ping, direction::recv) == "recv PING stream=0 len=8 opaque=0000000000000000");
  CHECK(trace_line(window, direction::recv) == "recv WINDOW_UPDATE stream=9 len=4 incr=1");
  CHECK(trace_line(priority, direction::send) == "send PRIORITY stream=9 len=5 depends_on=7 weight=256 exclusive=1");
}
