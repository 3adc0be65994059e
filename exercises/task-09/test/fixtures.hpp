// Task 09 · test helpers: a journal that collects every log line (the sink
// the server puts in each request's context), a random source the test can
// predict, the tests' own layers and handlers, and a way to call a handler
// directly. Handlers run on the server's threads and the test reads on its
// own: every shared thing is behind a mutex.
#pragma once

#include "chain_server.hpp"
#include "request_id.hpp"

#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace task09_test {

using status = task09::http::status;
using field = task09::http::field;

class journal {
public:
  void record(std::string line)
  {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }

  std::vector<std::string> lines() const
  {
    std::lock_guard lock(mutex_);
    return lines_;
  }

  void clear()
  {
    std::lock_guard lock(mutex_);
    lines_.clear();
  }

  // The lines that contain `text`.
  std::vector<std::string> containing(std::string_view text) const
  {
    std::vector<std::string> out;
    for (auto const& l : lines())
      if (l.find(text) != std::string::npos) out.push_back(l);
    return out;
  }

  task09::log_sink sink()
  {
    return [this](std::string const& line) { record(line); };
  }

  // A layer of the test's own that logs, through your log(), "NAME in" on
  // the way in and "NAME out" on the way out (by wrapping `done`).
  static task09::middleware marks(std::string name)
  {
    return [name = std::move(name)](task09::handler next) -> task09::handler {
      return [name, next = std::move(next)](task09::request_context ctx, task09::request& req,
                                            task09::respond done) {
        task09::log(ctx, name + " in");
        next(ctx, req, [ctx, name, done = std::move(done)](task09::response res) {
          task09::log(ctx, name + " out");
          done(std::move(res));
        });
      };
    };
  }

  static task09::response reply(status s, std::string body)
  {
    task09::response res{s, 11};
    res.set(field::content_type, "text/plain");
    res.body() = std::move(body);
    return res;
  }

  // Renders the lines for a failure message, one per line.
  std::string dump() const
  {
    std::ostringstream os;
    for (auto const& l : lines()) os << "  " << l << "\n";
    return os.str();
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A random source whose bytes the test knows: 0x00, 0x01, 0x02, ... 0xff,
// 0x00, ... across all its calls, in order. It also counts what it gave.
class counting_random {
public:
  task09::random_source source()
  {
    return [state = state_](std::span<unsigned char> out) {
      std::lock_guard lock(state->mutex);
      for (auto& b : out) b = static_cast<unsigned char>(state->next++ & 0xff);
      ++state->calls;
    };
  }

  std::size_t bytes_given() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->next;
  }

  int calls() const
  {
    std::lock_guard lock(state_->mutex);
    return state_->calls;
  }

  // The ID made of the 16 bytes starting at byte `first`.
  static std::string id_from(std::size_t first)
  {
    static constexpr char digits[] = "0123456789abcdef";
    std::string id;
    for (std::size_t i = 0; i < 16; ++i) {
      auto const b = static_cast<unsigned char>((first + i) & 0xff);
      id += digits[b >> 4];
      id += digits[b & 0x0f];
    }
    return id;
  }

  // The n-th ID (0-based) drawn from this source, 16 bytes each.
  static std::string nth_id(std::size_t n) { return id_from(16 * n); }

private:
  struct state_t {
    std::mutex mutex;
    std::size_t next = 0;
    int calls = 0;
  };
  std::shared_ptr<state_t> state_ = std::make_shared<state_t>();
};

// A list of problems for a failure message, one per line, the first `max`.
inline std::string listing(std::vector<std::string> const& items, std::size_t max = 12)
{
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) out += "  " + items[i] + "\n";
  if (items.size() > max) out += "  ... and " + std::to_string(items.size() - max) + " more\n";
  return out;
}

inline bool is_lower_hex_id(std::string_view id)
{
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// What a handler called directly did.
struct direct_outcome {
  std::optional<task09::response> response;
  int answers = 0;  // how many times `done` was called
};

// Calls h once, on this thread, with a context that logs to `j`, carries
// `id` and has no executor; for handlers that answer before they return.
inline direct_outcome call(task09::handler const& h, task09::request& req, journal& j, std::string id = "")
{
  auto out = std::make_shared<direct_outcome>();
  h(task09::request_context{{}, std::move(id), j.sink()}, req, [out](task09::response res) {
    ++out->answers;
    if (!out->response) out->response = std::move(res);
  });
  return *out;
}

inline task09::request direct(std::string target, workbook::header_list headers = {})
{
  task09::request req{task09::http::verb::get, target, 11};
  for (auto const& [name, value] : headers) req.insert(name, value);
  return req;
}

inline workbook::request get(std::string target, workbook::header_list headers = {})
{
  workbook::request req;
  req.target = std::move(target);
  req.headers = std::move(headers);
  return req;
}

inline workbook::header_list with_id(std::string id)
{
  return {{"X-Request-ID", std::move(id)}};
}

// A handler that says what it saw: the body is "ctx=<ID in the context>
// header=<X-Request-ID of the request, all of them, joined by '|'>", and it
// logs "handler target=<target>".
inline task09::handler reporting()
{
  return [](task09::request_context ctx, task09::request& req, task09::respond done) {
    std::string headers;
    for (auto const& f : req)
      if (workbook::iequals(f.name_string(), "X-Request-ID"))
        headers += (headers.empty() ? "" : "|") + std::string(f.value());
    task09::log(ctx, "handler target=" + std::string(req.target()));
    done(journal::reply(status::ok, "ctx=" + ctx.request_id + " header=" + headers));
  };
}

// The chain under test on a server: an io_context on `threads` threads, the
// server, and a journal for its log lines. Members are destroyed in reverse:
// the threads stop first, then the server goes, then the io_context.
struct served {
  explicit served(task09::handler h, int threads = 1)
      : server(ioc, std::move(h), j.sink())
  {
    io.emplace(ioc, threads);
  }
  ~served() { io.reset(); }

  unsigned short port() const { return server.port(); }

  journal j;
  boost::asio::io_context ioc;
  chain_server server;
  std::optional<workbook::io_threads> io;
};

} // namespace task09_test
