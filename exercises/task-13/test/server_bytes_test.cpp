// Task 13 · [AC2]: the bytes a real server sent: nghttpd answering a GET for
// a 100,000-byte file, and the same with padding on both sides. nghttp's
// account of the frames it received (*.nghttp.txt) is the oracle; the file's
// bytes (capture.py made them) are the other.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

using namespace task13_test;
namespace flag = task13::flag;

namespace {

// The response on `stream`: its DATA frames' data, in order, and what is
// wrong with how they end ("" when nothing is).
struct body {
  std::string data;
  std::size_t frames = 0;
  std::string problem;
};

body response_body(std::vector<frame> const& frames, std::uint32_t stream)
{
  body b;
  bool ended = false;
  for (auto const& f : frames) {
    if (f.type != frame_type::data || f.stream_id != stream) continue;
    if (ended && b.problem.empty()) b.problem = "a DATA frame after the one with END_STREAM";
    ++b.frames;
    b.data += f.payload;
    ended = f.has(flag::end_stream);
  }
  if (!ended && b.problem.empty()) b.problem = "the last DATA frame has no END_STREAM";
  return b;
}

} // namespace

TEST_CASE("the server's bytes: SETTINGS first, then the response, its DATA adding up to exactly 100000 bytes", "[AC2]")
{
  auto const d = decode_all(sender::server, fixture("nodep.s2c.bin"));
  INFO(describe(d));
  REQUIRE(d.clean());
  CHECK(d.buffered == 0);
  CHECK(as_seen(d.frames, "recv") == nghttp_frames(fixture("nodep.nghttp.txt"), "recv"));
  REQUIRE(d.frames.size() >= 3);

  CHECK(d.frames[0].type == frame_type::settings);
  CHECK_FALSE(d.frames[0].has(flag::ack));
  bool acked = false;
  for (auto const& f : d.frames) acked = acked || (f.type == frame_type::settings && f.has(flag::ack));
  CHECK(acked);

  // The response's HEADERS on the request's stream, with more to come.
  frame const* headers = nullptr;
  for (auto const& f : d.frames)
    if (f.type == frame_type::headers && !headers) headers = &f;
  REQUIRE(headers);
  CHECK(headers->stream_id == 1);
  CHECK(headers->has(flag::end_headers));
  CHECK_FALSE(headers->has(flag::end_stream));

  auto const b = response_body(d.frames, 1);
  INFO(b.frames << " DATA frames");
  CHECK(b.problem == "");
  CHECK(b.data.size() == captured_file_size);
  CHECK(b.data == captured_file());
  for (auto const& f : d.frames) {
    if (f.type != frame_type::data) continue;
    CHECK(f.length <= task13::default_max_frame_size);
    CHECK(f.payload.size() == f.length);  // not padded: every byte is data
  }
}

TEST_CASE("the server's bytes without --no-dep: the response on stream 13", "[AC2]")
{
  auto const d = decode_all(sender::server, fixture("dep.s2c.bin"));
  INFO(describe(d));
  REQUIRE(d.clean());
  CHECK(as_seen(d.frames, "recv") == nghttp_frames(fixture("dep.nghttp.txt"), "recv"));
  auto const b = response_body(d.frames, 13);
  CHECK(b.problem == "");
  CHECK(b.data == captured_file());
  CHECK(response_body(d.frames, 1).frames == 0);
}

TEST_CASE("padded frames (nghttpd -b 64, nghttp -b 64): Pad Length and padding are taken out, the data still adds up to 100000", "[AC2]")
{
  auto const server = decode_all(sender::server, fixture("padded.s2c.bin"));
  INFO("server: " << describe(server));
  REQUIRE(server.clean());
  CHECK(server.buffered == 0);
  // nghttp lists "(padlen=N)" for each padded frame: N counts the Pad Length byte.
  CHECK(as_seen(server.frames, "recv") == nghttp_frames(fixture("padded.nghttp.txt"), "recv"));

  int padded = 0;
  for (auto const& f : server.frames) {
    if (!f.has(flag::padded) || (f.type != frame_type::data && f.type != frame_type::headers)) continue;
    ++padded;
    CHECK(f.pad_length > 0);
    CHECK(f.payload.size() == f.length - 1 - f.pad_length);
  }
  CHECK(padded >= 2);  // the response's HEADERS and its last DATA
  auto const b = response_body(server.frames, 1);
  CHECK(b.problem == "");
  CHECK(b.data.size() == captured_file_size);
  CHECK(b.data == captured_file());

  auto const client = decode_all(sender::client, fixture("padded.c2s.bin"));
  INFO("client: " << describe(client));
  REQUIRE(client.clean());
  CHECK(as_seen(client.frames, "send") == nghttp_frames(fixture("padded.nghttp.txt"), "send"));
  frame const* request = nullptr;
  for (auto const& f : client.frames)
    if (f.type == frame_type::headers && !request) request = &f;
  REQUIRE(request);
  CHECK(request->has(flag::padded));
  CHECK(request->payload.size() == request->length - 1 - request->pad_length);
  // The header block starts where the padding's length byte ends.
  REQUIRE(!request->payload.empty());
  CHECK(static_cast<unsigned char>(request->payload[0]) == 0x82);
}
