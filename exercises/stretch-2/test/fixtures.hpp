// Stretch 2 · test helpers.
//
//   backend_farm   backends "a", "b", "c"... on 127.0.0.1, port 0, each a
//                  scripted test_server that answers "X-Served-By: <id>"
//                  with the body "backend <id>", counts its traffic apart
//                  from the probes of GET /healthz, and can be made sick,
//                  silent, failing, wedged or killed (below)
//   lb_rig         your load_balancer in front of a farm, on an io_context
//                  of two threads, its events kept in an event_log, with a
//                  client for the proxy and one for the admin endpoint
//   load_driver    K threads, each with its own keep-alive client, sending
//                  GETs until told to stop and recording every answer
//   background_get one GET on a thread of its own, for a request a backend
//                  holds while the test goes on
//
// A backend reads a request's path (the query is ignored):
//   /healthz     a probe: answered by the health mode
//                  ok      200 "ok"
//                  sick    503, after an optional delay
//                  silent  no answer, the connection held open
//   anything else is traffic, answered by the traffic mode
//                  fail500 500 "backend <id> failed"
//                  silent  no answer, the connection held open
//                  ok      by path:
//     /hold/...    held until release(id) (held(id) counts them), then 200
//     /reset       the connection closed without an answer
//     /status/N    N
//     /cookie      200 with two Set-Cookie fields of its own (backend_cookies)
//     /echo        200, the body the raw request the backend received, and
//                  hop-by-hop fields of its own for the proxy to remove
//     else         200 "backend <id>"
//   kill(id) stops the server: its connections close and a connect to its
//   port is refused. wedge(id) makes it silent everywhere.
//
// The rig's defaults: round robin, health_interval 1 h (so only start()'s
// round 1 and POST /check probe), probe_timeout 100 ms, backend_timeout
// 300 ms. A test that holds requests raises backend_timeout.
#pragma once

#include "balancer.hpp"

#include <workbook/event_log.hpp>
#include <workbook/eventually.hpp>
#include <workbook/header_values.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/manual_clock.hpp>
#include <workbook/run_lengths.hpp>
#include <workbook/sanitizers.hpp>
#include <workbook/test_client.hpp>
#include <workbook/test_server.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace stretch2_test {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;
using stretch2::lb_event;
using event_kind = stretch2::lb_event::kind;
using task18::breaker_state;

inline tcp::endpoint local(unsigned short port) { return {net::ip::make_address("127.0.0.1"), port}; }

// A real-time upper bound: three times longer under a sanitizer.
inline milliseconds scaled(milliseconds d) { return workbook::sanitized ? d * 3 : d; }

inline milliseconds since(steady_clock::time_point start)
{
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

inline std::string printable(std::string_view s) { return workbook::transcript::printable(s, 2000); }

// ---------------------------------------------------------------- messages

using workbook::values_of;

using workbook::has_token;
using workbook::show;

inline std::string served_by(workbook::response const& r) { return r.header("X-Served-By").value_or("-"); }

// "200 a | 500 b | 0 (no answer within 2000 ms)": one entry per response.
// Responses in order, a run of equal outcomes written once with its count:
// "200 a | 200 b | 200 c | 3 x 502 a | 30 x 0 (connect ... refused)".
inline std::string describe(std::vector<workbook::response> const& rs)
{
  auto const outcome = [](workbook::response const& r) {
    return std::to_string(r.status) + " " + served_by(r) + (r.status == 0 ? " (" + r.error + ")" : "");
  };
  return workbook::run_lengths(rs, outcome, "(no response)");
}

inline std::string describe(workbook::response const& r)
{
  if (r.status == 0) return "no response: " + r.error;
  return std::to_string(r.status) + " " + r.reason + "\n" + show(r.headers) + "  \"" + printable(r.body) + "\"";
}

// The X-Served-By of each response, in order.
inline std::vector<std::string> served_sequence(std::vector<workbook::response> const& rs)
{
  std::vector<std::string> out;
  for (auto const& r : rs) out.push_back(served_by(r));
  return out;
}

inline std::string joined(std::vector<std::string> const& items)
{
  std::string out;
  for (auto const& i : items) out += (out.empty() ? "" : " ") + i;
  return out.empty() ? "(none)" : out;
}

// A request as a backend received it, read from the raw text.
struct raw_request {
  std::string line;  // "POST /echo HTTP/1.1"
  workbook::header_list headers;
  std::string body;
};

inline raw_request parse_raw(std::string_view raw)
{
  raw_request r;
  auto const head_end = raw.find("\r\n\r\n");
  auto const head = raw.substr(0, head_end);
  if (head_end != std::string_view::npos) r.body = std::string(raw.substr(head_end + 4));
  std::size_t pos = 0;
  bool first = true;
  while (pos <= head.size()) {
    auto const end = std::min(head.find("\r\n", pos), head.size());
    auto const line = head.substr(pos, end - pos);
    if (first) {
      r.line = std::string(line);
      first = false;
    } else if (auto const colon = line.find(':'); colon != std::string_view::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    pos = end + 2;
  }
  return r;
}

// ---------------------------------------------------------------- the backends

enum class health_mode { ok, sick, silent };
enum class traffic_mode { ok, fail500, silent };

// What /cookie sets, byte for byte.
inline std::vector<std::string> const backend_cookies = {"theme=dark; Path=/; SameSite=Lax", "lang=en"};

inline std::string const health_path = "/healthz";

// One probe as a backend received it.
struct probe_seen {
  steady_clock::time_point at;
  std::string line;  // "GET /healthz HTTP/1.1"
};

class backend_farm {
public:
  explicit backend_farm(int count = 3)
  {
    for (int i = 0; i < count; ++i) {
      auto s = std::make_shared<state>();
      s->id = std::string(1, static_cast<char>('a' + i));
      auto server = workbook::test_server::scripted([s](workbook::peer& p) { serve(p, *s); });
      backends_.push_back(std::make_unique<backend>(backend{s, std::move(server)}));
    }
  }
  ~backend_farm()
  {
    // Held requests end first: stop() joins the scripts' threads.
    for (auto& b : backends_) b->s->stop();
    for (auto& b : backends_) b->server.stop();
  }
  backend_farm(backend_farm const&) = delete;
  backend_farm& operator=(backend_farm const&) = delete;

  std::vector<std::string> ids() const
  {
    std::vector<std::string> out;
    for (auto const& b : backends_) out.push_back(b->s->id);
    return out;
  }
  std::vector<stretch2::backend_config> configs() const
  {
    std::vector<stretch2::backend_config> out;
    for (auto const& b : backends_) out.push_back({b->s->id, local(b->server.port())});
    return out;
  }
  unsigned short port(std::string const& id) const { return find(id).server.port(); }
  // "127.0.0.1:PORT", as GET /backends writes it.
  std::string address(std::string const& id) const { return "127.0.0.1:" + std::to_string(port(id)); }

  void set_health(std::string const& id, health_mode m, milliseconds delay = 0ms)
  {
    auto& s = *find(id).s;
    s.sick_delay_ms = static_cast<int>(delay.count());
    s.health = m;
  }
  void set_traffic(std::string const& id, traffic_mode m) { find(id).s->traffic = m; }
  // Silent everywhere: probes and traffic read, never answered.
  void wedge(std::string const& id)
  {
    set_health(id, health_mode::silent);
    set_traffic(id, traffic_mode::silent);
  }
  // Stops the server: its connections close, and a connect is refused.
  void kill(std::string const& id)
  {
    auto& b = find(id);
    b.s->stop();
    b.server.stop();
  }

  // Requests other than probes that reached the backend.
  int traffic(std::string const& id) const { return find(id).s->traffic_count.load(); }
  std::map<std::string, int> traffic() const
  {
    std::map<std::string, int> out;
    for (auto const& b : backends_) out[b->s->id] = b->s->traffic_count.load();
    return out;
  }
  // The raw text of each of those requests, in order.
  std::vector<std::string> requests(std::string const& id) const
  {
    auto& s = *find(id).s;
    std::lock_guard lock(s.mutex);
    return s.requests;
  }
  int probes(std::string const& id) const { return static_cast<int>(probe_log(id).size()); }
  std::vector<probe_seen> probe_log(std::string const& id) const
  {
    auto& s = *find(id).s;
    std::lock_guard lock(s.mutex);
    return s.probes;
  }

  // Requests to /hold/... the backend holds now.
  int held(std::string const& id) const
  {
    auto& s = *find(id).s;
    std::lock_guard lock(s.mutex);
    return s.held;
  }
  int held() const
  {
    int n = 0;
    for (auto const& b : backends_) n += held(b->s->id);
    return n;
  }
  // Waits until the backend holds n requests.
  bool until_held(std::string const& id, int n, milliseconds within = 2s) const
  {
    bool const ok = workbook::eventually([&] { return held(id) == n; }, within);
    UNSCOPED_INFO("backend " << id << " holds " << held(id) << " requests; the test waited for " << n << " ("
                             << describe_traffic() << ")");
    return ok;
  }
  // Answers every request the backend holds now with 200.
  void release(std::string const& id)
  {
    auto& s = *find(id).s;
    {
      std::lock_guard lock(s.mutex);
      ++s.releases;
    }
    s.cv.notify_all();
  }

  // "traffic a 10, b 0, c 10; held a 0, b 0, c 0; probes a 1, b 1, c 1".
  std::string describe_traffic() const
  {
    std::string t, h, p;
    for (auto const& b : backends_) {
      auto const& id = b->s->id;
      t += (t.empty() ? "" : ", ") + id + " " + std::to_string(traffic(id));
      h += (h.empty() ? "" : ", ") + id + " " + std::to_string(held(id));
      p += (p.empty() ? "" : ", ") + id + " " + std::to_string(probes(id));
    }
    return "traffic " + t + "; held " + h + "; probes " + p;
  }

private:
  struct state {
    std::string id;
    std::atomic<health_mode> health{health_mode::ok};
    std::atomic<int> sick_delay_ms{0};
    std::atomic<traffic_mode> traffic{traffic_mode::ok};
    std::atomic<int> traffic_count{0};

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::vector<probe_seen> probes;
    std::vector<std::string> requests;
    int held = 0;
    std::uint64_t releases = 0;
    bool stopping = false;

    void stop()
    {
      {
        std::lock_guard lock(mutex);
        stopping = true;
      }
      cv.notify_all();
    }

    // Holds until release(), the farm stops, or 10 s pass; false when the
    // farm stopped (the connection is then dropped, not answered).
    bool hold()
    {
      std::unique_lock lock(mutex);
      auto const generation = releases;
      ++held;
      cv.wait_for(lock, 10s, [&] { return releases != generation || stopping; });
      --held;
      return !stopping;
    }
  };
  struct backend {
    std::shared_ptr<state> s;
    workbook::test_server server;
  };

  backend& find(std::string const& id) const
  {
    for (auto const& b : backends_)
      if (b->s->id == id) return *b;
    throw std::invalid_argument("backend_farm: no backend " + id);
  }

  static std::string reply(state const& s, int status, std::string_view body, workbook::header_list more = {})
  {
    workbook::header_list headers = {{"X-Served-By", s.id}, {"Content-Type", "text/plain"}};
    headers.insert(headers.end(), more.begin(), more.end());
    return workbook::http_response(status, body, headers);
  }

  // One connection, on its own thread.
  static void serve(workbook::peer& p, state& s)
  {
    for (;;) {
      // Long enough for any test: the balancer may keep a connection idle.
      auto const raw = p.read_request(60s);
      if (raw.empty()) return;
      auto const line = raw.substr(0, raw.find("\r\n"));
      auto const first_space = line.find(' ');
      auto const second_space = line.find(' ', first_space + 1);
      std::string const target =
          first_space == std::string::npos ? "" : line.substr(first_space + 1, second_space - first_space - 1);
      std::string const path = target.substr(0, target.find('?'));

      if (path == health_path) {
        {
          std::lock_guard lock(s.mutex);
          s.probes.push_back({steady_clock::now(), line});
        }
        switch (s.health.load()) {
        case health_mode::ok:
          if (!p.write(reply(s, 200, "ok"))) return;
          continue;
        case health_mode::sick:
          if (s.sick_delay_ms > 0 && !p.pause(milliseconds(s.sick_delay_ms.load()))) return;
          if (!p.write(reply(s, 503, "sick"))) return;
          continue;
        case health_mode::silent:
          p.hold();
          return;
        }
      }

      {
        std::lock_guard lock(s.mutex);
        s.requests.push_back(raw);
      }
      s.traffic_count.fetch_add(1);
      switch (s.traffic.load()) {
      case traffic_mode::fail500:
        if (!p.write(reply(s, 500, "backend " + s.id + " failed"))) return;
        continue;
      case traffic_mode::silent:
        p.hold();
        return;
      case traffic_mode::ok:
        break;
      }

      std::string answer;
      if (path.rfind("/hold/", 0) == 0) {
        if (!s.hold()) return;
        answer = reply(s, 200, "backend " + s.id);
      } else if (path == "/reset") {
        p.close();
        return;
      } else if (path.rfind("/status/", 0) == 0) {
        answer = reply(s, std::stoi(path.substr(8)), "backend " + s.id);
      } else if (path == "/cookie") {
        answer = reply(s, 200, "backend " + s.id,
                       {{"Set-Cookie", backend_cookies[0]}, {"Set-Cookie", backend_cookies[1]}});
      } else if (path == "/echo") {
        answer = reply(s, 200, raw,
                       {{"Connection", "X-Backend-Hop"},
                        {"X-Backend-Hop", "1"},
                        {"Keep-Alive", "timeout=5, max=100"},
                        {"Proxy-Authenticate", "Basic realm=\"backend\""},
                        {"Trailer", "X-Checksum"},
                        {"Upgrade", "h2c"},
                        {"X-End-To-End", "kept"}});
      } else {
        answer = reply(s, 200, "backend " + s.id);
      }
      if (!p.write(answer)) return;
    }
  }

  std::vector<std::unique_ptr<backend>> backends_;
};

// ---------------------------------------------------------------- events

inline char const* kind_name(event_kind k)
{
  switch (k) {
  case event_kind::round_done: return "round_done";
  case event_kind::up: return "up";
  case event_kind::down: return "down";
  case event_kind::draining: return "draining";
  case event_kind::drained: return "drained";
  case event_kind::undrained: return "undrained";
  case event_kind::breaker: return "breaker";
  }
  return "?";
}

// "round_done (round 3)", "down b (round 2)", "breaker b closed->open".
inline std::string describe_event(lb_event const& e)
{
  std::string out = kind_name(e.what);
  if (!e.backend.empty()) out += " " + e.backend;
  if (e.what == event_kind::breaker)
    out += std::string(" ") + task18::to_string(e.from) + "->" + task18::to_string(e.to);
  else if (e.what == event_kind::round_done || e.what == event_kind::up || e.what == event_kind::down)
    out += " (round " + std::to_string(e.round) + ")";
  return out;
}

// Predicates for event_log::await and count.
inline std::function<bool(lb_event const&)> is(event_kind k, std::string backend = "")
{
  return [k, backend](lb_event const& e) { return e.what == k && (backend.empty() || e.backend == backend); };
}
inline std::function<bool(lb_event const&)> round_done(std::uint64_t n)
{
  return [n](lb_event const& e) { return e.what == event_kind::round_done && e.round == n; };
}
inline std::function<bool(lb_event const&)> breaker_moved(std::string backend, breaker_state from, breaker_state to)
{
  return [=](lb_event const& e) {
    return e.what == event_kind::breaker && e.backend == backend && e.from == from && e.to == to;
  };
}

// ---------------------------------------------------------------- the table

inline std::string describe(stretch2::backend_status const& b)
{
  std::ostringstream out;
  out << b.id << " " << stretch2::to_string(b.state) << (b.draining ? " draining" : "") << " breaker "
      << (b.breaker ? task18::to_string(*b.breaker) : "none") << " in_flight " << b.in_flight << " responses "
      << b.responses << " failures " << b.failures << " probes " << b.probes;
  return out.str();
}

inline std::string describe(std::vector<stretch2::backend_status> const& table)
{
  std::string out;
  for (auto const& b : table) out += "  " + describe(b) + "\n";
  return out.empty() ? "  (no backend)\n" : out;
}

// One row of the JSON table, as the contract writes it.
struct row {
  std::string id, address, health = "up";
  bool draining = false;
  std::optional<std::string> breaker;  // nullopt: null
  std::uint64_t in_flight = 0, responses = 0, failures = 0, probes = 0;
};

inline std::string table_text(std::string const& policy, std::vector<row> const& rows)
{
  std::string out = "{\"policy\":\"" + policy + "\",\"backends\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto const& r = rows[i];
    if (i > 0) out += ",";
    out += "{\"id\":\"" + r.id + "\",\"address\":\"" + r.address + "\",\"health\":\"" + r.health +
           "\",\"draining\":" + (r.draining ? "true" : "false") +
           ",\"breaker\":" + (r.breaker ? "\"" + *r.breaker + "\"" : std::string("null")) +
           ",\"in_flight\":" + std::to_string(r.in_flight) + ",\"responses\":" + std::to_string(r.responses) +
           ",\"failures\":" + std::to_string(r.failures) + ",\"probes\":" + std::to_string(r.probes) + "}";
  }
  return out + "]}";
}

// ---------------------------------------------------------------- the admin endpoint

// An admin response and its body read as JSON (discarded when it is not).
struct admin_reply {
  workbook::response response;
  nlohmann::json json;

  int status() const { return response.status; }
  bool is_json() const { return !json.is_discarded(); }
  // The JSON object's "backends" entry whose id is `id`, or null.
  nlohmann::json backend(std::string const& id) const
  {
    if (!is_json() || !json.is_object() || !json.contains("backends") || !json["backends"].is_array()) return nullptr;
    for (auto const& b : json["backends"])
      if (b.is_object() && b.value("id", "") == id) return b;
    return nullptr;
  }
  // A field of that entry ("health", "draining"...), or null.
  nlohmann::json field(std::string const& id, std::string const& key) const
  {
    auto const b = backend(id);
    if (!b.is_object() || !b.contains(key)) return nullptr;
    return b[key];
  }
  std::string describe() const { return stretch2_test::describe(response); }
};

inline admin_reply read_admin(workbook::response r)
{
  admin_reply out;
  out.json = nlohmann::json::parse(r.body, nullptr, false);
  out.response = std::move(r);
  return out;
}

// ---------------------------------------------------------------- the rig

using adjust_fn = std::function<void(stretch2::balancer_options&)>;

// Your load_balancer in front of `farm` on 127.0.0.1 (port 0, both ports),
// its io_context run by two threads, started. `adjust` changes the options
// after the rig's defaults. Destroyed bottom-up: the balancer goes first,
// while the threads still run (its destructor is not to be called from an
// io thread), then the threads stop.
class lb_rig {
public:
  explicit lb_rig(backend_farm& farm, adjust_fn const& adjust = {}) : farm_(farm)
  {
    options.health_interval = std::chrono::hours(1);
    options.probe_timeout = 100ms;
    options.backend_timeout = 300ms;
    options.on_event = log.sink();
    if (adjust) adjust(options);
    lb.emplace(ioc.get_executor(), local(0), local(0), farm.configs(), options);
    lb->start();
  }
  lb_rig(lb_rig const&) = delete;
  lb_rig& operator=(lb_rig const&) = delete;

  unsigned short port() const { return lb->local_endpoint().port(); }
  unsigned short admin_port() const { return lb->admin_endpoint().port(); }

  // A new keep-alive client of the proxy.
  workbook::test_client proxy(milliseconds timeout = 2s) const { return workbook::test_client(port(), timeout); }

  // Requests on the rig's own keep-alive connection to the admin endpoint.
  admin_reply admin(workbook::request r)
  {
    if (!admin_client_) admin_client_.emplace(admin_port(), 3s);
    return read_admin(admin_client_->send(std::move(r)));
  }
  admin_reply admin_get(std::string target) { return admin({"GET", std::move(target), {}, ""}); }
  admin_reply admin_post(std::string target, std::string body = "")
  {
    return admin({"POST", std::move(target), {}, std::move(body)});
  }
  // POST /check: the table after a probe round that started after it.
  admin_reply check() { return admin_post("/check"); }
  int admin_connections() const { return admin_client_ ? admin_client_->connections_opened() : 0; }

  // Waits for round 1 (start()'s) to end: from then on every backend's
  // health is what its first probe said. Only the tests that judge health
  // or count probes wait for it: with every backend healthy, routing is
  // the same before round 1 (unknown is eligible), so the criteria of the
  // data plane can pass before the probes exist.
  void settled()
  {
    // Round 1 takes one probe_timeout (100 ms) at most; the bound stays
    // well inside a case's time limit, so a missing round is reported as
    // such, not as a case that timed out.
    auto const within = scaled(600ms);
    auto const done = log.await(round_done(1), within);
    INFO("probe round 1 (run by start()) did not end within " << within.count() << " ms\n" << log.describe());
    REQUIRE(done.has_value());
  }

  std::vector<stretch2::backend_status> table() const { return lb->backends(); }
  stretch2::backend_status status(std::string const& id) const
  {
    for (auto const& b : lb->backends())
      if (b.id == id) return b;
    return {};
  }
  // The table, the events and the farm's counts, for INFO.
  std::string state() const
  {
    return "backends():\n" + describe(lb->backends()) + farm_.describe_traffic() + "\n" + log.describe();
  }

  net::io_context ioc;
  workbook::event_log<lb_event> log{describe_event};
  stretch2::balancer_options options;

private:
  backend_farm& farm_;
  workbook::io_threads threads_{ioc, 2};
  std::optional<workbook::test_client> admin_client_;

public:
  std::optional<stretch2::load_balancer> lb;  // last: destroyed first
};

// n GETs of `target` on one client, one after the other (fewer if the
// proxy cannot be reached at all).
inline std::vector<workbook::response> get_n(workbook::test_client& client, int n, std::string const& target = "/",
                                             workbook::header_list const& headers = {})
{
  std::vector<workbook::response> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(client.send({"GET", target, headers, ""}));
    // Nothing listens: the next n - i - 1 would fail the same way.
    if (out.back().status == 0 && out.back().error.starts_with("connect to")) break;
  }
  return out;
}

inline std::map<std::string, int> count_served(std::vector<workbook::response> const& rs)
{
  std::map<std::string, int> out;
  for (auto const& r : rs) ++out[served_by(r)];
  return out;
}

inline std::string describe(std::map<std::string, int> const& counts)
{
  std::string out;
  for (auto const& [k, v] : counts) out += (out.empty() ? "" : ", ") + k + " " + std::to_string(v);
  return out.empty() ? "(none)" : out;
}

// How much each backend's traffic grew since `before`.
inline std::map<std::string, int> delta(std::map<std::string, int> const& before, std::map<std::string, int> const& after)
{
  std::map<std::string, int> out;
  for (auto const& [k, v] : after) out[k] = v - (before.count(k) ? before.at(k) : 0);
  return out;
}

// ---------------------------------------------------------------- background requests

// One request sent from a thread of its own, on a client of its own: for a
// request a backend holds while the test goes on.
class background_get {
public:
  background_get(unsigned short port, std::string target, milliseconds timeout = 5s,
                 workbook::header_list headers = {})
      : result_(std::async(std::launch::async, [port, target = std::move(target), timeout, headers = std::move(headers)] {
          workbook::test_client client(port, timeout);
          return client.send({"GET", target, headers, ""});
        }))
  {
  }
  // The response, or status 0 when none came within `within`.
  workbook::response wait(milliseconds within = 3s)
  {
    if (!result_.valid()) return got_;
    if (result_.wait_for(within) != std::future_status::ready) {
      workbook::response r;
      r.error = "no response within " + std::to_string(within.count()) + " ms of waiting";
      return r;
    }
    got_ = result_.get();
    return got_;
  }
  bool done() const { return !result_.valid() || result_.wait_for(0s) == std::future_status::ready; }

private:
  std::future<workbook::response> result_;
  workbook::response got_;
};

// ---------------------------------------------------------------- load

struct sample {
  steady_clock::time_point start, end;
  int status = 0;
  std::string served_by;
  std::string error;
};

// `clients` threads, each with a keep-alive client of its own, sending GET
// `target` in a loop until stop() (or destruction), recording each answer.
class load_driver {
public:
  load_driver(unsigned short port, int clients, std::string target = "/load")
  {
    for (int i = 0; i < clients; ++i)
      threads_.emplace_back([this, port, target] {
        workbook::test_client client(port, 2s);
        while (!stop_.load()) {
          sample s;
          s.start = steady_clock::now();
          auto const r = client.get(target);
          s.end = steady_clock::now();
          s.status = r.status;
          s.served_by = r.header("X-Served-By").value_or("-");
          s.error = r.error;
          std::lock_guard lock(mutex_);
          samples_.push_back(std::move(s));
        }
      });
  }
  ~load_driver() { stop(); }
  load_driver(load_driver const&) = delete;
  load_driver& operator=(load_driver const&) = delete;

  void stop()
  {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::vector<sample> samples() const
  {
    std::lock_guard lock(mutex_);
    return samples_;
  }
  // Answers to requests that started at or after `t`.
  std::size_t started_after(steady_clock::time_point t) const
  {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(samples_.begin(), samples_.end(), [&](sample const& s) { return s.start >= t; }));
  }
  // Waits until `n` answers to requests started at or after `t` are in.
  bool until_started_after(steady_clock::time_point t, std::size_t n, milliseconds within)
  {
    return workbook::eventually([&] { return started_after(t) >= n; }, within);
  }

private:
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<sample> samples_;
  std::vector<std::thread> threads_;
};

// Counts by status and by backend, and every answer that was not a 200
// (its start and length relative to `origin`).
inline std::string describe(std::vector<sample> const& samples, steady_clock::time_point origin)
{
  std::map<int, int> by_status;
  std::map<std::string, int> by_backend;
  std::string odd;
  int shown = 0;
  for (auto const& s : samples) {
    ++by_status[s.status];
    ++by_backend[s.served_by];
    if (s.status != 200 && shown++ < 20)
      odd += "    started +" +
             std::to_string(std::chrono::duration_cast<milliseconds>(s.start - origin).count()) + " ms, took " +
             std::to_string(std::chrono::duration_cast<milliseconds>(s.end - s.start).count()) + " ms: " +
             std::to_string(s.status) + " " + s.served_by + (s.error.empty() ? "" : " (" + s.error + ")") + "\n";
  }
  std::string out = std::to_string(samples.size()) + " answers; by status:";
  for (auto const& [k, v] : by_status) out += " " + std::to_string(k) + "x" + std::to_string(v);
  out += "; by backend:";
  for (auto const& [k, v] : by_backend) out += " " + k + "x" + std::to_string(v);
  out += "\n";
  if (!odd.empty()) out += "  not 200 (times from the test's origin):\n" + odd;
  return out;
}

} // namespace stretch2_test
