// Task 16 · the contract between your profiler, the tests and the reference.
// Do not change this file: the tests are compiled against it.
//
// Four parts: the work that is profiled (given: the hash routine of the
// /hash endpoint and the background work, both written out so that their
// names can be found), labels (yours), the profiler (yours), and what reads
// it: the summary, the text table and the debug endpoint (yours). Last, the
// /hash endpoint's handler (yours); the HTTP server around it is given, in
// test/hash_server.hpp.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace task16 {

namespace net = boost::asio;

// ---------------------------------------------------------------- the work (given)

// A routine that is never inlined and never cloned into a copy of another
// name (gcc's `noipa`; clang does not clone at these levels, so `noinline`
// is enough there), so that every sample taken inside it has a program
// counter within this one function, which the executable's dynamic symbol
// table names.
#if defined(__clang__)
#define TASK16_OPAQUE [[gnu::noinline]]
#else
#define TASK16_OPAQUE [[gnu::noipa]]
#endif

namespace detail {
// Always inlined, even unoptimized: the samples of the compression are all
// in sha256_compress itself, none in a helper of its own.
[[gnu::always_inline]] inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
} // namespace detail

// SHA-256's compression function (FIPS 180-4, section 6.2.2): folds one
// 64-byte block into the eight words of `state`. This is the hot routine of
// the /hash endpoint; demangled, its name is
// `task16::sha256_compress(unsigned int (&) [8], unsigned char const*)`.
TASK16_OPAQUE inline void sha256_compress(std::uint32_t (&state)[8], unsigned char const* block)
{
  static constexpr std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  using detail::rotr;
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = std::uint32_t(block[4 * i]) << 24 | std::uint32_t(block[4 * i + 1]) << 16 |
           std::uint32_t(block[4 * i + 2]) << 8 | std::uint32_t(block[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    std::uint32_t const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    std::uint32_t const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (int i = 0; i < 64; ++i) {
    std::uint32_t const t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
    std::uint32_t const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

// The /hash endpoint's work: a chain of SHA-256 digests, each the hash of the
// one before, starting from 32 zero bytes (Go's workbook hashes the same way:
// `h := sha256.Sum256(buf); buf = h[:]`). A round is one digest: one block,
// one call to sha256_compress.
class hash_chain {
public:
  // Hashes `rounds` more rounds.
  void run(std::uint64_t rounds)
  {
    for (; rounds > 0; --rounds) {
      // The 32-byte message, padded to one block: 0x80, zeros, its length in bits.
      unsigned char block[64] = {};
      std::memcpy(block, digest_.data(), digest_.size());
      block[32] = 0x80;
      block[62] = 0x01;  // 256 bits
      std::uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
      sha256_compress(state, block);
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 4; ++j) digest_[static_cast<std::size_t>(4 * i + j)] = static_cast<unsigned char>(state[i] >> (24 - 8 * j));
      ++rounds_;
    }
  }

  std::uint64_t rounds() const { return rounds_; }

  // The digest so far in lower-case hex: 64 characters.
  std::string hex() const
  {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char const byte : digest_) {
      out += digits[byte >> 4];
      out += digits[byte & 0xf];
    }
    return out;
  }

private:
  std::array<unsigned char, 32> digest_{};
  std::uint64_t rounds_ = 0;
};

// The background work: what the tests' two burner threads (and the serve
// tool's) run, unlabeled, while /hash is busy. A routine of its own, so
// that its samples are told apart from the hash's by their program counter.
TASK16_OPAQUE inline std::uint64_t churn(std::uint64_t x, std::uint64_t rounds)
{
  for (; rounds > 0; --rounds) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x *= 0x9e3779b97f4a7c15u;
  }
  return x;
}

// ---------------------------------------------------------------- labels

// A label names the work a sample belongs to, as a pprof label does
// (`pprof.Labels("endpoint", "/hash")`): here one text, "key=value". A label
// is a `char const*` to text that never moves and never dies (a string
// literal, or a static array): the signal handler may read it at any moment
// and may not copy it. nullptr is no label. The profile compares labels by
// their text, so two pointers to equal texts are one label.
inline constexpr char hash_label[] = "endpoint=/hash";

// Sets the calling thread's label for as long as the scope lives, and puts
// back the label the thread had before when it ends. Scopes nest. A sample
// taken on this thread while the scope lives counts under `label`.
//
//   { label_scope scope(hash_label); ... }   // pprof.Do(ctx, labels, func(ctx) {...})
class label_scope {
public:
  explicit label_scope(char const* label) noexcept;
  ~label_scope();
  label_scope(label_scope const&) = delete;
  label_scope& operator=(label_scope const&) = delete;

private:
  char const* previous_;  // what the scope puts back
};

// The calling thread's label now (nullptr when it has none).
char const* current_label() noexcept;

// A completion handler that runs `handler` under `label`, wherever and
// whenever it runs: when called, it sets the calling thread's label to
// `label`, calls `handler`, and puts back the label the thread had before.
//
// A label set with a label_scope lasts as long as the scope, on the thread
// that made it; the work a handler starts (a post, a timer, a read) completes
// later, on whichever thread runs the io_context then, long after the scope
// has ended. Go carries labels in the context.Context that the work is given;
// here, every handler that continues the work carries its label:
//
//   net::post(ex, bind_label(hash_label, [job] { job->next_slice(); }));
//
// The handler returned keeps what Asio associates with `handler`: its
// executor (a handler bound to a strand still runs on that strand; one bound
// to nothing runs on the executor it is posted to), its allocator and its
// cancellation slot.
net::any_completion_handler<void()> bind_label(char const* label, net::any_completion_handler<void()> handler);

// ---------------------------------------------------------------- the profiler

struct profiler_options {
  // Samples a second of each sampled thread's CPU time: a thread that uses
  // one second of CPU is sampled about `hz` times, whatever the wall clock
  // did meanwhile. From 1 to 10000.
  unsigned hz = 100;

  // How many (label, program counter) pairs the table of counts holds. When
  // every entry is taken, a sample of a pair not yet in the table is dropped
  // and counted in profile::dropped. From 1 to 65536.
  std::size_t slots = 4096;
};

// How many samples were taken at one program counter under one label.
struct pc_samples {
  char const* label = nullptr;  // as the thread's label was: nullptr for none
  std::uintptr_t pc = 0;        // the instruction the thread was interrupted at
  std::uint64_t samples = 0;
};

// The counts of a profiler at one moment: what snapshot() returns.
struct profile {
  std::vector<pc_samples> counts;  // one entry per (label, pc) pair, samples > 0; in no order
  std::uint64_t dropped = 0;       // samples the table had no entry for

  // All the samples counted (the dropped ones not included).
  std::uint64_t samples() const
  {
    std::uint64_t n = 0;
    for (auto const& c : counts) n += c.samples;
    return n;
  }
};

// A sampling CPU profiler in the process, the counterpart of Go's
// runtime/pprof CPU profile.
//
// While it runs, each sampled thread (see sampled_thread) has a timer of its
// own on its own CPU-time clock (timer_create on the thread's CPU clock,
// notifying that thread: SIGEV_THREAD_ID), which sends that thread SIGPROF
// every 1/hz s of the CPU time it uses. The SIGPROF handler counts one
// sample for the thread's label (current_label()) and the program counter
// at which the thread was interrupted (read from the ucontext_t the handler
// is given) in a table of fixed size. When the kernel reports that the timer
// expired more than once before the signal was delivered (siginfo_t's
// si_overrun: the kernel checks CPU timers at its clock tick, so at a high
// rate one signal stands for several periods), the sample counts that many
// times more, so that the counts stay proportional to CPU time.
//
// The handler is async-signal-safe: it allocates nothing, takes no lock,
// calls nothing that might, writes nothing but lock-free atomics, never
// waits, and leaves errno as it found it.
//
// A thread that is not sampled is never interrupted, whatever it does; a
// sampled thread that uses no CPU (waiting, sleeping) is not sampled either.
// Only one profiler runs at a time in a process.
class profiler {
public:
  explicit profiler(profiler_options options = {});
  // Stops it if it runs. Destroy every sampled_thread of this profiler first.
  ~profiler();
  profiler(profiler const&) = delete;
  profiler& operator=(profiler const&) = delete;

  // Installs the SIGPROF handler (keeping the disposition it replaces),
  // clears the counts, and arms a timer for every thread sampled now; a
  // thread that begins to be sampled later gets its timer then. Throws
  // std::logic_error if a profiler (this one or another) is running already.
  void start();

  // Deletes every timer, and puts back the SIGPROF disposition that start()
  // found, with no signal of the profiler's left pending: once stop()
  // returns, no SIGPROF of this profiler reaches the process again. The
  // counts stay as they were, for snapshot(). Does nothing if not running.
  void stop();

  bool running() const;

  // The counts now. Safe from any thread at any time, while running or not,
  // on a sampled thread too (a SIGPROF may interrupt the snapshot itself).
  profile snapshot() const;

  // Yours to define in profiler.cpp: what the profiler keeps.
  struct state;

private:
  friend class sampled_thread;
  std::shared_ptr<state> state_;
};

// While this object lives, the thread that made it is sampled whenever the
// profiler runs. Make it on the thread itself, first thing, and let it end
// before the thread does (a thread's id may be reused after it exits).
//
//   std::thread([&] { task16::sampled_thread sampled(prof); ioc.run(); });
class sampled_thread {
public:
  explicit sampled_thread(profiler& p);
  ~sampled_thread();
  sampled_thread(sampled_thread const&) = delete;
  sampled_thread& operator=(sampled_thread const&) = delete;

  // Yours to define in profiler.cpp: what a sampled thread is to its profiler.
  struct state;

private:
  std::shared_ptr<state> state_;
};

// ---------------------------------------------------------------- reading a profile

// The samples of one function under one label.
struct function_samples {
  std::string name;  // demangled: "task16::sha256_compress(unsigned int (&) [8], unsigned char const*)"
  std::uint64_t samples = 0;
};

// The samples under one label, and the functions they were taken in.
struct label_samples {
  std::string label;  // the label's text; "" for the samples without a label
  std::uint64_t samples = 0;
  std::vector<function_samples> functions;  // every function once; hottest first
};

// The profile by label and by function: a program counter is named by the
// function that holds it (dladdr, then abi::__cxa_demangle; a name that does
// not demangle stays as it is, and a counter no symbol covers is named by
// its address in hex, "0x55d0c0ffee00"), and the counts of the counters
// that name one function are added up. Labels with equal text are one.
// Labels in order of samples, most first (ties: by label text); within a
// label, functions in order of samples, most first (ties: by name). Each
// label's samples are the sum of its functions'.
std::vector<label_samples> summarize(profile const& p);

// The profile as the debug endpoint serves it, a text table:
//
//   profile: 1437 samples, 0 dropped
//   label endpoint=/hash: 912 samples
//     871 95.5% task16::sha256_compress(unsigned int (&) [8], unsigned char const*)
//     12 1.3% task16::hash_chain::run(unsigned long)
//   label (none): 525 samples
//     519 98.9% task16::churn(unsigned long, unsigned long)
//
// The first line: "profile: ", the samples counted, " samples, ", the
// samples dropped, " dropped". Then, for each label in summarize()'s order,
// "label ", the label (or "(none)"), ": ", its samples, " samples"; then its
// `top` hottest functions in summarize()'s order, one per line: two spaces,
// the samples, a space, the share of the label's samples in percent with
// one decimal and "%", a space, the name. Every line ends with "\n".
std::string format_profile(profile const& p, std::size_t top = 10);

// ---------------------------------------------------------------- the debug endpoint

// A listener of its own for the profile, the counterpart of Go's
// net/http/pprof on its own port. It answers HTTP/1.1:
//
//   GET /debug/profile         200, Content-Type: text/plain; the table
//                              (format_profile) of everything counted since
//                              the profiler started
//   GET /debug/profile?ms=N    200 after N ms (1 <= N <= 60000): the table of
//                              the samples counted during those N ms only
//                              (Go: /debug/pprof/profile?seconds=N). The
//                              server goes on serving other requests
//                              meanwhile.
//   anything else              404; a bad N is a 400
//
// A profile names the functions of a program and what it was doing: it is
// not for the network. The constructor throws std::invalid_argument, before
// opening any socket, unless the address is a loopback address (127.0.0.0/8
// or ::1).
class debug_server {
public:
  debug_server(net::io_context& ioc, net::ip::tcp::endpoint listen_on, profiler& p);
  // Call it once nothing runs `ioc` any more.
  ~debug_server();
  debug_server(debug_server const&) = delete;
  debug_server& operator=(debug_server const&) = delete;

  // Opens the listening socket and starts accepting; returns at once.
  void start();

  // Where the server listens; after start(), the real port.
  net::ip::tcp::endpoint local_endpoint() const;

  // Yours to define in profiler.cpp: what the server keeps.
  struct state;

private:
  std::shared_ptr<state> state_;
};

// ---------------------------------------------------------------- the /hash endpoint

// The most rounds a slice of the /hash work hashes in one handler.
inline constexpr std::uint64_t hash_slice_rounds = 1000;

// The /hash endpoint's handler. The server (test/hash_server.hpp) calls it
// for each `GET /hash?rounds=N` (1 <= N), on one of its threads, and answers
// the request with whatever `respond` is given.
//
// Run a hash_chain for `rounds` rounds, at most hash_slice_rounds of them
// per handler: each slice is a handler of its own, posted to `ex`, so that
// the next slice may run on any of the threads that run the io_context, and
// other requests are served between two slices. Then call `respond` (once,
// from any thread) with the chain's hex(). All of it runs under the label
// hash_label, every slice on whichever thread runs it; no thread keeps the
// label once its part is done.
void handle_hash(net::any_io_executor ex, std::uint64_t rounds, std::function<void(std::string digest)> respond);

} // namespace task16
