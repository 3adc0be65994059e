// Task 13 · [AC1]: the frame header, and the bytes a real client sent.
// The captures are nghttp's, made by test/fixtures/capture.py; what nghttp
// printed about the frames it sent (*.nghttp.txt) is the oracle: your
// decoder must find in the bytes exactly the frames nghttp says it wrote.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace task13_test;
using task13::priority_fields;
using task13::setting;
namespace flag = task13::flag;

namespace {

std::size_t first_of(std::vector<frame> const& frames, frame_type t)
{
  auto it = std::find_if(frames.begin(), frames.end(), [&](frame const& f) { return f.type == t; });
  return static_cast<std::size_t>(it - frames.begin());
}

} // namespace

TEST_CASE("the frame header: a 24-bit length, the type, the flags and a 31-bit stream id without its R bit", "[AC1]")
{
  // Lengths whose three bytes all count (the decoder allows the largest
  // frames here), an unknown type with every flag set, and stream ids with
  // the reserved bit set, which the receiver must ignore (RFC 9113 §4.1).
  std::string const big(0x012345, 'b');     // 74565 bytes
  std::string const data(0x010203, 'd');    // 66051 bytes
  auto const bytes = from_server(frame_bytes(0xfa, 0xff, 0x80000005u, big) +
                                 frame_bytes(frame_type::data, 0x00, 0xffffffffu, data) +
                                 frame_bytes(frame_type::data, flag::end_stream, 0x00000003u, "xyz"));
  auto const d = decode_all(sender::server, bytes, task13::largest_max_frame_size);
  INFO(describe(d));
  REQUIRE(d.clean());
  REQUIRE(d.frames.size() == 4);

  auto const& unknown = d.frames[1];
  CHECK(static_cast<unsigned>(unknown.type) == 0xfa);
  CHECK(unknown.length == 0x012345);
  CHECK(unsigned(unknown.flags) == 0xff);
  CHECK(unknown.stream_id == 5);
  CHECK(unknown.payload == big);

  CHECK(d.frames[2].type == frame_type::data);
  CHECK(d.frames[2].length == 0x010203);
  CHECK(d.frames[2].stream_id == 0x7fffffff);
  CHECK(d.frames[2].payload == data);

  CHECK(d.frames[3].length == 3);
  CHECK(d.frames[3].has(flag::end_stream));
  CHECK(d.frames[3].stream_id == 3);
  CHECK(d.frames[3].payload == "xyz");
  CHECK(d.buffered == 0);
}

TEST_CASE("31-bit fields drop their reserved bit; the E bit of a dependency is its own field", "[AC1]")
{
  auto const bytes = from_server(
      frame_bytes(frame_type::window_update, 0, 0x80000001u, be(0x80000010u, 4)) +    // R bits on both
      frame_bytes(frame_type::priority, 0, 9, be(0x80000007u, 4) + be(255, 1)) +       // exclusive, on 7, weight 256
      frame_bytes(frame_type::goaway, 0, 0, be(0x80000003u, 4) + be(0x8, 4) + "bye") +
      frame_bytes(frame_type::push_promise, flag::end_headers, 1, be(0x80000002u, 4) + "hpack"));
  auto const d = decode_all(sender::server, bytes);
  INFO(describe(d));
  REQUIRE(d.clean());
  REQUIRE(d.frames.size() == 5);
  CHECK(d.frames[1].stream_id == 1);
  CHECK(d.frames[1].window_increment == 16);
  REQUIRE(d.frames[2].priority);
  CHECK(*d.frames[2].priority == priority_fields{true, 7, 256});
  CHECK(d.frames[3].last_stream_id == 3);
  CHECK(d.frames[3].error_code == static_cast<std::uint32_t>(task13::h2_error::cancel));
  CHECK(d.frames[3].payload == "bye");
  CHECK(d.frames[4].promised_stream_id == 2);
  CHECK(d.frames[4].payload == "hpack");
}

TEST_CASE("the client's bytes (nghttp --no-dep): the preface, then exactly the frames nghttp says it sent", "[AC1]")
{
  auto const& bytes = fixture("nodep.c2s.bin");
  REQUIRE(bytes.substr(0, task13::client_preface.size()) == task13::client_preface);
  auto const d = decode_all(sender::client, bytes);
  INFO(describe(d));
  REQUIRE(d.clean());
  CHECK(d.buffered == 0);
  CHECK(as_seen(d.frames, "send") == nghttp_frames(fixture("nodep.nghttp.txt"), "send"));
  REQUIRE(!d.frames.empty());

  // SETTINGS first, before any HEADERS, with nghttp's two settings.
  auto const& settings = d.frames.front();
  CHECK(settings.type == frame_type::settings);
  CHECK_FALSE(settings.has(flag::ack));
  CHECK(settings.stream_id == 0);
  CHECK(settings.settings == std::vector<setting>{{task13::setting_id::max_concurrent_streams, 100},
                                                  {task13::setting_id::initial_window_size, 65535}});

  // The request: the first HEADERS, on an odd stream (a client's), the
  // whole header block in one frame and no body (a GET).
  auto const at = first_of(d.frames, frame_type::headers);
  REQUIRE(at < d.frames.size());
  CHECK(first_of(d.frames, frame_type::settings) < at);
  auto const& request = d.frames[at];
  CHECK(request.stream_id % 2 == 1);
  CHECK(request.stream_id == 1);
  CHECK(request.has(flag::end_headers));
  CHECK(request.has(flag::end_stream));
  CHECK_FALSE(request.has(flag::padded));
  CHECK(request.payload.size() == request.length);

  // The client's flow control: it gave the server more window on the
  // connection (stream 0) and on the request's stream, as it read.
  std::uint64_t connection = 0, stream = 0;
  for (auto const& f : d.frames)
    if (f.type == frame_type::window_update) (f.stream_id == 0 ? connection : stream) += f.window_increment;
  CHECK(connection > 0);
  CHECK(stream > 0);
  // 65535 to start with, and what it granted since: enough for 100,000 bytes.
  CHECK(65535 + stream >= captured_file_size);
}

TEST_CASE("the client's bytes without --no-dep: PRIORITY frames on streams 3 to 11, then the request on stream 13", "[AC1]")
{
  auto const d = decode_all(sender::client, fixture("dep.c2s.bin"));
  INFO(describe(d));
  REQUIRE(d.clean());
  CHECK(d.buffered == 0);
  // nghttp's own account includes the priority fields (dep_stream_id,
  // weight, exclusive) of every PRIORITY frame and of the request.
  CHECK(as_seen(d.frames, "send") == nghttp_frames(fixture("dep.nghttp.txt"), "send"));

  auto const at = first_of(d.frames, frame_type::headers);
  REQUIRE(at < d.frames.size());
  std::vector<std::uint32_t> priority_streams;
  for (std::size_t i = 0; i < at; ++i)
    if (d.frames[i].type == frame_type::priority) priority_streams.push_back(d.frames[i].stream_id);
  CHECK(priority_streams == std::vector<std::uint32_t>{3, 5, 7, 9, 11});
  CHECK(d.frames.front().type == frame_type::settings);

  // The trap: the request is not on stream 1, and its HEADERS carry
  // priority fields in front of the header block.
  auto const& request = d.frames[at];
  CHECK(request.stream_id == 13);
  CHECK(request.has(flag::end_headers));
  CHECK(request.has(flag::end_stream));
  CHECK(request.has(flag::priority));
  REQUIRE(request.priority);
  CHECK(*request.priority == priority_fields{false, 11, 16});
  CHECK(request.payload.size() == request.length - 5);
  // The header block is HPACK: its first byte here is 0x82, ":method: GET"
  // from the static table, not a byte of the priority fields.
  REQUIRE(!request.payload.empty());
  CHECK(static_cast<unsigned char>(request.payload[0]) == 0x82);
}
