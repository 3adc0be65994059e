// Task 13 · [AC4]: bytes that break a rule of RFC 9113 give an error value
// that says which rule (the error code the RFC prescribes and the section
// that states the rule), never a crash, never an exception, and never a
// wait for bytes that cannot make the frame right.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task13_test;
using task13::h2_error;
namespace flag = task13::flag;
namespace id = task13::setting_id;

namespace {

struct broken_case {
  char const* what;
  sender from;
  std::string bytes;
  h2_error code;
  char const* section;
};

std::string const request_block = "\x82\x86\x84";  // HPACK: GET, http, /

std::vector<broken_case> broken_cases()
{
  auto const S = [](std::string const& rest) { return from_server(rest); };
  auto const C = [](std::string const& rest) { return from_client(rest); };
  auto const wu = [](std::uint32_t stream, std::uint32_t incr) {
    return frame_bytes(frame_type::window_update, 0, stream, be(incr, 4));
  };
  std::string const pri5 = be(3, 4) + be(15, 1);  // depends on 3, weight 16
  return {
      {"a preface whose last byte is wrong", sender::client,
       std::string(task13::client_preface.substr(0, 23)) + "X" + empty_settings(), h2_error::protocol_error, "3.4"},
      {"an HTTP/1.1 request instead of the preface", sender::client, "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
       h2_error::protocol_error, "3.4"},
      {"a client whose first frame is HEADERS", sender::client,
       std::string(task13::client_preface) + frame_bytes(frame_type::headers, 0x5, 1, request_block),
       h2_error::protocol_error, "3.4"},
      {"a server whose first frame is WINDOW_UPDATE", sender::server, wu(0, 100), h2_error::protocol_error, "3.4"},
      {"a server whose first frame is a SETTINGS ACK", sender::server, frame_bytes(frame_type::settings, flag::ack, 0, ""),
       h2_error::protocol_error, "3.4"},

      {"a DATA frame of 16385 bytes", sender::server, S(frame_bytes(frame_type::data, 0, 1, std::string(16385, 'x'))),
       h2_error::frame_size_error, "4.2"},
      {"an unknown frame type of 20000 bytes", sender::server, S(frame_bytes(0x42, 0, 0, std::string(20000, 'x'))),
       h2_error::frame_size_error, "4.2"},
      {"a PADDED DATA frame of length 0", sender::server, S(frame_bytes(frame_type::data, flag::padded, 1, "")),
       h2_error::frame_size_error, "4.2"},
      {"a HEADERS frame with PRIORITY and 4 bytes", sender::server,
       S(frame_bytes(frame_type::headers, flag::priority | flag::end_headers, 1, be(3, 4))), h2_error::frame_size_error,
       "4.2"},
      {"a PADDED HEADERS frame with PRIORITY and 5 bytes", sender::server,
       S(frame_bytes(frame_type::headers, flag::padded | flag::priority | flag::end_headers, 1, be(0, 1) + be(3, 4))),
       h2_error::frame_size_error, "4.2"},
      {"a PUSH_PROMISE of 3 bytes", sender::server, S(frame_bytes(frame_type::push_promise, flag::end_headers, 1, "abc")),
       h2_error::frame_size_error, "4.2"},
      {"a GOAWAY of 7 bytes", sender::server, S(frame_bytes(frame_type::goaway, 0, 0, be(0, 4) + be(0, 3))),
       h2_error::frame_size_error, "4.2"},

      {"DATA on stream 0", sender::server, S(frame_bytes(frame_type::data, 0, 0, "data")), h2_error::protocol_error, "6.1"},
      {"DATA whose padding is longer than what follows Pad Length", sender::server,
       S(frame_bytes(frame_type::data, flag::padded, 1, be(5, 1) + "abcd")), h2_error::protocol_error, "6.1"},
      {"DATA with 255 bytes of padding and 254 after Pad Length", sender::server,
       S(frame_bytes(frame_type::data, flag::padded, 1, be(255, 1) + std::string(254, '\0'))), h2_error::protocol_error,
       "6.1"},
      {"HEADERS on stream 0", sender::server, S(frame_bytes(frame_type::headers, 0x4, 0, request_block)),
       h2_error::protocol_error, "6.2"},
      {"HEADERS whose padding is longer than what follows Pad Length", sender::server,
       S(frame_bytes(frame_type::headers, flag::padded | flag::end_headers, 1, be(10, 1) + std::string(9, '\0'))),
       h2_error::protocol_error, "6.2"},

      {"PRIORITY on stream 0", sender::server, S(frame_bytes(frame_type::priority, 0, 0, pri5)), h2_error::protocol_error,
       "6.3"},
      {"PRIORITY of 4 bytes", sender::server, S(frame_bytes(frame_type::priority, 0, 5, be(3, 4))),
       h2_error::frame_size_error, "6.3"},
      {"PRIORITY of 6 bytes", sender::server, S(frame_bytes(frame_type::priority, 0, 5, pri5 + "x")),
       h2_error::frame_size_error, "6.3"},
      {"RST_STREAM on stream 0", sender::server, S(frame_bytes(frame_type::rst_stream, 0, 0, be(8, 4))),
       h2_error::protocol_error, "6.4"},
      {"RST_STREAM of 3 bytes", sender::server, S(frame_bytes(frame_type::rst_stream, 0, 1, be(8, 3))),
       h2_error::frame_size_error, "6.4"},

      {"SETTINGS on stream 1", sender::server, S(frame_bytes(frame_type::settings, 0, 1, "")), h2_error::protocol_error,
       "6.5"},
      {"SETTINGS ACK with an entry", sender::server,
       S(frame_bytes(frame_type::settings, flag::ack, 0, settings_payload({{id::max_concurrent_streams, 1}}))),
       h2_error::frame_size_error, "6.5"},
      {"SETTINGS of 10 bytes", sender::server,
       S(frame_bytes(frame_type::settings, 0, 0, settings_payload({{id::max_concurrent_streams, 1}}) + "abcd")),
       h2_error::frame_size_error, "6.5"},
      {"SETTINGS of 4 bytes", sender::server, S(frame_bytes(frame_type::settings, 0, 0, "abcd")),
       h2_error::frame_size_error, "6.5"},
      {"a client's first SETTINGS of 8 bytes", sender::client,
       std::string(task13::client_preface) + frame_bytes(frame_type::settings, 0, 0, be(3, 2) + be(100, 4) + be(4, 2)),
       h2_error::frame_size_error, "6.5"},
      {"ENABLE_PUSH of 2", sender::server,
       S(frame_bytes(frame_type::settings, 0, 0, settings_payload({{id::enable_push, 2}}))), h2_error::protocol_error,
       "6.5.2"},
      {"INITIAL_WINDOW_SIZE of 2^31", sender::server,
       S(frame_bytes(frame_type::settings, 0, 0, settings_payload({{id::initial_window_size, 0x80000000u}}))),
       h2_error::flow_control_error, "6.5.2"},
      {"MAX_FRAME_SIZE of 16383", sender::server,
       S(frame_bytes(frame_type::settings, 0, 0, settings_payload({{id::max_frame_size, 16383}}))),
       h2_error::protocol_error, "6.5.2"},
      {"MAX_FRAME_SIZE of 2^24", sender::server,
       S(frame_bytes(frame_type::settings, 0, 0, settings_payload({{id::max_frame_size, 1u << 24}}))),
       h2_error::protocol_error, "6.5.2"},

      {"PUSH_PROMISE on stream 0", sender::server,
       S(frame_bytes(frame_type::push_promise, flag::end_headers, 0, be(2, 4) + request_block)), h2_error::protocol_error,
       "6.6"},
      {"PUSH_PROMISE whose padding is longer than what follows Pad Length and the promised id", sender::server,
       S(frame_bytes(frame_type::push_promise, flag::padded | flag::end_headers, 1, be(3, 1) + be(2, 4) + "ab")),
       h2_error::protocol_error, "6.6"},
      {"PING on stream 1", sender::server, S(frame_bytes(frame_type::ping, 0, 1, "12345678")), h2_error::protocol_error,
       "6.7"},
      {"PING of 7 bytes", sender::server, S(frame_bytes(frame_type::ping, 0, 0, "1234567")), h2_error::frame_size_error,
       "6.7"},
      {"PING of 9 bytes", sender::server, S(frame_bytes(frame_type::ping, flag::ack, 0, "123456789")),
       h2_error::frame_size_error, "6.7"},
      {"GOAWAY on stream 1", sender::server, S(frame_bytes(frame_type::goaway, 0, 1, be(0, 4) + be(0, 4))),
       h2_error::protocol_error, "6.8"},
      {"WINDOW_UPDATE of 3 bytes", sender::server, S(frame_bytes(frame_type::window_update, 0, 0, be(100, 3))),
       h2_error::frame_size_error, "6.9"},
      {"WINDOW_UPDATE of 8 bytes", sender::server, S(frame_bytes(frame_type::window_update, 0, 1, be(100, 8))),
       h2_error::frame_size_error, "6.9"},
      {"WINDOW_UPDATE of 0 on the connection", sender::server, S(wu(0, 0)), h2_error::protocol_error, "6.9"},
      {"WINDOW_UPDATE of 0 on a stream", sender::client, C(wu(1, 0)), h2_error::protocol_error, "6.9"},
      {"WINDOW_UPDATE whose only bit is the reserved one", sender::server, S(wu(3, 0x80000000u)),
       h2_error::protocol_error, "6.9"},

      {"a CONTINUATION on stream 0, after a HEADERS of stream 1 left open", sender::server,
       S(frame_bytes(frame_type::headers, 0, 1, request_block) + frame_bytes(frame_type::continuation, 0x4, 0, "x")),
       h2_error::protocol_error, "6.10"},
      {"DATA where the CONTINUATION of an open header block must come", sender::server,
       S(frame_bytes(frame_type::headers, 0, 1, request_block) + frame_bytes(frame_type::data, 0, 1, "x")),
       h2_error::protocol_error, "6.10"},
      {"a CONTINUATION on another stream than the open header block's", sender::client,
       C(frame_bytes(frame_type::headers, flag::end_stream, 1, request_block) +
         frame_bytes(frame_type::continuation, flag::end_headers, 3, "x")),
       h2_error::protocol_error, "6.10"},
      {"a PING between a PUSH_PROMISE left open and its CONTINUATION", sender::server,
       S(frame_bytes(frame_type::push_promise, 0, 1, be(2, 4) + request_block) +
         frame_bytes(frame_type::ping, 0, 0, "12345678") + frame_bytes(frame_type::continuation, flag::end_headers, 1, "x")),
       h2_error::protocol_error, "6.10"},
      {"a CONTINUATION after a HEADERS that ended its block", sender::server,
       S(frame_bytes(frame_type::headers, flag::end_headers, 1, request_block) +
         frame_bytes(frame_type::continuation, flag::end_headers, 1, "x")),
       h2_error::protocol_error, "6.10"},
  };
}

std::string error_problem(decoded const& d, broken_case const& c)
{
  if (!d.threw.empty()) return "it threw " + d.threw;
  if (!d.error) return "no error: " + describe(d);
  std::string p;
  if (d.error->code != c.code)
    p += "code " + Catch::StringMaker<h2_error>::convert(d.error->code) + ", expected " +
         Catch::StringMaker<h2_error>::convert(c.code) + "; ";
  if (d.error->section != c.section) p += "section \"" + d.error->section + "\", expected \"" + c.section + "\"; ";
  if (d.error->message.empty()) p += "no message; ";
  return p;
}

} // namespace

TEST_CASE("each rule broken gives its error code and RFC 9113 section, whole or byte by byte, and nothing thrown", "[AC4]")
{
  for (auto const& c : broken_cases()) {
    auto const whole = decode_all(c.from, c.bytes);
    auto const problem = error_problem(whole, c);
    INFO(c.what << " (" << printable(c.bytes) << "): " << problem << "\n  " << describe(whole));
    CHECK(problem == "");
    auto const bytewise = decode_bytewise(c.from, c.bytes);
    INFO("one byte at a time: " << describe(bytewise));
    CHECK(error_problem(bytewise, c) == "");
  }
}

TEST_CASE("frames at the edges of the rules are no error", "[AC4]")
{
  auto const good = from_server(
      frame_bytes(frame_type::data, 0, 1, std::string(16384, 'x')) +                                // exactly the limit
      frame_bytes(frame_type::data, flag::padded, 1, be(4, 1) + "abcd") +                           // all padding
      frame_bytes(frame_type::headers, 0, 3, request_block) +                                        // a block left open...
      frame_bytes(frame_type::continuation, 0, 3, "a") +                                             // ... continued
      frame_bytes(frame_type::continuation, flag::end_headers, 3, "b") +                             // ... and ended
      frame_bytes(frame_type::headers, flag::padded | flag::priority | flag::end_headers, 5,
                  be(2, 1) + be(3, 4) + be(0, 1) + std::string(2, '\0')) +                                        // padding, priority, empty block
      frame_bytes(frame_type::settings, 0, 0,
                  settings_payload({{id::enable_push, 1}, {id::enable_push, 0}, {id::max_frame_size, 16384},
                                    {id::max_frame_size, (1u << 24) - 1}, {id::initial_window_size, 0x7fffffff},
                                    {0x99, 7}})) +                                                   // an unknown setting
      frame_bytes(frame_type::window_update, 0, 0, be(0x7fffffff, 4)) +
      frame_bytes(frame_type::rst_stream, 0, 1, be(0x1234, 4)) +                                     // an unknown error code
      frame_bytes(0x0b, 0x3, 7, "whatever") +                                                        // an unknown type
      frame_bytes(frame_type::goaway, 0, 0, be(1, 4) + be(0, 4)));
  auto const d = decode_all(sender::server, good);
  INFO(describe(d));
  CHECK(d.clean());
  CHECK(d.frames.size() == 12);
  CHECK(d.buffered == 0);
  if (d.frames.size() == 12) {
    CHECK(d.frames[2].payload.empty());
    CHECK(d.frames[2].pad_length == 4);
    CHECK(d.frames[6].payload.empty());
    CHECK(d.frames[6].pad_length == 2);
    CHECK(d.frames[7].settings.size() == 6);
    CHECK(d.frames[9].error_code == 0x1234);
  }

  // A decoder that advertised a larger SETTINGS_MAX_FRAME_SIZE takes larger frames.
  auto const large = from_server(frame_bytes(frame_type::data, 0, 1, std::string(16385, 'x')));
  auto const big = decode_all(sender::server, large, 16385);
  INFO(describe(big));
  CHECK(big.clean());
  CHECK(big.frames.size() == 2);
}

TEST_CASE("a frame too large is refused as soon as its 9-byte header has come, before any of its payload", "[AC4]")
{
  for (std::uint32_t announced : {16385u, 0x100000u, 0xffffffu}) {
    task13::frame_decoder d(sender::server);
    d.feed(empty_settings());
    auto const first = d.next();
    REQUIRE(std::holds_alternative<frame>(first));
    // The header of a DATA frame announcing more than 16384 bytes, and not
    // one byte of its payload: waiting for it would mean holding it.
    d.feed(frame_bytes(frame_type::data, 0, 1, "", announced));
    auto const r = d.next();
    auto const* e = std::get_if<frame_error>(&r);
    INFO("a header announcing " << announced << " bytes: "
                                << (e ? describe(*e) : std::holds_alternative<frame>(r) ? "a frame" : "need_more"));
    REQUIRE(e);
    CHECK(e->code == h2_error::frame_size_error);
    CHECK(e->section == "4.2");
  }
}

TEST_CASE("a wrong preface is refused at its first wrong byte, not after 24 bytes", "[AC4]")
{
  {
    // A short HTTP/1.1 request: 18 bytes, fewer than the preface's 24.
    task13::frame_decoder d(sender::client);
    d.feed("GET / HTTP/1.1\r\n\r\n");
    auto const r = d.next();
    auto const* e = std::get_if<frame_error>(&r);
    INFO("after \"GET / HTTP/1.1\\r\\n\\r\\n\": " << (e ? describe(*e) : "no error"));
    REQUIRE(e);
    CHECK(e->code == h2_error::protocol_error);
    CHECK(e->section == "3.4");
  }
  {
    // 23 right bytes: not yet anything to refuse. Then a wrong one.
    task13::frame_decoder d(sender::client);
    d.feed(task13::client_preface.substr(0, 23));
    CHECK(std::holds_alternative<task13::need_more>(d.next()));
    d.feed("?");
    auto const r = d.next();
    auto const* e = std::get_if<frame_error>(&r);
    INFO("after 23 bytes of the preface and a '?': " << (e ? describe(*e) : "no error"));
    REQUIRE(e);
    CHECK(e->section == "3.4");
  }
  {
    task13::frame_decoder d(sender::client);
    d.feed("PRI * HTTP/1.1");  // wrong at byte 12
    auto const r = d.next();
    CHECK(std::holds_alternative<frame_error>(r));
  }
}

TEST_CASE("after an error the decoder reports it again, whatever is fed", "[AC4]")
{
  task13::frame_decoder d(sender::server);
  d.feed(from_server(frame_bytes(frame_type::window_update, 0, 0, be(0, 4))));
  auto first = d.next();
  REQUIRE(std::holds_alternative<frame>(first));  // the SETTINGS
  auto const r = d.next();
  auto const* e = std::get_if<frame_error>(&r);
  REQUIRE(e);
  CHECK(e->section == "6.9");
  d.feed(frame_bytes(frame_type::ping, 0, 0, "12345678"));
  for (int i = 0; i < 3; ++i) {
    auto const again = d.next();
    auto const* same = std::get_if<frame_error>(&again);
    REQUIRE(same);
    CHECK(*same == *e);
  }
}
