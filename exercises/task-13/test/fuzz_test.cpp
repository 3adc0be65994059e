// Task 13 · a property test of the decoder [AC5]: thousands of byte strings,
// valid frames built at random, the captures mutated, valid frames mutated,
// and plain random bytes, each decoded in one piece and again cut into
// random pieces (sometimes single bytes). Whatever the bytes:
//   - nothing is thrown, nothing crashes (a crash ends the test binary);
//   - the pieces give what the whole gives: the same frames, the same error
//     (code and section), the same bytes left over;
//   - every frame yielded is consistent with its own header (its payload,
//     padding and fields add up to its Length, its stream id has 31 bits,
//     ...);
//   - valid frames come back exactly as they were built.
//
// The generator is seeded, and the seed is printed with the results, so a
// failure is reproduced by running the test again. The number of cases is
// fixed (smaller only under a sanitizer). Another seed explores other bytes:
//   TASK13_FUZZ_SEED=12345 build/dev/tasks/task-13/task-13-stub "[AC5]"
#include "fixtures.hpp"

#include <workbook/sanitizers.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <sstream>

using namespace task13_test;
namespace flag = task13::flag;

namespace {

constexpr std::uint64_t default_seed = 0x13f4a3e5eedULL;
// A sanitized build runs every case several times slower: it runs fewer.
#ifdef WORKBOOK_SANITIZED
constexpr int cases_wanted = 2000;
#else
constexpr int cases_wanted = 10000;
#endif

// One case: bytes, whose they are, the decoder's limit, and, for bytes
// that are valid frames, the frames they hold.
struct fuzz_case {
  std::string how;
  sender from = sender::server;
  std::uint32_t max_frame_size = task13::default_max_frame_size;
  std::string bytes;
  std::optional<std::vector<frame>> expected;
};

// std::mt19937_64 is specified bit for bit, so one seed gives the same
// cases with any standard library. (The distributions are not: hence pick().)
class generator {
public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t pick(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(int percent) { return pick(100) < static_cast<std::uint64_t>(percent); }

  fuzz_case next()
  {
    switch (pick(20)) {
    case 0: case 1: case 2: case 3: case 4: case 5: return valid();
    case 6: case 7: case 8: case 9: case 10: case 11: case 12: return mutated_capture();
    case 13: case 14: case 15: case 16: return mutated_valid();
    default: return random_bytes();
    }
  }

  // Where to cut `n` bytes: a few random places, or everywhere.
  std::vector<std::size_t> cuts(std::size_t n)
  {
    std::vector<std::size_t> out;
    if (n <= 600 && chance(15)) {
      for (std::size_t i = 1; i < n; ++i) out.push_back(i);
      return out;
    }
    for (std::uint64_t k = 1 + pick(8); k > 0; --k) out.push_back(pick(n + 1));
    std::sort(out.begin(), out.end());
    return out;
  }

private:
  std::uint32_t u32() { return static_cast<std::uint32_t>(rng_()); }
  std::string bytes(std::size_t n)
  {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {  // eight bytes from each draw
      auto const v = rng_();
      std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, n - i));
    }
    return out;
  }
  // A 31-bit value as it goes on the wire: the reserved bit set at random.
  std::string r31(std::uint32_t v) { return be(v | (chance(20) ? 0x80000000u : 0u), 4); }
  std::uint32_t stream() { return chance(70) ? static_cast<std::uint32_t>(1 + pick(40)) : u32() & 0x7fffffffu; }
  std::uint32_t nonzero_stream() { return std::max<std::uint32_t>(1, stream()); }

  // A SETTINGS frame without ACK, with valid values; returns its payload.
  std::string settings(frame& f)
  {
    f.type = frame_type::settings;
    std::string body;
    for (std::uint64_t n = pick(6); n > 0; --n) {
      task13::setting s{static_cast<std::uint16_t>(chance(85) ? 1 + pick(6) : pick(65536)), u32()};
      if (s.id == task13::setting_id::enable_push) s.value &= 1;
      if (s.id == task13::setting_id::initial_window_size) s.value &= 0x7fffffffu;
      if (s.id == task13::setting_id::max_frame_size)
        s.value = static_cast<std::uint32_t>(16384 + pick(task13::largest_max_frame_size - 16384 + 1));
      f.settings.push_back(s);
      body += be(s.id, 2) + be(s.value, 4);
    }
    return body;
  }

  // One valid frame (or a HEADERS and its CONTINUATIONs) appended to both.
  void valid_frame(std::string& out, std::vector<frame>& frames, std::size_t limit)
  {
    frame f;
    std::string body;
    // Mostly a few bytes; now and then up to 17000, beyond the default limit when the decoder allows it.
    auto const small = [&] { return static_cast<std::size_t>(chance(3) ? pick(std::min<std::size_t>(limit, 17000)) : pick(40)); };
    auto padding = [&](std::size_t room) {
      if (!chance(30) || room == 0) return std::string();
      f.flags |= flag::padded;
      f.pad_length = static_cast<std::uint8_t>(pick(std::min<std::size_t>(room, 256)));
      return be(f.pad_length, 1);
    };
    switch (pick(11)) {
    case 0: {  // DATA
      f.type = frame_type::data;
      f.stream_id = nonzero_stream();
      f.flags = chance(30) ? flag::end_stream : 0;
      auto const pad = padding(limit - 1);
      f.payload = bytes(std::min(small(), limit - 1 - f.pad_length));
      body = pad + f.payload + std::string(f.pad_length, '\0');
      break;
    }
    case 1:
    case 2: {  // HEADERS, perhaps with priority fields, perhaps continued
      f.type = frame_type::headers;
      f.stream_id = nonzero_stream();
      f.flags = static_cast<std::uint8_t>((chance(50) ? flag::end_stream : 0) | (chance(70) ? flag::end_headers : 0));
      auto const pad = padding(limit - 6);
      std::string prio;
      if (chance(40)) {
        f.flags |= flag::priority;
        task13::priority_fields p{chance(30), u32() & 0x7fffffffu, static_cast<std::uint16_t>(1 + pick(256))};
        f.priority = p;
        prio = be(p.depends_on | (p.exclusive ? 0x80000000u : 0u), 4) + be(p.weight - 1, 1);
      }
      f.payload = bytes(std::min(small(), limit - 6 - f.pad_length));
      body = pad + prio + f.payload + std::string(f.pad_length, '\0');
      break;
    }
    case 3: {  // PRIORITY
      f.type = frame_type::priority;
      f.stream_id = nonzero_stream();
      task13::priority_fields p{chance(30), u32() & 0x7fffffffu, static_cast<std::uint16_t>(1 + pick(256))};
      f.priority = p;
      body = be(p.depends_on | (p.exclusive ? 0x80000000u : 0u), 4) + be(p.weight - 1, 1);
      break;
    }
    case 4:  // RST_STREAM
      f.type = frame_type::rst_stream;
      f.stream_id = nonzero_stream();
      f.error_code = chance(80) ? static_cast<std::uint32_t>(pick(14)) : u32();
      body = be(f.error_code, 4);
      break;
    case 5:  // SETTINGS
      if (chance(30)) {
        f.type = frame_type::settings;
        f.flags = flag::ack;
      } else {
        body = settings(f);
      }
      break;
    case 6: {  // PUSH_PROMISE
      f.type = frame_type::push_promise;
      f.stream_id = nonzero_stream();
      f.flags = chance(80) ? flag::end_headers : 0;
      auto const pad = padding(limit - 5);
      f.promised_stream_id = nonzero_stream();
      f.payload = bytes(std::min(small(), limit - 5 - f.pad_length));
      body = pad + r31(f.promised_stream_id) + f.payload + std::string(f.pad_length, '\0');
      break;
    }
    case 7:  // PING
      f.type = frame_type::ping;
      f.flags = chance(50) ? flag::ack : 0;
      f.payload = bytes(8);
      body = f.payload;
      break;
    case 8:  // GOAWAY
      f.type = frame_type::goaway;
      f.last_stream_id = stream();
      f.error_code = static_cast<std::uint32_t>(pick(14));
      f.payload = bytes(pick(20));
      body = r31(f.last_stream_id) + be(f.error_code, 4) + f.payload;
      break;
    case 9:  // WINDOW_UPDATE
      f.type = frame_type::window_update;
      f.stream_id = chance(50) ? 0 : stream();
      f.window_increment = std::max<std::uint32_t>(1, chance(50) ? static_cast<std::uint32_t>(pick(70000)) : u32() & 0x7fffffffu);
      body = r31(f.window_increment);
      break;
    default:  // a type the decoder does not know
      f.type = static_cast<frame_type>(10 + pick(246));
      f.flags = static_cast<std::uint8_t>(pick(256));
      f.stream_id = stream();
      f.payload = bytes(small());
      body = f.payload;
      break;
    }
    f.length = static_cast<std::uint32_t>(body.size());
    out += be(f.length, 3) + static_cast<char>(f.type) + static_cast<char>(f.flags) + r31(f.stream_id) + body;
    bool const open_block = (f.type == frame_type::headers || f.type == frame_type::push_promise) && !f.has(flag::end_headers);
    auto const block_stream = f.stream_id;
    frames.push_back(std::move(f));
    if (!open_block) return;
    for (std::uint64_t n = 1 + pick(2); n > 0; --n) {
      frame c;
      c.type = frame_type::continuation;
      c.stream_id = block_stream;
      c.flags = static_cast<std::uint8_t>(n == 1 ? flag::end_headers : 0);
      c.payload = bytes(pick(30));
      c.length = static_cast<std::uint32_t>(c.payload.size());
      out += be(c.length, 3) + static_cast<char>(c.type) + static_cast<char>(c.flags) + r31(c.stream_id) + c.payload;
      frames.push_back(std::move(c));
    }
  }

  fuzz_case valid()
  {
    fuzz_case c;
    c.from = chance(50) ? sender::client : sender::server;
    c.max_frame_size = chance(80) ? task13::default_max_frame_size : task13::largest_max_frame_size;
    std::vector<frame> frames;
    if (c.from == sender::client) c.bytes = std::string(task13::client_preface);
    // The first frame: a SETTINGS without ACK.
    frame first;
    auto const body = settings(first);
    first.length = static_cast<std::uint32_t>(body.size());
    c.bytes += frame_bytes(frame_type::settings, 0, chance(20) ? 0x80000000u : 0u, body);
    frames.push_back(std::move(first));
    for (std::uint64_t n = pick(12); n > 0; --n) valid_frame(c.bytes, frames, c.max_frame_size);
    c.how = std::to_string(frames.size()) + " valid frames";
    c.expected = std::move(frames);
    return c;
  }

  void mutate(std::string& s)
  {
    for (std::uint64_t n = 1 + pick(4); n > 0; --n) {
      if (s.empty()) s = bytes(1 + pick(20));
      auto const at = pick(s.size());
      switch (pick(8)) {
      case 0: s[at] = static_cast<char>(pick(256)); break;                          // any byte
      case 1: s[at] = static_cast<char>(s[at] ^ (1 << pick(8))); break;             // one bit
      case 2: s.erase(at, 1 + pick(12)); break;                                     // delete
      case 3: s.insert(at, bytes(1 + pick(12))); break;                             // insert
      case 4: s.resize(at); break;                                                  // truncate
      case 5: s.insert(at, s.substr(pick(s.size()), pick(40))); break;              // duplicate a slice
      default: {                                                                    // a header's byte
        auto const header = header_at(s, pick(8));
        if (header + 9 <= s.size()) s[header + pick(9)] = static_cast<char>(pick(256));
        break;
      }
      }
    }
  }

  // The start of the k-th frame (from the k-th header reachable), or a random place.
  std::size_t header_at(std::string const& s, std::uint64_t k)
  {
    std::size_t at = s.compare(0, task13::client_preface.size(), task13::client_preface) == 0 ? task13::client_preface.size() : 0;
    for (; k > 0 && at + 9 <= s.size(); --k) {
      auto const length = (std::size_t(std::uint8_t(s[at])) << 16) | (std::size_t(std::uint8_t(s[at + 1])) << 8) |
                          std::size_t(std::uint8_t(s[at + 2]));
      if (at + 9 + length + 9 > s.size()) break;
      at += 9 + length;
    }
    return at;
  }

  fuzz_case mutated_capture()
  {
    static char const* const names[] = {"nodep.c2s.bin",  "dep.c2s.bin", "padded.c2s.bin",
                                        "nodep.s2c.bin", "dep.s2c.bin", "padded.s2c.bin"};
    fuzz_case c;
    std::string const name = names[pick(std::size(names))];
    c.from = name.find("c2s") != std::string::npos ? sender::client : sender::server;
    std::string_view all = fixture(name);
    if (all.size() > 4000) {  // the server's: mostly its first frames, now and then its last or all of it
      if (chance(97)) all = all.substr(0, chance(50) ? 300 : 300 + pick(3000));
      else if (chance(50)) all = all.substr(all.size() - 300);
    }
    c.bytes = std::string(all);
    if (chance(20)) c.max_frame_size = task13::largest_max_frame_size;
    mutate(c.bytes);
    c.how = "mutated " + name;
    return c;
  }

  fuzz_case mutated_valid()
  {
    auto c = valid();
    mutate(c.bytes);
    c.expected.reset();
    c.how = "mutated " + c.how;
    return c;
  }

  fuzz_case random_bytes()
  {
    fuzz_case c;
    c.from = chance(50) ? sender::client : sender::server;
    switch (pick(3)) {
    case 0: break;
    case 1: c.bytes = c.from == sender::client ? std::string(task13::client_preface) : ""; break;
    default:
      c.bytes = (c.from == sender::client ? std::string(task13::client_preface) : "") + empty_settings();
      break;
    }
    c.bytes += bytes(pick(200));
    c.how = "random bytes";
    return c;
  }

  std::mt19937_64 rng_;
};

std::uint64_t seed_from_environment()
{
  if (char const* s = std::getenv("TASK13_FUZZ_SEED"); s && *s) return std::strtoull(s, nullptr, 0);
  return default_seed;
}

// What is wrong with a frame, judged by its own header: "" when nothing is.
std::string frame_problem(frame const& f, std::uint32_t max_frame_size)
{
  auto const padding = f.has(flag::padded) ? 1u + f.pad_length : 0u;
  auto const padded_type = f.type == frame_type::data || f.type == frame_type::headers || f.type == frame_type::push_promise;
  std::size_t expected = f.payload.size();  // the Length the fields add up to
  switch (f.type) {
  case frame_type::data: expected += padding; break;
  case frame_type::headers: expected += padding + (f.has(flag::priority) ? 5 : 0); break;
  case frame_type::priority: expected = 5; break;
  case frame_type::rst_stream: expected = 4; break;
  case frame_type::settings: expected = 6 * f.settings.size(); break;
  case frame_type::push_promise: expected += padding + 4; break;
  case frame_type::ping: if (f.payload.size() != 8) return "a PING whose payload is not 8 bytes"; break;
  case frame_type::goaway: expected += 8; break;
  case frame_type::window_update:
    expected = 4;
    if (f.window_increment == 0 || f.window_increment > 0x7fffffffu) return "a WINDOW_UPDATE increment of " + std::to_string(f.window_increment);
    break;
  default: break;
  }
  if (f.length > max_frame_size) return "Length above the decoder's max_frame_size";
  if (f.stream_id > 0x7fffffffu) return "a stream id with the reserved bit";
  if (expected != f.length)
    return "its payload and fields add up to " + std::to_string(expected) + " bytes, its Length is " + std::to_string(f.length);
  if (!padded_type && f.pad_length != 0) return "pad_length set on a type that has no padding";
  if (padded_type && !f.has(flag::padded) && f.pad_length != 0) return "pad_length set without PADDED";
  bool const has_priority = f.type == frame_type::priority || (f.type == frame_type::headers && f.has(flag::priority));
  if (f.priority.has_value() != has_priority) return has_priority ? "no priority fields" : "priority fields it does not have";
  if (f.priority && (f.priority->weight < 1 || f.priority->weight > 256 || f.priority->depends_on > 0x7fffffffu))
    return "priority fields out of range";
  if (f.type != frame_type::settings && !f.settings.empty()) return "settings on a frame that is not SETTINGS";
  return "";
}

// What differs between the bytes in one piece and in pieces: "" when nothing does.
std::string cut_problem(decoded const& whole, decoded const& pieces)
{
  if (whole.frames.size() != pieces.frames.size())
    return std::to_string(pieces.frames.size()) + " frames in pieces, " + std::to_string(whole.frames.size()) + " in one piece";
  for (std::size_t i = 0; i < whole.frames.size(); ++i)
    if (!(whole.frames[i] == pieces.frames[i]))
      return "frame " + std::to_string(i) + " in pieces is " + describe(pieces.frames[i]) + ", in one piece " +
             describe(whole.frames[i]);
  if (whole.error.has_value() != pieces.error.has_value())
    return std::string(whole.error ? "an error in one piece, none in pieces" : "an error in pieces, none in one piece");
  if (whole.error && (whole.error->code != pieces.error->code || whole.error->section != pieces.error->section))
    return "in pieces " + describe(*pieces.error) + "; in one piece " + describe(*whole.error);
  if (!whole.error && whole.buffered != pieces.buffered)
    return "buffered() is " + std::to_string(pieces.buffered) + " in pieces, " + std::to_string(whole.buffered) + " in one piece";
  return "";
}

std::string describe_cuts(std::vector<std::size_t> const& cuts, std::size_t size)
{
  if (size > 1 && cuts.size() + 1 == size) return "one byte at a time";
  std::string out = "cut at";
  for (auto c : cuts) out += " " + std::to_string(c);
  return out;
}

} // namespace

TEST_CASE("fuzzed bytes: nothing thrown, the same results in pieces, frames consistent with their headers, valid frames intact", "[AC5]")
{
  auto const seed = seed_from_environment();
  generator gen(seed);
  std::vector<std::string> failures;
  std::map<std::string, int> outcomes;
  int cases = 0;
  auto const start = std::chrono::steady_clock::now();
  for (; cases < cases_wanted; ++cases) {
    auto const c = gen.next();
    auto const cuts = gen.cuts(c.bytes.size());
    auto const whole = decode_all(c.from, c.bytes, c.max_frame_size);
    auto const pieces = decode_cut(c.from, c.bytes, cuts, c.max_frame_size);

    std::string problem;
    if (!whole.threw.empty()) problem = "in one piece it threw " + whole.threw;
    else if (!pieces.threw.empty()) problem = "in pieces (" + describe_cuts(cuts, c.bytes.size()) + ") it threw " + pieces.threw;
    for (std::size_t i = 0; i < whole.frames.size() && problem.empty(); ++i)
      if (auto p = frame_problem(whole.frames[i], c.max_frame_size); !p.empty())
        problem = "frame " + std::to_string(i) + " (" + describe(whole.frames[i]) + "): " + p;
    if (problem.empty()) {
      if (auto p = cut_problem(whole, pieces); !p.empty()) problem = describe_cuts(cuts, c.bytes.size()) + ": " + p;
    }
    if (problem.empty() && c.expected) {
      if (!whole.clean()) problem = "valid frames refused: " + (whole.error ? describe(*whole.error) : whole.threw);
      else if (whole.frames != *c.expected || whole.buffered != 0) {
        problem = "valid frames decoded as:\n        " + describe(whole) + "\n      built as:";
        for (auto const& f : *c.expected) problem += "\n        " + describe(f);
      }
    }
    ++outcomes[whole.error ? "error " + whole.error->section : whole.frames.empty() ? "no frame" : "frames"];

    if (!problem.empty()) {
      failures.push_back("case " + std::to_string(cases) + ", " + c.how + " (" + (c.from == sender::client ? "client" : "server") +
                         ", max_frame_size " + std::to_string(c.max_frame_size) + "): " + printable(c.bytes, 96) +
                         "\n      -> " + problem);
      if (failures.size() >= 5) {
        ++cases;
        break;
      }
    }
  }
  auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

  std::ostringstream summary;
  summary << "fuzz: seed " << seed << " (0x" << std::hex << seed << std::dec << "), " << cases << " of " << cases_wanted
          << " cases in " << ms.count() << " ms; outcomes:";
  for (auto const& [what, count] : outcomes) summary << " [" << what << "] x" << count;
  WARN(summary.str());

  INFO(summary.str());
  std::string listed;
  for (auto const& f : failures) listed += "  " + f + "\n";
  INFO("the first failing cases:\n" << listed);
  CHECK(failures.empty());
  // The valid cases alone prove something was decoded: a decoder that
  // yields nothing fails them.
  CHECK(outcomes["frames"] > cases_wanted / 10);
}
