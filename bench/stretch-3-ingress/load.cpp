// The load generator: an open-loop HTTPS client over many tenants, on one
// thread (run.sh pins it to core 1).
//
//   load --port P --ca DIR/edge-ca.crt --tenants T --rate R --seconds S --k K
//        [--resume] [--warmup] [--max-conns C] [--seed N] [--watch NAME=PID]...
//   load --make-certs DIR --tenants T
//
// Open loop: request j is due at start + j/R, whatever happened to the ones
// before it, and its latency runs from that due time to the end of its
// response. A client that waited for an answer before sending the next
// request would slow down exactly when the server does, and its latencies
// would leave out the time requests spent waiting to be sent (coordinated
// omission). Each request goes to a tenant drawn uniformly from T: on an
// idle keep-alive connection of that tenant if there is one, else on a new
// connection that sends the tenant's name as SNI, verifies the certificate
// against the edge CA and that name, and, with --resume, offers the
// tenant's last session. A connection is closed, with close_notify, after K
// requests. At most C connections are open at once (the descriptors are
// shared with the ingress's upstream connections): past that the oldest idle
// connection of another tenant is closed, or the request waits its turn.
//
// --warmup first touches every tenant once (64 at a time), so that the
// ingress's pool has built every tenant's upstream before the measurement,
// and with --resume every tenant has a session to offer.
//
// Prints one line of JSON: what was offered and achieved, latency
// percentiles, handshakes full and resumed, failures by reason, wrong
// certificates (a handshake whose certificate was not the tenant's), and the
// CPU seconds this process and each --watch process spent in the measured
// window (read from /proc, so that the warm-up is left out).
#include "tenants.hpp"

#include <workbook/tls_exchange.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);

struct options {
  unsigned short port = 0;
  std::string ca;
  int tenants = 1;
  double rate = 1000;
  double seconds = 10;
  int k = 10;
  bool resume = false;
  bool warmup = false;
  std::size_t max_connections = 4096;
  unsigned seed = 1;
  std::chrono::milliseconds timeout{10'000};  // one exchange, or one connect and handshake
  std::chrono::milliseconds drain{2'000};     // after the last due time, for the stragglers
  std::vector<std::pair<std::string, int>> watch;  // NAME=PID: processes whose CPU time to report
  std::string make_certs;                     // the other mode
};

options parse(int argc, char** argv)
{
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string const flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--port") o.port = static_cast<unsigned short>(std::stoi(value()));
    else if (flag == "--ca") o.ca = value();
    else if (flag == "--tenants") o.tenants = std::stoi(value());
    else if (flag == "--rate") o.rate = std::stod(value());
    else if (flag == "--seconds") o.seconds = std::stod(value());
    else if (flag == "--k") o.k = std::stoi(value());
    else if (flag == "--resume") o.resume = true;
    else if (flag == "--warmup") o.warmup = true;
    else if (flag == "--max-conns") o.max_connections = std::stoul(value());
    else if (flag == "--seed") o.seed = static_cast<unsigned>(std::stoul(value()));
    else if (flag == "--make-certs") o.make_certs = value();
    else if (flag == "--watch") {
      auto const v = value();
      auto const eq = v.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--watch NAME=PID");
      o.watch.emplace_back(v.substr(0, eq), std::stoi(v.substr(eq + 1)));
    }
    else throw std::invalid_argument("unknown flag " + flag);
  }
  if (o.tenants <= 0 || o.k <= 0 || o.rate <= 0 || o.seconds <= 0 || o.max_connections == 0)
    throw std::invalid_argument("--tenants, --k, --rate, --seconds and --max-conns must be positive");
  if (o.make_certs.empty() && (o.port == 0 || o.ca.empty()))
    throw std::invalid_argument("usage: load --port P --ca FILE [...] or load --make-certs DIR --tenants N");
  return o;
}

double cpu_seconds()
{
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto const s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// Another process's user + system CPU seconds: fields 14 and 15 of
// /proc/PID/stat, counted after the command name's closing parenthesis
// (the name may hold spaces). 0 if the process is gone.
double cpu_seconds(int pid)
{
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto const paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; fields >> field && n <= 15; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string json_string(std::string_view s)
{
  std::string out = "\"";
  for (char const c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "\"";
}

// ---------------------------------------------------------------- tenants and connections

struct session_free {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_free>;

struct connection;

struct tenant {
  std::string name;                                // SNI, the name checked, and Host
  std::deque<std::shared_ptr<connection>> idle;    // oldest at the front
  session_ptr session;                             // the last one the ingress issued, for --resume
};

struct connection {
  connection(net::any_io_executor const& executor, ssl::context& context, tenant& t)
      : stream(executor, context), owner(t)
  {
  }
  workbook::tls::stream stream;
  beast::flat_buffer buffer;
  tenant& owner;
  int used = 0;  // requests answered on it
};

// Which tenant an SSL object's connection belongs to, for the new-session
// callback (SSL ex_data: Asio keeps the app data slot for itself).
int tenant_slot()
{
  static int const index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// TLS 1.3 sends sessions after the handshake, as tickets the client reads
// with the first response: this is where the client learns of them. The
// newest replaces the one kept. Kept as a copy, and offered as a copy (see
// open()): the session object a connection holds is the connection's to
// spoil (OpenSSL marks it not resumable when the connection is freed in
// some states), and a spoiled session makes the next handshake a full one
// without a word.
int on_new_session(SSL* ssl, SSL_SESSION* session)
{
  if (auto* owner = static_cast<tenant*>(SSL_get_ex_data(ssl, tenant_slot())))
    owner->session.reset(SSL_SESSION_dup(session));
  return 0;  // OpenSSL keeps its own reference, and frees it
}

// A one-shot wake-up a coroutine waits for: a timer that, unless notify()
// cancels it first, expires at the deadline.
class wakeup {
public:
  explicit wakeup(net::any_io_executor const& executor) : timer_(executor) {}
  void notify()
  {
    notified_ = true;
    timer_.cancel();
  }
  net::awaitable<void> wait_until(clock_type::time_point deadline)
  {
    if (notified_) co_return;
    timer_.expires_at(deadline);
    co_await timer_.async_wait(tuple);
  }

private:
  net::steady_timer timer_;
  bool notified_ = false;
};

// ---------------------------------------------------------------- the generator

struct request {
  std::size_t tenant;
  clock_type::time_point due;
};

struct counts {
  std::uint64_t completed = 0, completed_in_window = 0, full = 0, resumed = 0, handshake_failures = 0,
                wrong_certificates = 0, opened = 0, evicted = 0;
  std::map<std::string, std::uint64_t> failures;  // reason -> requests
  std::vector<double> latencies_ms;
};

class generator {
public:
  generator(net::any_io_executor executor, options o)
      : executor_(std::move(executor)), options_(std::move(o)), context_(ssl::context::tls_client),
        backend_(net::ip::make_address("127.0.0.1"), options_.port), rng_(options_.seed), drained_(executor_)
  {
    context_.load_verify_file(options_.ca);
    // The chain against the edge CA; the name is checked too, per
    // connection (SSL_set1_host in open()).
    context_.set_verify_mode(ssl::verify_peer);
    if (options_.resume) {
      auto* native = context_.native_handle();
      SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb(native, on_new_session);
    }
    tenants_.resize(static_cast<std::size_t>(options_.tenants));
    for (std::size_t i = 0; i < tenants_.size(); ++i) tenants_[i].name = bench::served_name(static_cast<int>(i));
  }

  net::awaitable<void> run()
  {
    double warmup_seconds = 0;
    if (options_.warmup) {
      auto const begin = clock_type::now();
      co_await warm_up();
      warmup_seconds = std::chrono::duration<double>(clock_type::now() - begin).count();
    }
    counts_ = {};
    // CPU over the window in which requests are due: past it, a saturated
    // server is only draining.
    std::vector<double> cpu(options_.watch.size() + 1);
    auto const snapshot = [&](double sign) {
      cpu[0] += sign * cpu_seconds();
      for (std::size_t i = 0; i < options_.watch.size(); ++i) cpu[i + 1] += sign * cpu_seconds(options_.watch[i].second);
    };
    snapshot(-1);
    start_ = clock_type::now() + std::chrono::milliseconds(1);
    window_end_ = start_ + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(options_.seconds));
    co_await schedule();
    snapshot(+1);
    co_await drained_.wait_until(window_end_ + options_.drain);
    stopped_ = true;
    auto const unfinished = pending_.size() + in_flight_;
    pending_.clear();
    report(warmup_seconds, cpu, unfinished);
    // Goodbye to every idle connection; requests still in flight end on
    // their own (bounded by the timeout), and then the io_context runs dry.
    for (auto& t : tenants_) {
      for (auto& c : t.idle) spawn(close(std::move(c)));
      t.idle.clear();
    }
  }

private:
  // ------------------------------------------------ one connection

  std::shared_ptr<connection> make_connection(tenant& t)
  {
    return std::make_shared<connection>(executor_, context_, t);
  }

  // How open() ended: the error, and whether it came from the handshake
  // (the connect had succeeded).
  struct opened {
    error_code ec;
    bool in_handshake = false;
  };

  // Connects and handshakes: SNI, the name the certificate must carry, and
  // the tenant's last session under --resume.
  net::awaitable<opened> open(connection& c)
  {
    SSL* ssl = c.stream.native_handle();
    SSL_set_ex_data(ssl, tenant_slot(), &c.owner);
    if (!SSL_set_tlsext_host_name(ssl, c.owner.name.c_str()) || !SSL_set1_host(ssl, c.owner.name.c_str()))
      co_return opened{error_code(static_cast<int>(ERR_get_error()), net::error::get_ssl_category())};
    auto& socket = beast::get_lowest_layer(c.stream);
    socket.expires_after(options_.timeout);
    auto [connect_error] = co_await socket.async_connect(backend_, tuple);
    if (connect_error) co_return opened{connect_error};
    // The tenant's newest session, taken now that the ClientHello is about
    // to be written (a ticket may have replaced it during the connect).
    if (options_.resume && c.owner.session) {
      session_ptr const copy(SSL_SESSION_dup(c.owner.session.get()));
      SSL_set_session(ssl, copy.get());  // takes a reference of its own
    }
    auto [handshake_error] = co_await c.stream.async_handshake(ssl::stream_base::client, tuple);
    socket.expires_never();
    co_return opened{handshake_error, true};
  }

  // One request and its response, under the timeout.
  net::awaitable<std::tuple<error_code, workbook::client_response>> exchange(connection& c)
  {
    workbook::tls::request_message message{http::verb::get, "/", 11};
    message.set(http::field::host, c.owner.name);
    auto& socket = beast::get_lowest_layer(c.stream);
    socket.expires_after(options_.timeout);
    auto result = co_await workbook::tls::async_exchange(c.stream, c.buffer, message, tuple);
    socket.expires_never();
    co_return result;
  }

  // close_notify, and the server's in return, bounded: a connection that
  // ends like this is one the ingress can count as closed cleanly.
  net::awaitable<void> close(std::shared_ptr<connection> c)
  {
    auto& socket = beast::get_lowest_layer(c->stream);
    socket.expires_after(std::chrono::seconds(2));
    co_await c->stream.async_shutdown(tuple);
    socket.close();
  }

  void spawn(net::awaitable<void> work)
  {
    net::co_spawn(executor_, std::move(work), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }

  // ------------------------------------------------ warm-up

  net::awaitable<void> warm_up()
  {
    std::size_t next = 0;
    std::size_t workers = std::min<std::size_t>(64, tenants_.size());
    wakeup done(executor_);
    for (std::size_t w = workers; w > 0; --w)
      net::co_spawn(executor_, touch_tenants(next), [&workers, &done](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        if (--workers == 0) done.notify();
      });
    co_await done.wait_until(clock_type::time_point::max());
  }

  // Takes the next untouched tenant until none is left: one request on a
  // new connection, then close_notify.
  net::awaitable<void> touch_tenants(std::size_t& next)
  {
    while (next < tenants_.size()) {
      auto c = make_connection(tenants_[next++]);
      auto ec = (co_await open(*c)).ec;
      if (!ec) {
        workbook::client_response response;
        std::tie(ec, response) = co_await exchange(*c);
        if (!ec && response.result() != http::status::ok) ec = net::error::fault;
        if (!ec) co_await close(c);
      }
      if (ec) {
        std::fprintf(stderr, "load: warm-up of %s failed: %s\n", c->owner.name.c_str(), ec.message().c_str());
        ++warmup_failures_;
      }
    }
  }

  // ------------------------------------------------ the open loop

  net::awaitable<void> schedule()
  {
    net::steady_timer timer(executor_);
    std::uniform_int_distribution<std::size_t> pick(0, tenants_.size() - 1);
    auto const total = static_cast<std::size_t>(std::llround(options_.rate * options_.seconds));
    auto const due = [&](std::size_t j) {
      return start_ + std::chrono::duration_cast<clock_type::duration>(
                          std::chrono::duration<double>(static_cast<double>(j) / options_.rate));
    };
    std::size_t j = 0;
    while (j < total) {
      // Every request already due goes out now, however late the loop woke.
      for (auto const now = clock_type::now(); j < total && due(j) <= now; ++j) pending_.push_back({pick(rng_), due(j)});
      dispatch();
      if (j < total) {
        timer.expires_at(due(j));
        co_await timer.async_wait(tuple);
      }
    }
    scheduled_all_ = true;
    notify_if_drained();
  }

  // Sends what is pending, oldest first, for as long as connections allow.
  void dispatch()
  {
    while (!stopped_ && !pending_.empty()) {
      auto const r = pending_.front();
      auto& t = tenants_[r.tenant];
      if (!t.idle.empty()) {
        auto c = std::move(t.idle.back());  // the warmest
        t.idle.pop_back();
        pending_.pop_front();
        ++in_flight_;
        spawn(send(std::move(c), r));
      } else if (open_ < options_.max_connections) {
        ++open_;
        ++counts_.opened;
        pending_.pop_front();
        ++in_flight_;
        spawn(open_and_send(make_connection(t), r));
      } else if (!evict_idle()) {
        return;  // every connection busy: the next completion dispatches again
      }
    }
  }

  // At the limit: closes the oldest idle connection (of another tenant:
  // this one has none idle) to make room.
  bool evict_idle()
  {
    while (!idle_order_.empty()) {
      tenant* t = idle_order_.front();
      idle_order_.pop_front();
      if (t->idle.empty()) continue;  // its connections were taken since
      auto c = std::move(t->idle.front());
      t->idle.pop_front();
      --open_;
      ++counts_.evicted;
      spawn(close(std::move(c)));
      return true;
    }
    return false;
  }

  net::awaitable<void> open_and_send(std::shared_ptr<connection> c, request r)
  {
    auto const [ec, in_handshake] = co_await open(*c);
    if (stopped_) co_return;
    if (ec) {
      auto const verified = SSL_get_verify_result(c->stream.native_handle());
      if (in_handshake) ++counts_.handshake_failures;
      if (verified != X509_V_OK) {
        ++counts_.wrong_certificates;
        fail(std::string("wrong certificate: ") + X509_verify_cert_error_string(verified));
      } else if (ec == beast::error::timeout) {
        fail(in_handshake ? "handshake timeout" : "connect timeout");
      } else {
        fail((in_handshake ? "handshake: " : "connect: ") + ec.message());
      }
      --open_;
      dispatch();
      co_return;
    }
    ++(SSL_session_reused(c->stream.native_handle()) ? counts_.resumed : counts_.full);
    co_await send(std::move(c), r);
  }

  net::awaitable<void> send(std::shared_ptr<connection> c, request r)
  {
    auto [ec, response] = co_await exchange(*c);
    if (stopped_) co_return;
    auto const now = clock_type::now();
    if (ec) {
      fail(ec == beast::error::timeout ? "timeout" : "exchange: " + ec.message());
      --open_;
    } else {
      if (response.result() == http::status::ok) {
        ++counts_.completed;
        if (now <= window_end_) ++counts_.completed_in_window;
        counts_.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - r.due).count());
        --in_flight_;
      } else {
        fail("status " + std::to_string(response.result_int()));
      }
      if (++c->used >= options_.k || !response.keep_alive()) {
        --open_;
        spawn(close(std::move(c)));
      } else {
        c->owner.idle.push_back(c);
        idle_order_.push_back(&c->owner);
      }
    }
    dispatch();
    notify_if_drained();
  }

  void fail(std::string const& reason)
  {
    ++counts_.failures[reason];
    --in_flight_;
    notify_if_drained();
  }

  void notify_if_drained()
  {
    if (scheduled_all_ && pending_.empty() && in_flight_ == 0) drained_.notify();
  }

  // ------------------------------------------------ the report

  void report(double warmup_seconds, std::vector<double> const& cpu, std::size_t unfinished)
  {
    std::string cpu_json = "\"client\":" + std::to_string(cpu[0]);
    for (std::size_t i = 0; i < options_.watch.size(); ++i)
      cpu_json += "," + json_string(options_.watch[i].first) + ":" + std::to_string(cpu[i + 1]);
    auto& l = counts_.latencies_ms;
    std::sort(l.begin(), l.end());
    auto const percentile = [&l](double p) {
      if (l.empty()) return 0.0;
      auto const rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(l.size())));
      return l[std::min(l.size(), std::max<std::size_t>(rank, 1)) - 1];
    };
    std::uint64_t failed = 0;
    std::string reasons;
    for (auto const& [reason, n] : counts_.failures) {
      failed += n;
      reasons += (reasons.empty() ? "" : ",") + json_string(reason) + ":" + std::to_string(n);
    }
    double const s = options_.seconds;
    std::printf("{\"tenants\":%d,\"offered\":%.0f,\"k\":%d,\"resume\":%s,\"seconds\":%.1f,"
                "\"achieved\":%.1f,\"completed\":%llu,\"failed\":%llu,\"unfinished\":%zu,"
                "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
                "\"handshakes_full\":%llu,\"handshakes_resumed\":%llu,\"full_hs_per_s\":%.1f,\"resumed_hs_per_s\":%.1f,"
                "\"hs_failures\":%llu,\"wrong_certificates\":%llu,\"failures\":{%s},"
                "\"connections_opened\":%llu,\"evicted\":%llu,\"warmup_s\":%.2f,\"warmup_failures\":%llu,"
                "\"cpu_s\":{%s}}\n",
                options_.tenants, options_.rate, options_.k, options_.resume ? "true" : "false", s,
                static_cast<double>(counts_.completed_in_window) / s,
                static_cast<unsigned long long>(counts_.completed), static_cast<unsigned long long>(failed), unfinished,
                percentile(0.50), percentile(0.99), percentile(0.999), l.empty() ? 0.0 : l.back(),
                static_cast<unsigned long long>(counts_.full), static_cast<unsigned long long>(counts_.resumed),
                static_cast<double>(counts_.full) / s, static_cast<double>(counts_.resumed) / s,
                static_cast<unsigned long long>(counts_.handshake_failures),
                static_cast<unsigned long long>(counts_.wrong_certificates), reasons.c_str(),
                static_cast<unsigned long long>(counts_.opened), static_cast<unsigned long long>(counts_.evicted),
                warmup_seconds, static_cast<unsigned long long>(warmup_failures_), cpu_json.c_str());
    std::fflush(stdout);
  }

  net::any_io_executor executor_;
  options const options_;
  ssl::context context_;
  tcp::endpoint const backend_;
  std::mt19937_64 rng_;
  std::vector<tenant> tenants_;  // never resized after construction: connections point into it

  std::deque<request> pending_;        // due, not yet sent
  std::deque<tenant*> idle_order_;     // a tenant each time one of its connections went idle, oldest first
  std::size_t open_ = 0;               // connections counted against --max-conns
  std::size_t in_flight_ = 0;          // requests sent (or being connected for), not yet answered
  bool scheduled_all_ = false;
  bool stopped_ = false;               // past the drain: nothing more is sent or counted
  wakeup drained_;
  clock_type::time_point start_, window_end_;
  counts counts_;
  std::uint64_t warmup_failures_ = 0;
};

} // namespace

int main(int argc, char** argv)
{
  try {
    auto o = parse(argc, argv);
    if (!o.make_certs.empty()) {
      auto const begin = clock_type::now();
      bench::make_certificates(o.make_certs, o.tenants);
      std::fprintf(stderr, "load: %d tenants' certificates in %s (%.1f s)\n", o.tenants, o.make_certs.c_str(),
                   std::chrono::duration<double>(clock_type::now() - begin).count());
      return 0;
    }
    net::io_context ioc(1);
    generator g(ioc.get_executor(), std::move(o));
    net::co_spawn(ioc, g.run(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    ioc.run();
  } catch (std::exception const& e) {
    std::fprintf(stderr, "load: %s\n", e.what());
    return 1;
  }
}
