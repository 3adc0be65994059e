// Task 13 · [AC3]: the decoder is incremental. TCP delivers a connection's
// bytes in pieces that have nothing to do with frames: the same bytes cut
// anywhere must give the same frames; a piece that ends inside a frame is
// "need more", not an error and not a frame; and the decoder keeps one
// frame's bytes at most, not the connection's.
#include "fixtures.hpp"

#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace task13_test;

namespace {

// Where each whole frame ends in `bytes` (after the preface, for a client).
std::vector<std::size_t> frame_ends(sender from, std::string_view bytes)
{
  std::vector<std::size_t> ends;
  std::size_t at = from == sender::client ? task13::client_preface.size() : 0;
  while (at + 9 <= bytes.size()) {
    auto const length = (std::size_t(std::uint8_t(bytes[at])) << 16) | (std::size_t(std::uint8_t(bytes[at + 1])) << 8) |
                        std::size_t(std::uint8_t(bytes[at + 2]));
    if (at + 9 + length > bytes.size()) break;
    at += 9 + length;
    ends.push_back(at);
  }
  return ends;
}

std::string same_problem(decoded const& got, decoded const& whole)
{
  if (!got.threw.empty()) return "it threw " + got.threw;
  if (got.error) return "an error: " + describe(*got.error);
  if (got.frames.size() != whole.frames.size())
    return std::to_string(got.frames.size()) + " frames, in one piece " + std::to_string(whole.frames.size());
  for (std::size_t i = 0; i < got.frames.size(); ++i)
    if (!(got.frames[i] == whole.frames[i]))
      return "frame " + std::to_string(i) + " is " + describe(got.frames[i]) + ", in one piece " +
             describe(whole.frames[i]);
  if (got.buffered != whole.buffered) return "buffered() is " + std::to_string(got.buffered);
  return "";
}

struct capture {
  char const* name;
  sender from;
};

constexpr capture client_captures[] = {{"nodep.c2s.bin", sender::client},
                                       {"dep.c2s.bin", sender::client},
                                       {"padded.c2s.bin", sender::client}};
constexpr capture all_captures[] = {{"nodep.c2s.bin", sender::client}, {"dep.c2s.bin", sender::client},
                                    {"padded.c2s.bin", sender::client}, {"nodep.s2c.bin", sender::server},
                                    {"dep.s2c.bin", sender::server},    {"padded.s2c.bin", sender::server}};

} // namespace

TEST_CASE("the client's bytes give the same frames cut once anywhere, or twice up to 12 bytes apart", "[AC3]")
{
  for (auto const& c : client_captures) {
    auto const& bytes = fixture(c.name);
    auto const whole = decode_all(c.from, bytes);
    INFO(c.name << " in one piece: " << describe(whole));
    REQUIRE(whole.clean());
    REQUIRE(whole.frames.size() > 3);
    // Two cuts close together put a short piece anywhere: a header in three
    // pieces, a piece that ends one frame and starts the next, ...
    for (std::size_t i = 0; i <= bytes.size(); ++i) {
      for (std::size_t j = i; j <= std::min(bytes.size(), i + 12); ++j) {
        auto const problem = same_problem(decode_cut(c.from, bytes, {i, j}), whole);
        if (!problem.empty()) {
          INFO(c.name << " cut at " << i << " and " << j << ": " << problem);
          CHECK(problem == "");
          return;
        }
      }
    }
  }
}

TEST_CASE("every capture gives the same frames fed one byte at a time", "[AC3]")
{
  for (auto const& c : all_captures) {
    auto const& bytes = fixture(c.name);
    auto const whole = decode_all(c.from, bytes);
    INFO(c.name << " in one piece: " << describe(whole));
    REQUIRE(whole.clean());
    REQUIRE(whole.frames.size() > 3);
    auto const problem = same_problem(decode_bytewise(c.from, bytes), whole);
    INFO(c.name << " one byte at a time: " << problem);
    CHECK(problem == "");
  }
}

TEST_CASE("the server's bytes give the same frames cut around every frame boundary and in random pieces", "[AC3]")
{
  auto const& bytes = fixture("nodep.s2c.bin");
  auto const whole = decode_all(sender::server, bytes);
  INFO("in one piece: " << describe(whole));
  REQUIRE(whole.clean());
  REQUIRE(whole.frames.size() > 3);

  std::vector<std::size_t> cuts;
  for (auto end : frame_ends(sender::server, bytes))
    for (std::size_t k = 0; k < 20; ++k)
      if (end + k >= 10) cuts.push_back(end + k - 10);  // from the frame's last 10 bytes into the next header
  for (std::size_t at = 0; at < 200; ++at) cuts.push_back(at);
  for (auto at : cuts) {
    auto const problem = same_problem(decode_cut(sender::server, bytes, {at}), whole);
    if (!problem.empty()) {
      INFO("cut at " << at << ": " << problem);
      CHECK(problem == "");
      return;
    }
  }

  std::mt19937_64 rng(13);
  for (int round = 0; round < 40; ++round) {
    std::vector<std::size_t> pieces;
    for (std::size_t at = 0; at < bytes.size();) {
      at += 1 + rng() % (round % 2 ? 40 : 20000);
      pieces.push_back(at);
    }
    auto const problem = same_problem(decode_cut(sender::server, bytes, pieces), whole);
    if (!problem.empty()) {
      INFO("in " << pieces.size() << " random pieces (round " << round << "): " << problem);
      CHECK(problem == "");
      return;
    }
  }
}

TEST_CASE("bytes that stop inside a frame: every whole frame, then need_more, the rest buffered; never an error", "[AC3]")
{
  for (auto const& c : all_captures) {
    auto const& all = fixture(c.name);
    auto const whole = decode_all(c.from, all);
    REQUIRE(whole.clean());
    auto const ends = frame_ends(c.from, all);
    REQUIRE(ends.size() == whole.frames.size());

    // Every length for the short client captures; for the server's, the
    // first 300 bytes and the bytes around each frame's end.
    std::vector<std::size_t> lengths;
    if (all.size() < 1000) {
      for (std::size_t n = 0; n <= all.size(); ++n) lengths.push_back(n);
    } else {
      for (std::size_t n = 0; n < 300; ++n) lengths.push_back(n);
      for (auto end : ends)
        for (std::size_t n : {end - 5, end - 1, end, end + 1, end + 8, end + 9, end + 10})
          if (n <= all.size()) lengths.push_back(n);
    }
    for (auto n : lengths) {
      auto const prefix = std::string_view(all).substr(0, n);
      std::size_t frames = 0;
      while (frames < ends.size() && ends[frames] <= n) ++frames;
      std::size_t const consumed = frames ? ends[frames - 1]
                                   : (c.from == sender::client && n >= task13::client_preface.size()
                                          ? task13::client_preface.size()
                                          : 0);
      auto const d = decode_all(c.from, prefix);
      std::string problem;
      if (!d.threw.empty()) problem = "it threw " + d.threw;
      else if (d.error) problem = "an error: " + describe(*d.error);
      else if (d.frames.size() != frames)
        problem = std::to_string(d.frames.size()) + " frames; " + std::to_string(frames) + " are whole";
      else if (d.buffered != n - consumed)
        problem = "buffered() is " + std::to_string(d.buffered) + ", expected " + std::to_string(n - consumed) +
                  " (the bytes of the frame that is not whole)";
      else
        for (std::size_t i = 0; i < frames && problem.empty(); ++i)
          if (!(d.frames[i] == whole.frames[i])) problem = "frame " + std::to_string(i) + " is " + describe(d.frames[i]);
      if (!problem.empty()) {
        INFO(c.name << ", its first " << n << " of " << all.size() << " bytes: " << problem);
        CHECK(problem == "");
        break;
      }
    }
  }
}

TEST_CASE("the decoder keeps one frame at most: the response fed byte by byte never takes more than 64 KiB", "[AC3]")
{
  auto const& bytes = fixture("nodep.s2c.bin");
  std::size_t data = 0, frames = 0, most_buffered = 0;
  std::string threw;
  std::size_t peak = 0;
  {
    task13::frame_decoder d(sender::server);
    workbook::heap::reset_peak();
    auto const before = workbook::heap::live_bytes();
    try {
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        d.feed(std::string_view(bytes).substr(i, 1));
        most_buffered = std::max(most_buffered, d.buffered());
        for (;;) {
          auto r = d.next();
          auto* f = std::get_if<frame>(&r);
          if (!f) break;
          ++frames;
          if (f->type == frame_type::data) data += f->payload.size();
        }
      }
    } catch (std::exception const& e) {
      threw = e.what();
    }
    peak = workbook::heap::peak_bytes() - before;
  }
  INFO("threw: " << threw);
  CHECK(threw.empty());
  CHECK(frames > 3);
  CHECK(data == captured_file_size);
  INFO("the most buffered() said: " << most_buffered << "; the heap grew by up to " << peak << " bytes");
  CHECK(most_buffered <= task13::frame_header_size + task13::default_max_frame_size);
  // One frame of 16 KiB in the buffer, one copied out as a frame, and room
  // to grow: well under 64 KiB. A decoder that keeps every byte it was fed
  // holds the whole 100 KB response by the end.
  CHECK(peak < 64 * 1024);
}
