// Stretch 3 · test helpers.
//
//   cert_dir       the ingress's certificate directory, a temp_dir of the
//                  test's own. put() writes <stem>.key and <stem>.crt as a
//                  deploy tool does: each as ".<file>.tmp", then renamed into
//                  place, so the ingress never reads half a file. put_raw
//                  writes any bytes under any name, put_mismatched one
//                  certificate with another's key, remove() takes a pair away
//   edge_certs     the edge: a test CA ("edge CA") for the certificates the
//                  ingress serves and its clients trust, a cert_dir holding
//                  acme.example.test and globex.example.test, and a label for
//                  every certificate it issued, so that a failure message
//                  says "acme v2" where the client saw that fingerprint
//   fake_upstream  the upstream of every test but those that go through a
//                  real pool (AC6-AC7's tenant_world): an in-process
//                  round_tripper per tenant ("acme", "globex"; any other
//                  tenant throws task20::unknown_tenant from the lookup),
//                  answering by target:
//                    /hold...     held until release() (held() counts them)
//                    /status/N    N
//                    /hop         200, with hop-by-hop fields of its own
//                    else         200 "tenant=<t> host=<Host> <METHOD> <target>"
//                                 (fake_body() writes it)
//                  It keeps every request it saw (tenant, method, target,
//                  fields, body). retire_next(t) makes the next lookup of t
//                  hand out a transport that answers every exchange with
//                  task20::pool_error::transport_retired, as a pool does
//                  when the tenant is replaced between the lookup and the
//                  exchange
//   ingress_rig    your ingress on 127.0.0.1, port 0, started, its
//                  io_context run by two threads, its events in an event_log,
//                  its upstream the rig's fake_upstream unless the test
//                  gives another lookup. connect(sni) is a tls_client that
//                  trusts the edge CA and checks the certificate names the
//                  SNI; stats_until(pred) waits, bounded, for the counters
//   background_request  one request on a new connection, from a thread of
//                  its own: for a request the fake upstream holds while the
//                  test goes on
//   tenant_world   AC6-AC7: an upstream CA, one tls_test_server for
//                  acme.tenants.test and globex.tenants.test that requires a
//                  client certificate and answers
//                  "<target> for <client subject> via <SNI>, Host <Host>"
//                  (backend_body() writes it),
//                  and a real task20::tenant_pool (its own two io threads)
//                  whose tenants acme and globex present CN=tenant-acme and
//                  CN=tenant-globex; lookup() is stretch3::from_pool(pool)
//   raw_tcp        one TCP connection that speaks no TLS: for the client
//                  that never finishes its handshake, and plain HTTP on the
//                  TLS port
//
// The rig's defaults: tenants acme.example.test -> acme and
// globex.example.test -> globex (initech.example.test, when a test adds its
// certificate, has no tenant); handshake_timeout 10 s and idle_timeout
// 60 s, which only the two tests of AC8 that time them shorten (to
// 200 ms); watch_interval 0,
// so a test calls reload() itself, except the watcher's test (50 ms).
// Certificates are told apart by the SHA-256 of the leaf
// (workbook::tls::fingerprint against tls_handshake_info::peer_fingerprint).
#pragma once

#include "ingress.hpp"
#include "tenant_pool.hpp"

#include <workbook/elapsed.hpp>
#include <workbook/event_log.hpp>
#include <workbook/eventually.hpp>
#include <workbook/header_values.hpp>
#include <workbook/held_calls.hpp>
#include <workbook/http.hpp>
#include <workbook/io_threads.hpp>
#include <workbook/round_tripper.hpp>
#include <workbook/run_lengths.hpp>
#include <workbook/sanitizers.hpp>
#include <workbook/temp_dir.hpp>
#include <workbook/test_ca.hpp>
#include <workbook/tls_client.hpp>
#include <workbook/tls_test_server.hpp>
#include <workbook/transcript.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stretch3_test {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using steady_clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using stretch3::ingress_event;
using event_kind = stretch3::ingress_event::kind;
using workbook::issued_certificate;
using workbook::since;
using workbook::values_of;

inline tcp::endpoint local(unsigned short port) { return {net::ip::make_address("127.0.0.1"), port}; }

// A real-time upper bound: three times longer under a sanitizer.
inline milliseconds scaled(milliseconds d) { return workbook::sanitized ? d * 3 : d; }

inline std::string printable(std::string_view s) { return workbook::transcript::printable(s, 2000); }

inline std::string joined(std::vector<std::string> const& items, std::string const& separator = " ")
{
  std::string out;
  for (auto const& i : items) out += (out.empty() ? "" : separator) + i;
  return out.empty() ? "(none)" : out;
}

// The public names the edge serves.
inline std::string const acme_name = "acme.example.test";
inline std::string const globex_name = "globex.example.test";
inline std::string const initech_name = "initech.example.test";

// ---------------------------------------------------------------- messages

using workbook::has_token;
using workbook::show;

inline std::string describe(workbook::response const& r)
{
  if (r.status == 0) return "no response: " + r.error;
  return std::to_string(r.status) + " " + r.reason + "\n" + show(r.headers) + "  \"" + printable(r.body) + "\"";
}

// "200 x 5 | 0 (the connection is closed)": a run of equal outcomes once, with its count.
inline std::string describe(std::vector<workbook::response> const& rs)
{
  auto const outcome = [](workbook::response const& r) {
    return r.status == 0 ? "0 (" + r.error + ")" : std::to_string(r.status) + " \"" + printable(r.body) + "\"";
  };
  return workbook::run_lengths(rs, outcome, "(no response)");
}

inline std::string describe(stretch3::reload_result const& r)
{
  return std::string(r.applied ? "applied" : "not applied") + ", generation " + std::to_string(r.generation) + ", " +
         std::to_string(r.certificates) + " certificate(s), names [" + joined(r.names, ", ") + "], errors [" +
         joined(r.errors, "; ") + "]";
}

inline std::string describe(stretch3::ingress_stats const& s)
{
  return "stats(): full " + std::to_string(s.handshakes_full) + ", resumed " + std::to_string(s.handshakes_resumed) +
         ", rejected_sni " + std::to_string(s.rejected_sni) + ", handshake_failures " +
         std::to_string(s.handshake_failures) + ", handshake_timeouts " + std::to_string(s.handshake_timeouts) +
         ", requests " + std::to_string(s.requests) + ", misdirected " + std::to_string(s.misdirected) +
         ", connections_open " + std::to_string(s.connections_open) + ", generation " + std::to_string(s.generation);
}

// ---------------------------------------------------------------- events

inline char const* kind_name(event_kind k)
{
  switch (k) {
  case event_kind::reloaded: return "reloaded";
  case event_kind::reload_failed: return "reload_failed";
  case event_kind::watched: return "watched";
  }
  return "?";
}

// "reloaded (generation 2)", "watched, unchanged (generation 1)",
// "reload_failed (generation 1): initech: key does not match".
inline std::string describe_event(ingress_event const& e)
{
  std::string out = kind_name(e.what);
  if (e.what == event_kind::watched) out += e.changed ? ", changed" : ", unchanged";
  out += " (generation " + std::to_string(e.generation) + ")";
  if (!e.errors.empty()) out += ": " + joined(e.errors, "; ");
  return out;
}

// Predicates for event_log::await and count.
inline std::function<bool(ingress_event const&)> is(event_kind k)
{
  return [k](ingress_event const& e) { return e.what == k; };
}
inline std::function<bool(ingress_event const&)> watched(bool changed)
{
  return [changed](ingress_event const& e) { return e.what == event_kind::watched && e.changed == changed; };
}

// ---------------------------------------------------------------- certificates

class cert_dir {
public:
  cert_dir() = default;
  cert_dir(cert_dir const&) = delete;
  cert_dir& operator=(cert_dir const&) = delete;

  std::filesystem::path const& path() const { return dir_.path(); }

  // The key first: a watcher that polls between the two renames sees the
  // new key beside the old certificate, a mismatch it must reject, and
  // then the pair.
  void put(std::string const& stem, issued_certificate const& c)
  {
    put_raw(stem + ".key", c.private_key);
    put_raw(stem + ".crt", c.certificate);
  }
  // `a`'s certificate with `b`'s key.
  void put_mismatched(std::string const& stem, issued_certificate const& a, issued_certificate const& b)
  {
    put_raw(stem + ".key", b.private_key);
    put_raw(stem + ".crt", a.certificate);
  }
  void put_raw(std::string const& file, std::string_view contents)
  {
    auto const temporary = path() / ("." + file + ".tmp");
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
      out.close();
      if (!out) throw std::runtime_error("cert_dir: cannot write " + temporary.string());
    }
    std::filesystem::rename(temporary, path() / file);
  }
  void remove(std::string const& stem)
  {
    std::filesystem::remove(path() / (stem + ".crt"));
    std::filesystem::remove(path() / (stem + ".key"));
  }

  // "acme.crt acme.key globex.crt ...", for a failure message.
  std::string listing() const
  {
    std::vector<std::string> names;
    for (auto const& entry : std::filesystem::directory_iterator(path()))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return joined(names);
  }

private:
  workbook::temp_dir dir_{"stretch3-certs"};
};

inline std::string fingerprint(issued_certificate const& c) { return workbook::tls::fingerprint(c.certificate); }

class edge_certs {
public:
  edge_certs()
  {
    acme = issue("acme v1", {acme_name});
    globex = issue("globex", {globex_name});
    dir.put("acme", acme);
    dir.put("globex", globex);
  }
  edge_certs(edge_certs const&) = delete;
  edge_certs& operator=(edge_certs const&) = delete;

  // A server certificate for `names` from the edge CA, remembered as `label`.
  issued_certificate issue(std::string const& label, std::vector<std::string> const& names)
  {
    auto c = ca.issue_server(names);
    std::lock_guard lock(mutex_);
    labels_[fingerprint(c)] = label;
    return c;
  }

  std::string const& trusted() const { return ca.certificate(); }

  // "acme v2", or the fingerprint of a certificate this edge did not issue.
  std::string label(std::string const& fp) const
  {
    if (fp.empty()) return "no certificate";
    std::lock_guard lock(mutex_);
    auto const it = labels_.find(fp);
    return it != labels_.end() ? "the certificate \"" + it->second + "\"" : "an unknown certificate sha256 " + fp;
  }

  // "completed, TLSv1.3, full, the certificate "acme v1"", or "failed:
  // <why> (alert 112), no certificate".
  std::string describe(workbook::tls_handshake_info const& h) const
  {
    if (h.completed)
      return "completed, " + h.version + ", " + (h.resumed ? "resumed" : "full") + ", " + label(h.peer_fingerprint);
    return "failed: " + h.error + " (alert " + std::to_string(h.alert) + ", reason " + std::to_string(h.reason) + "), " +
           label(h.peer_fingerprint);
  }

  workbook::test_ca ca{"edge CA"};
  cert_dir dir;
  issued_certificate acme, globex;  // acme.example.test ("acme v1"), globex.example.test

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> labels_;  // fingerprint -> label
};

// ---------------------------------------------------------------- the fake upstream

// One request as the fake upstream received it.
struct upstream_request {
  std::string tenant, method, target, host, body;
  workbook::header_list headers;
};

class fake_upstream {
public:
  explicit fake_upstream(net::io_context& ioc, std::set<std::string> tenants = {"acme", "globex"})
      : held_(ioc, "upstream"), tenants_(std::move(tenants))
  {
  }
  fake_upstream(fake_upstream const&) = delete;
  fake_upstream& operator=(fake_upstream const&) = delete;

  stretch3::upstream_lookup lookup()
  {
    return [this](std::string const& tenant) -> std::shared_ptr<workbook::round_tripper> {
      std::lock_guard lock(mutex_);
      ++lookups_[tenant];
      if (!tenants_.count(tenant)) throw task20::unknown_tenant(tenant);
      if (retire_next_.erase(tenant)) return std::make_shared<transport>(*this, tenant, true);
      auto& t = transports_[tenant];
      if (!t) t = std::make_shared<transport>(*this, tenant, false);
      return t;
    };
  }

  int held() const { return held_.held(); }
  // Answers every held request with `status`.
  void release(int status = 200) { held_.release("/", status); }
  void retire_next(std::string const& tenant)
  {
    std::lock_guard lock(mutex_);
    retire_next_.insert(tenant);
  }
  // Exchanges answered transport_retired.
  int retired_answers() const { return retired_answers_.load(); }

  std::vector<upstream_request> requests() const
  {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  int lookups(std::string const& tenant) const
  {
    std::lock_guard lock(mutex_);
    auto const it = lookups_.find(tenant);
    return it == lookups_.end() ? 0 : it->second;
  }

  // "the fake upstream saw 2 request(s): acme GET /a (Host acme.example.test); ..."
  std::string describe() const
  {
    std::lock_guard lock(mutex_);
    std::string out = "the fake upstream saw " + std::to_string(seen_.size()) + " request(s)";
    for (auto const& r : seen_) out += "\n  " + r.tenant + " " + r.method + " " + printable(r.target) + " (Host " + printable(r.host) + ")";
    return out;
  }

  // Every held request answered (503), so that no exchange outlives a test.
  void release_all() { held_.release("", 503); }

private:
  class transport : public workbook::round_tripper {
  public:
    transport(fake_upstream& owner, std::string tenant, bool retired)
        : owner_(owner), tenant_(std::move(tenant)), retired_(retired)
    {
    }

  protected:
    void do_round_trip(workbook::client_request request, workbook::round_trip_handler handler) override
    {
      owner_.take(tenant_, retired_, std::move(request), std::move(handler));
    }

  private:
    fake_upstream& owner_;
    std::string tenant_;
    bool retired_;
  };

  void take(std::string const& tenant, bool retired, workbook::client_request request, workbook::round_trip_handler handler)
  {
    auto const& m = request.message;
    upstream_request seen;
    seen.tenant = tenant;
    seen.method = std::string(m.method_string());
    seen.target = std::string(m.target());
    if (auto it = m.find(http::field::host); it != m.end()) seen.host = std::string(it->value());
    for (auto const& f : m) seen.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    seen.body = m.body();
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(seen);
    }
    held_.note(workbook::transcript::direction::received,
               "for " + tenant + (retired ? " (a retired transport)" : "") + ": " + seen.method + " " +
                   printable(seen.target) + " Host: " + printable(seen.host));
    net::post(held_.executor(), [this, seen = std::move(seen), retired, handler = std::move(handler)]() mutable {
      serve(seen, retired, std::move(handler));
    });
  }

  // On the strand.
  void serve(upstream_request const& r, bool retired, workbook::round_trip_handler handler)
  {
    if (retired) {
      retired_answers_.fetch_add(1);
      return held_.complete(std::move(handler), task20::pool_error::transport_retired, {});
    }
    if (r.target.rfind("/hold", 0) == 0) return held_.hold(r.target, std::move(handler));
    if (r.target.rfind("/status/", 0) == 0)
      return held_.complete(std::move(handler), {}, workbook::held_calls::response(std::stoi(r.target.substr(8))));
    workbook::client_response res;
    res.version(11);
    res.result(http::status::ok);
    res.set("X-Upstream", "fake");
    if (r.target == "/hop") {
      res.set(http::field::connection, "X-Upstream-Hop");
      res.set("X-Upstream-Hop", "1");
      res.set(http::field::keep_alive, "timeout=5, max=100");
      res.set(http::field::proxy_authenticate, "Basic realm=\"upstream\"");
      res.set(http::field::trailer, "X-Checksum");
      res.set(http::field::upgrade, "h2c");
      res.set("X-End-To-End", "kept");
    }
    res.body() = "tenant=" + r.tenant + " host=" + r.host + " " + r.method + " " + r.target;
    res.prepare_payload();
    held_.complete(std::move(handler), {}, std::move(res));
  }

  workbook::held_calls held_;
  std::set<std::string> const tenants_;
  std::atomic<int> retired_answers_{0};
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<transport>> transports_;
  std::set<std::string> retire_next_;
  std::map<std::string, int> lookups_;
  std::vector<upstream_request> seen_;
};

// What the fake answers a plain request with.
inline std::string fake_body(std::string const& tenant, std::string const& host, std::string const& method,
                             std::string const& target)
{
  return "tenant=" + tenant + " host=" + host + " " + method + " " + target;
}

// ---------------------------------------------------------------- the rig

using adjust_fn = std::function<void(stretch3::ingress_options&)>;

// Your ingress serving `edge.dir`, on 127.0.0.1 (port 0), its io_context
// run by two threads, started. `adjust` changes the options after the
// rig's defaults; `lookup` replaces the fake upstream (tenant_world's).
// Destroyed bottom-up: held requests are answered and the ingress goes
// while the threads still run (its destructor is not to be called from an
// io thread), then the threads stop.
class ingress_rig {
public:
  explicit ingress_rig(edge_certs& edge, adjust_fn const& adjust = {}, stretch3::upstream_lookup lookup = {})
      : edge_(edge)
  {
    options.cert_dir = edge.dir.path();
    options.tenants = {{acme_name, "acme"}, {globex_name, "globex"}};
    options.handshake_timeout = 10s;
    options.idle_timeout = 60s;
    options.on_event = log.sink();
    if (adjust) adjust(options);
    ingress.emplace(ioc.get_executor(), local(0), lookup ? std::move(lookup) : upstream.lookup(), options);
    ingress->start();
  }
  ~ingress_rig()
  {
    upstream.release_all();
    ingress.reset();
  }
  ingress_rig(ingress_rig const&) = delete;
  ingress_rig& operator=(ingress_rig const&) = delete;

  unsigned short port() const { return ingress->local_endpoint().port(); }

  // A client that trusts the edge CA and requires the certificate to name
  // `verify_name` (the SNI unless given). max_version 0: TLS 1.3.
  workbook::tls_client_options client_options(std::optional<std::string> sni, int max_version = 0,
                                              std::optional<std::string> verify_name = std::nullopt) const
  {
    workbook::tls_client_options o;
    o.sni = sni;
    o.trusted_ca = edge_.trusted();
    o.verify_name = verify_name ? *verify_name : sni.value_or("");
    o.max_version = max_version;
    o.timeout = scaled(2s);
    return o;
  }
  workbook::tls_client connect(std::string const& sni, int max_version = 0) const
  {
    return workbook::tls_client(port(), client_options(sni, max_version));
  }
  workbook::tls_client connect(workbook::tls_client_options o) const { return workbook::tls_client(port(), std::move(o)); }

  stretch3::reload_result reload() { return ingress->reload(); }
  stretch3::ingress_stats stats() const { return ingress->stats(); }

  // Waits until `pred(stats())` holds: the server counts a handshake after
  // the client has seen it end, and a close after the client has gone.
  bool stats_until(std::function<bool(stretch3::ingress_stats const&)> const& pred, milliseconds within = scaled(2s)) const
  {
    return workbook::eventually([&] { return pred(stats()); }, within);
  }

  // The counters, the events and what the fake upstream saw, for INFO.
  std::string state() const { return describe(stats()) + "\n" + log.describe() + upstream.describe(); }

  net::io_context ioc;
  workbook::event_log<ingress_event> log{describe_event};
  fake_upstream upstream{ioc};
  stretch3::ingress_options options;

private:
  edge_certs& edge_;
  workbook::io_threads threads_{ioc, 2};

public:
  std::optional<stretch3::ingress> ingress;  // last: destroyed first
};

// One request on a new connection, from a thread of its own: for a request
// the fake upstream holds while the test goes on.
class background_request {
public:
  struct outcome {
    workbook::tls_handshake_info handshake;
    workbook::response response;
  };

  background_request(ingress_rig const& rig, std::string const& sni, workbook::request r, milliseconds timeout = 5s)
      : result_(std::async(std::launch::async, [o = options(rig, sni, timeout), port = rig.port(), r = std::move(r)] {
          workbook::tls_client client(port, o);
          outcome out;
          out.handshake = client.handshake();
          out.response = client.send(r);
          return out;
        }))
  {
  }

  // What came back, or nullopt when the exchange had not ended within `within`.
  std::optional<outcome> wait(milliseconds within)
  {
    if (result_.wait_for(within) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }

private:
  static workbook::tls_client_options options(ingress_rig const& rig, std::string const& sni, milliseconds timeout)
  {
    auto o = rig.client_options(sni);
    o.timeout = timeout;
    return o;
  }
  std::future<outcome> result_;
};

// ---------------------------------------------------------------- the tenants' backends

// A tenant as the upstream side knows it: its id in the pool, the name its
// connections ask the backend for, and its client certificate.
struct tenant_identity {
  std::string id;
  std::string server_name;  // "<id>.tenants.test"
  std::string common_name;  // "tenant-<id>" unless the test says otherwise
  issued_certificate certificate;

  std::string subject() const { return "CN=" + common_name; }
};

// What the tenants' backend answers: the request's target and how it came.
inline std::string backend_body(std::string const& target, std::string const& subject, std::string const& sni,
                                std::string const& host)
{
  return target + " for " + subject + " via " + sni + ", Host " + host;
}

class tenant_world {
public:
  // `pool_timeout` bounds each upstream exchange (task20::pool_options::timeout).
  explicit tenant_world(milliseconds pool_timeout = 3s)
      : acme(identity("acme")),
        globex(identity("globex")),
        backend(workbook::tls_test_server::serving({ca.issue_server({acme.server_name, globex.server_name}), ca.certificate()},
                                                   answer)),
        pool(ioc.get_executor(), pool_options(pool_timeout))
  {
    threads_.emplace(ioc, 2);
    add(acme, backend.port());
    add(globex, backend.port());
  }
  // The pool's threads stop before the pool goes.
  ~tenant_world() { threads_.reset(); }
  tenant_world(tenant_world const&) = delete;
  tenant_world& operator=(tenant_world const&) = delete;

  tenant_identity identity(std::string const& id, std::string const& common_name = "") const
  {
    std::string const cn = common_name.empty() ? "tenant-" + id : common_name;
    return {id, id + ".tenants.test", cn, ca.issue_client(cn)};
  }

  // Adds the tenant to the pool, or replaces it, its backend at `port`.
  void add(tenant_identity const& t, unsigned short port)
  {
    task20::tenant_credentials const credentials{t.certificate.certificate, t.certificate.private_key, ca.certificate()};
    pool.add({t.id, t.server_name, local(port), [credentials] { return credentials; }});
  }

  stretch3::upstream_lookup lookup() { return stretch3::from_pool(pool); }

  // The backend's handshakes and requests, for INFO.
  std::string describe() const
  {
    std::string out = "the tenants' backend: " + std::to_string(backend.accepted()) + " connection(s) accepted, " +
                      std::to_string(backend.requests()) + " request(s)";
    for (auto const& h : backend.handshake_log())
      out += "\n  connection " + std::to_string(h.connection) + ": SNI \"" + h.server_name + "\", client \"" +
             h.client_subject + "\", " + (h.completed ? "completed" : "failed: " + h.error);
    for (auto const& s : backend.served())
      out += "\n  connection " + std::to_string(s.connection) + " served " + s.method + " " + printable(s.target);
    return out;
  }

  workbook::test_ca ca{"upstream CA"};
  tenant_identity acme, globex;
  workbook::tls_test_server backend;
  net::io_context ioc;
  task20::tenant_pool pool;

private:
  static task20::pool_options pool_options(milliseconds timeout)
  {
    task20::pool_options o;
    o.timeout = timeout;
    return o;
  }
  static workbook::response answer(workbook::request const& r, workbook::tls_connection const& c)
  {
    auto const host = values_of(r.headers, "Host");
    return {200, "", {}, backend_body(r.target, c.client_subject, c.server_name, host.empty() ? "-" : host.front()), ""};
  }

  std::optional<workbook::io_threads> threads_;
};

// ---------------------------------------------------------------- raw TCP

// One TCP connection to 127.0.0.1:port that sends exactly the bytes it is
// given, and reads whatever comes back until the peer closes.
class raw_tcp {
public:
  explicit raw_tcp(unsigned short port) : opened_at_(steady_clock::now())
  {
    boost::system::error_code ec;
    socket_.connect(local(port), ec);
    if (ec) {
      error_ = "connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message();
      workbook::transcript::note(id_, error_);
      return;
    }
    connected_ = true;
    workbook::transcript::register_client_port(socket_.local_endpoint(ec).port());
    workbook::transcript::note(id_, "connected to 127.0.0.1:" + std::to_string(port) + " (raw TCP)");
  }

  bool connected() const { return connected_; }
  std::string const& error() const { return error_; }
  steady_clock::time_point opened_at() const { return opened_at_; }

  bool send(std::string_view bytes)
  {
    if (!connected_) return false;
    boost::system::error_code ec;
    net::write(socket_, net::buffer(bytes.data(), bytes.size()), ec);
    workbook::transcript::record(id_, workbook::transcript::direction::sent, bytes);
    return !ec;
  }

  struct ending {
    bool closed = false;              // the peer closed (EOF or reset) within the wait
    std::string bytes;                // everything that came before
    steady_clock::time_point at;      // when the close was seen (or the wait ended)
    std::string how;                  // "EOF", "connection reset", "still open after N ms"
  };

  // Reads until the peer closes the connection or `within` passes.
  ending read_until_closed(milliseconds within)
  {
    ending out;
    if (!connected_) {
      out.at = steady_clock::now();
      out.how = "never connected: " + error_;
      return out;
    }
    char buffer[4096];
    boost::system::error_code result;
    bool ended = false;
    std::function<void()> next = [&] {
      socket_.async_read_some(net::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
        if (n > 0) out.bytes.append(buffer, n);
        if (ec) {
          result = ec;
          ended = true;
          out.at = steady_clock::now();
          return;
        }
        next();
      });
    };
    next();
    ioc_.restart();
    ioc_.run_for(within);
    if (!ended) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      ioc_.restart();
      ioc_.run();
      out.how = "still open after " + std::to_string(within.count()) + " ms";
      out.at = steady_clock::now();
    } else {
      out.closed = true;
      out.how = result == net::error::eof ? "EOF" : result.message();
    }
    if (!out.bytes.empty()) workbook::transcript::record(id_, workbook::transcript::direction::received, out.bytes);
    workbook::transcript::note(id_, out.closed ? "closed by the server (" + out.how + ")" : out.how);
    boost::system::error_code ignored;
    socket_.close(ignored);
    connected_ = false;
    return out;
  }

private:
  net::io_context ioc_;
  tcp::socket socket_{ioc_};
  int id_ = workbook::transcript::open_connection();
  steady_clock::time_point opened_at_;
  bool connected_ = false;
  std::string error_;
};

} // namespace stretch3_test
