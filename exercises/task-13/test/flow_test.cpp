// Task 13 · [AC7]: flow control, from the sender's side. A sender may have
// only as many bytes of DATA in flight as both windows allow, the stream's
// and the connection's; when either is spent it stalls, and it resumes
// exactly when a WINDOW_UPDATE (or a larger SETTINGS_INITIAL_WINDOW_SIZE)
// makes room, not before. The frames fed to the sender are built here, not
// decoded, so these cases test the sender alone.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

using namespace task13_test;
using task13::data_sent;
using task13::flow_sender;
using task13::h2_error;
namespace flag = task13::flag;
namespace id = task13::setting_id;

namespace {

frame window_update(std::uint32_t stream, std::uint32_t increment)
{
  frame f;
  f.type = frame_type::window_update;
  f.length = 4;
  f.stream_id = stream;
  f.window_increment = increment;
  return f;
}

frame settings(std::vector<task13::setting> entries, std::uint8_t flags = 0)
{
  frame f;
  f.type = frame_type::settings;
  f.flags = flags;
  f.length = static_cast<std::uint32_t>(6 * entries.size());
  f.settings = std::move(entries);
  return f;
}

std::string show(std::vector<data_sent> const& frames)
{
  std::ostringstream out;
  out << "[";
  for (auto const& d : frames) out << " {stream " << d.stream_id << ", " << d.length << (d.end_stream ? ", END_STREAM}" : "}");
  out << " ]";
  return out.str();
}

std::vector<std::uint32_t> lengths(std::vector<data_sent> const& frames)
{
  std::vector<std::uint32_t> out;
  for (auto const& d : frames) out.push_back(d.length);
  return out;
}

std::map<std::uint32_t, std::uint64_t> per_stream(std::vector<data_sent> const& frames)
{
  std::map<std::uint32_t, std::uint64_t> out;
  for (auto const& d : frames) out[d.stream_id] += d.length;
  return out;
}

// Sends, and checks that nothing is sent a second time in a row.
std::vector<data_sent> send_all(flow_sender& s)
{
  auto out = s.send();
  auto again = s.send();
  INFO("a second send() right after the first sent " << show(again));
  CHECK(again.empty());
  return out;
}

} // namespace

TEST_CASE("replaying the client's frames, the sender sends what nghttpd sent: 65535 bytes, stall, resume on each WINDOW_UPDATE", "[AC7]")
{
  // What nghttp sent in the capture, and the DATA nghttpd answered with,
  // as nghttp printed them (nodep.nghttp.txt).
  std::vector<std::uint32_t> captured;
  for (auto const& f : nghttp_frames(fixture("nodep.nghttp.txt"), "recv"))
    if (f.type == "DATA") captured.push_back(f.length);

  flow_sender s;
  CHECK_FALSE(s.receive(settings({{id::max_concurrent_streams, 100}, {id::initial_window_size, 65535}})));
  s.write(1, captured_file_size, true);
  CHECK(s.pending(1) == captured_file_size);

  std::vector<data_sent> all;
  auto first = send_all(s);
  INFO("first send(): " << show(first));
  CHECK(lengths(first) == std::vector<std::uint32_t>{16384, 16384, 16384, 16383});
  all.insert(all.end(), first.begin(), first.end());
  // Both windows are spent: the stream stalls, with 100000 - 65535 bytes waiting.
  CHECK(s.connection_window() == 0);
  CHECK(s.stream_window(1) == 0);
  CHECK(s.pending(1) == captured_file_size - 65535);

  // The connection's window alone does not let the stream go...
  CHECK_FALSE(s.receive(window_update(0, 32768)));
  auto after_connection = send_all(s);
  INFO("after WINDOW_UPDATE 32768 on stream 0: " << show(after_connection));
  CHECK(after_connection.empty());
  CHECK(s.connection_window() == 32768);

  // ... the stream's does, for exactly 32768 bytes.
  CHECK_FALSE(s.receive(window_update(1, 32768)));
  auto after_stream = send_all(s);
  INFO("after WINDOW_UPDATE 32768 on stream 1: " << show(after_stream));
  CHECK(lengths(after_stream) == std::vector<std::uint32_t>{16384, 16384});
  all.insert(all.end(), after_stream.begin(), after_stream.end());

  CHECK_FALSE(s.receive(window_update(0, 32767)));
  auto after_connection2 = send_all(s);
  INFO("after WINDOW_UPDATE 32767 on stream 0: " << show(after_connection2));
  CHECK(after_connection2.empty());

  CHECK_FALSE(s.receive(window_update(1, 32767)));
  auto last = send_all(s);
  INFO("after WINDOW_UPDATE 32767 on stream 1: " << show(last));
  REQUIRE(last.size() == 1);
  CHECK(last[0] == data_sent{1, 1697, true});
  all.insert(all.end(), last.begin(), last.end());

  CHECK(lengths(all) == captured);
  for (std::size_t i = 0; i + 1 < all.size(); ++i) CHECK_FALSE(all[i].end_stream);
  // The stream is closed: forgotten, nothing pending.
  CHECK_FALSE(s.stream_window(1).has_value());
  CHECK(s.pending(1) == 0);
  CHECK(s.connection_window() == 32768 + 32767 - (100000 - 65535));
}

TEST_CASE("the connection's window is shared: two streams with large windows together send no more than it", "[AC7]")
{
  flow_sender s;
  CHECK_FALSE(s.receive(settings({{id::initial_window_size, 1 << 20}})));
  s.write(1, 50000, true);
  s.write(3, 50000, true);
  auto first = send_all(s);
  INFO("first send(): " << show(first));
  auto sent = per_stream(first);
  CHECK(sent[1] + sent[3] == 65535);
  for (auto const& d : first) {
    CHECK(d.length <= 16384);
    CHECK(d.length > 0);
    CHECK_FALSE(d.end_stream);
  }
  CHECK(s.connection_window() == 0);
  REQUIRE(s.stream_window(1));
  REQUIRE(s.stream_window(3));
  CHECK(*s.stream_window(1) == (1 << 20) - static_cast<std::int64_t>(sent[1]));
  CHECK(*s.stream_window(3) == (1 << 20) - static_cast<std::int64_t>(sent[3]));
  CHECK(s.pending(1) + s.pending(3) == 100000 - 65535);

  // A WINDOW_UPDATE for a stream alone changes nothing: the connection is the limit.
  CHECK_FALSE(s.receive(window_update(1, 100000)));
  CHECK(send_all(s).empty());

  CHECK_FALSE(s.receive(window_update(0, 20000)));
  auto second = send_all(s);
  INFO("after WINDOW_UPDATE 20000 on stream 0: " << show(second));
  auto sent2 = per_stream(second);
  CHECK(sent2[1] + sent2[3] == 20000);
  CHECK(s.connection_window() == 0);

  CHECK_FALSE(s.receive(window_update(0, 1000000)));
  auto rest = send_all(s);
  INFO("after WINDOW_UPDATE 1000000 on stream 0: " << show(rest));
  auto sent3 = per_stream(rest);
  CHECK(sent[1] + sent2[1] + sent3[1] == 50000);
  CHECK(sent[3] + sent2[3] + sent3[3] == 50000);
  int ends = 0;
  for (auto const& d : rest) ends += d.end_stream;
  CHECK(ends == 2);
  CHECK(s.connection_window() == 65535 + 20000 + 1000000 - 100000);
}

TEST_CASE("SETTINGS_INITIAL_WINDOW_SIZE changes every open stream's window by the difference, never the connection's", "[AC7]")
{
  flow_sender s;
  s.write(1, 100000, false);
  auto first = send_all(s);
  INFO("first send(): " << show(first));
  CHECK(per_stream(first)[1] == 65535);
  REQUIRE(s.stream_window(1));
  CHECK(*s.stream_window(1) == 0);

  // 65535 -> 16384: the open stream's window goes from 0 to -49151.
  CHECK_FALSE(s.receive(settings({{id::initial_window_size, 16384}})));
  REQUIRE(s.stream_window(1));
  CHECK(*s.stream_window(1) == 16384 - 65535);
  CHECK(s.connection_window() == 0);

  CHECK_FALSE(s.receive(window_update(0, 200000)));
  CHECK(send_all(s).empty());  // the stream's window is below zero
  CHECK_FALSE(s.receive(window_update(1, 49151)));
  CHECK(send_all(s).empty());  // ... and now exactly zero
  CHECK_FALSE(s.receive(window_update(1, 10)));
  auto ten = send_all(s);
  INFO("after the stream's window came back to 10: " << show(ten));
  CHECK(ten == std::vector<data_sent>{{1, 10, false}});

  // A stream opened now starts at the new initial window.
  s.write(3, 20000, true);
  REQUIRE(s.stream_window(3));
  CHECK(*s.stream_window(3) == 16384);
  auto three = send_all(s);
  INFO("stream 3: " << show(three));
  CHECK(per_stream(three)[3] == 16384);
  CHECK(s.connection_window() == 200000 - 10 - 16384);

  // Raising it resumes a stalled stream by the difference.
  CHECK_FALSE(s.receive(settings({{id::initial_window_size, 16384 + 5000}})));
  REQUIRE(s.stream_window(3));
  CHECK(*s.stream_window(3) == 5000);
  CHECK(*s.stream_window(1) == 5000);
  auto raised = send_all(s);
  INFO("after raising INITIAL_WINDOW_SIZE by 5000: " << show(raised));
  CHECK(per_stream(raised)[1] == 5000);
  CHECK(per_stream(raised)[3] == 3616);  // what was left of its 20000
  CHECK(s.connection_window() == 200000 - 10 - 16384 - 5000 - 3616);

  // A SETTINGS ACK changes nothing.
  CHECK_FALSE(s.receive(settings({}, flag::ack)));
  CHECK(*s.stream_window(1) == 0);
}

TEST_CASE("DATA frames are no longer than the peer's SETTINGS_MAX_FRAME_SIZE", "[AC7]")
{
  flow_sender s;
  CHECK_FALSE(s.receive(settings({{id::max_frame_size, 32768}, {id::initial_window_size, 1 << 20}})));
  CHECK_FALSE(s.receive(window_update(0, 1 << 20)));
  s.write(1, 100000, true);
  auto frames = send_all(s);
  INFO(show(frames));
  CHECK(frames == std::vector<data_sent>{{1, 32768, false}, {1, 32768, false}, {1, 32768, false}, {1, 1696, true}});

  flow_sender d;  // without SETTINGS: 16384
  d.write(5, 20000, true);
  auto defaults = send_all(d);
  INFO(show(defaults));
  CHECK(lengths(defaults) == std::vector<std::uint32_t>{16384, 3616});
}

TEST_CASE("an empty DATA with END_STREAM goes out even when both windows are spent", "[AC7]")
{
  flow_sender s;
  s.write(1, 65535, false);
  CHECK(per_stream(send_all(s))[1] == 65535);
  CHECK(s.connection_window() == 0);
  // The body ends: its last byte went already, so the end is an empty
  // frame, which flow control does not count (RFC 9113 §6.9.1).
  s.write(1, 0, true);
  auto end = send_all(s);
  INFO(show(end));
  CHECK(end == std::vector<data_sent>{{1, 0, true}});
  CHECK_FALSE(s.stream_window(1).has_value());

  // A body that is empty from the start, on a spent connection.
  s.write(3, 0, true);
  auto empty = send_all(s);
  INFO(show(empty));
  CHECK(empty == std::vector<data_sent>{{3, 0, true}});

  // A body with bytes left does not end with an empty frame while stalled.
  s.write(5, 10, true);
  auto stalled = send_all(s);
  INFO(show(stalled));
  CHECK(stalled.empty());
  CHECK(s.pending(5) == 10);
}

TEST_CASE("a window pushed above 2^31-1 is a FLOW_CONTROL_ERROR, and changes nothing", "[AC7]")
{
  flow_sender s;
  auto const connection = s.receive(window_update(0, 0x7fffffff - 65535 + 1));
  REQUIRE(connection);
  CHECK(connection->code == h2_error::flow_control_error);
  CHECK(connection->section == "6.9.1");
  CHECK(s.connection_window() == 65535);
  CHECK_FALSE(s.receive(window_update(0, 0x7fffffff - 65535)));
  CHECK(s.connection_window() == 0x7fffffff);

  s.write(1, 10, false);
  auto const stream = s.receive(window_update(1, 0x7fffffff));
  REQUIRE(stream);
  CHECK(stream->code == h2_error::flow_control_error);
  CHECK(stream->section == "6.9.1");
  CHECK(s.stream_window(1) == 65535);

  // A stream at 2^31-1 - 10 cannot take an INITIAL_WINDOW_SIZE 100 larger.
  CHECK_FALSE(s.receive(window_update(1, 0x7fffffff - 65535 - 10)));
  auto const settings_error = s.receive(settings({{id::initial_window_size, 65535 + 100}}));
  REQUIRE(settings_error);
  CHECK(settings_error->code == h2_error::flow_control_error);
  CHECK(settings_error->section == "6.9.2");
  CHECK(s.stream_window(1) == 0x7fffffff - 10);
  // A WINDOW_UPDATE for a stream that is not open is no error.
  CHECK_FALSE(s.receive(window_update(99, 0x7fffffff)));
}
