// Task 20 · test helpers: tenants whose certificates a test CA issues at run
// time, a "vault" that hands out a tenant's credentials (counted, and able
// to hold a build back or make it fail), your pool on an io_context run by
// two threads, a TLS backend that records each handshake's SNI and client
// certificate (workbook::tls_test_server), and one round trip with a
// bounded wait.
#pragma once

#include "tenant_pool.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/eventually.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/manual_clock.hpp>
#include <workbook/test_ca.hpp>
#include <workbook/tls_test_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace task20_test {

namespace net = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;
using workbook::since;
using boost::system::error_code;

// ---------------------------------------------------------------- tenants

// A tenant as the tests know it: its id, the name it asks its backend for,
// and the client certificate the test CA issued it (subject CN=tenant-<id>).
struct tenant_identity {
  std::string id;
  std::string server_name;        // "<id>.tenants.test"
  std::string common_name;        // "tenant-<id>" unless the test says otherwise
  workbook::issued_certificate certificate;

  std::string subject() const { return "CN=" + common_name; }
};

inline tenant_identity make_identity(workbook::test_ca const& ca, std::string const& id,
                                     std::string const& common_name = "")
{
  std::string const cn = common_name.empty() ? "tenant-" + id : common_name;
  return {id, id + ".tenants.test", cn, ca.issue_client(cn)};
}

// Where a tenant's credentials come from: the tests' secret store. It counts
// the calls (one per build) and the calls that have returned; it can hold
// every call until release() (at most 2 s), and fail every call while
// fail(true) is in force.
class vault {
public:
  explicit vault(task20::tenant_credentials c) : credentials_(std::move(c)) {}

  std::atomic<int> calls{0};
  std::atomic<int> returned{0};

  void hold()
  {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release()
  {
    std::lock_guard lock(mutex_);
    held_ = false;
    cv_.notify_all();
  }
  void fail(bool on) { failing_ = on; }

  task20::tenant_credentials fetch()
  {
    ++calls;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::seconds(2), [this] { return !held_; });
    }
    if (failing_) {
      ++returned;
      throw std::runtime_error("vault unavailable");
    }
    ++returned;
    return credentials_;
  }

private:
  task20::tenant_credentials credentials_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool held_ = false;
  std::atomic<bool> failing_{false};
};

// The tenant's credentials: its certificate and key, and the CA it trusts.
inline std::shared_ptr<vault> vault_for(tenant_identity const& t, std::string const& trusted_ca)
{
  return std::make_shared<vault>(
      task20::tenant_credentials{t.certificate.certificate, t.certificate.private_key, trusted_ca});
}

inline net::ip::tcp::endpoint local(unsigned short port) { return {net::ip::make_address("127.0.0.1"), port}; }

inline task20::tenant_config config_for(tenant_identity const& t, unsigned short backend_port, std::shared_ptr<vault> v)
{
  return {t.id, t.server_name, local(backend_port), [v] { return v->fetch(); }};
}

// ---------------------------------------------------------------- the backend

// A gate a backend's handler can wait at (at most 3 s): how a test keeps an
// exchange in flight.
class gate {
public:
  void close()
  {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open()
  {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  void pass()
  {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(3), [this] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = true;
};

// A TLS backend for every tenant in `names`: its certificate, from `ca`,
// names them all; it asks each client for a certificate from `ca`. It
// answers 200 "<target> for <client subject> via <SNI>", and a request for
// /slow only once `slow` is open.
inline workbook::tls_test_server backend(workbook::test_ca const& ca, std::vector<std::string> names,
                                         std::shared_ptr<gate> slow = std::make_shared<gate>())
{
  return workbook::tls_test_server::serving(
      {ca.issue_server(names), ca.certificate()},
      [slow](workbook::request const& r, workbook::tls_connection const& c) {
        if (r.target.rfind("/slow", 0) == 0) slow->pass();
        return workbook::response{200, "", {}, r.target + " for " + c.client_subject + " via " + c.server_name, ""};
      });
}

// ---------------------------------------------------------------- the pool

inline task20::pool_options test_options()
{
  task20::pool_options o;
  o.timeout = std::chrono::seconds(3);
  return o;
}

// Your pool, its exchanges run by two threads. The threads stop before the
// pool goes.
struct running_pool {
  explicit running_pool(task20::pool_options options = test_options()) : pool(ioc.get_executor(), std::move(options))
  {
    io.emplace(ioc, 2);
  }
  ~running_pool() { io.reset(); }

  net::io_context ioc;
  task20::tenant_pool pool;
  std::optional<workbook::io_threads> io;
};

// ---------------------------------------------------------------- a round trip

struct outcome {
  bool answered = false;  // the exchange completed within the wait
  std::string threw;      // what for_tenant() threw, when a test records it here
  error_code ec;
  workbook::client_response response;
  milliseconds elapsed{0};

  // For a failure message.
  std::string describe() const
  {
    if (!threw.empty()) return "for_tenant() threw \"" + threw + "\"";
    if (!answered) return "no completion within the test's wait";
    if (ec) return "error " + ec.to_string() + " (" + ec.message() + ") after " + std::to_string(elapsed.count()) + " ms";
    return std::to_string(response.result_int()) + " \"" + response.body() + "\" after " +
           std::to_string(elapsed.count()) + " ms";
  }
};

inline workbook::client_request get(std::string const& target)
{
  workbook::client_request r;
  r.message = {http::verb::get, target, 11};
  r.message.set(http::field::host, "backend.tenants.test");
  return r;
}

using pending_trip = std::future<std::tuple<error_code, workbook::client_response>>;

inline pending_trip start_trip(workbook::round_tripper& t, std::string const& target)
{
  return t.async_round_trip(get(target), net::use_future([](error_code ec, workbook::client_response res) {
                              return std::make_tuple(ec, std::move(res));
                            }));
}

inline outcome finish_trip(pending_trip& f, clock_type::time_point start, milliseconds wait = milliseconds(5000))
{
  outcome o;
  if (f.wait_for(wait) != std::future_status::ready) return o;
  o.answered = true;
  std::tie(o.ec, o.response) = f.get();
  o.elapsed = since(start);
  return o;
}

// One GET through `t`, waited for at most `wait`.
inline outcome trip(workbook::round_tripper& t, std::string const& target, milliseconds wait = milliseconds(5000))
{
  auto const start = clock_type::now();
  auto f = start_trip(t, target);
  return finish_trip(f, start, wait);
}

inline bool ok(outcome const& o) { return o.answered && !o.ec && o.response.result_int() == 200; }

// What the backend's handshakes were, for a failure message.
inline std::string describe(std::vector<workbook::tls_handshake> const& log)
{
  if (log.empty()) return "the backend saw no handshake";
  std::string out = "the backend's handshakes:";
  for (auto const& h : log) {
    out += "\n  connection " + std::to_string(h.connection) + ": SNI \"" + h.server_name + "\", client certificate \"" +
           h.client_subject + "\", " + (h.completed ? "completed" : "failed: " + h.error);
  }
  return out;
}

} // namespace task20_test
