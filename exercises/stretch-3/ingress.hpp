// Stretch 3 · the contract between your TLS-terminating ingress, the tests
// and the reference. Do not change this file: the tests are compiled
// against it.
//
// This stretch links your tenant_pool.cpp (task 20): see task.cmake. Only
// the criteria that go through a real pool (AC6, AC7) depend on it.
#pragma once

#include "tenant_pool.hpp"

#include <workbook/round_tripper.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stretch3 {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------- names

// Does the certificate name `pattern` (one dNSName of a subjectAltName)
// cover `server_name` (the SNI a client sent)? RFC 6125, section 6.4.3, as
// browsers apply it:
//   - ASCII letters compare without regard to case;
//   - "*.rest" covers exactly one non-empty left-most label followed by
//     ".rest", and only when `rest` has at least two labels ("*.test"
//     covers nothing);
//   - a partial wildcard ("f*.x.test"), a "*" anywhere but the whole
//     left-most label, an empty label, a trailing dot, or an IP literal in
//     either argument never matches.
// Pure: no I/O, no state.
bool name_matches(std::string_view pattern, std::string_view server_name);

// ---------------------------------------------------------------- upstream

// Where a tenant's requests go: the tenant's transport. Throws
// task20::unknown_tenant for a tenant it does not know. In production (and
// in AC6, AC7) it is task 20's pool; elsewhere the tests pass a fake.
using upstream_lookup = std::function<std::shared_ptr<workbook::round_tripper>(std::string const& tenant)>;

inline upstream_lookup from_pool(task20::tenant_pool& pool)
{
  return [&pool](std::string const& tenant) { return pool.for_tenant(tenant); };
}

// ---------------------------------------------------------------- options

struct ingress_event {
  enum class kind {
    reloaded,       // a reload put a new certificate set in service
    reload_failed,  // a reload found problems and changed nothing
    watched,        // the watcher polled the directory
  };
  kind what{};
  std::uint64_t generation = 0;     // the set in service after the event
  std::vector<std::string> errors;  // reload_failed: what reload_result::errors says
  bool changed = false;             // watched: the directory differed from the last poll
};

struct ingress_options {
  // Where the certificates are (D1).
  std::filesystem::path cert_dir;

  // Server name (lower case) -> tenant id. A name with a certificate and no
  // tenant is answered 404 (H1).
  std::map<std::string, std::string, std::less<>> tenants;

  // A ClientHello without SNI is served as if it had sent this name; unset,
  // it is refused (S1).
  std::optional<std::string> no_sni_name;

  // How often the watcher polls cert_dir (D3); 0: never, only reload().
  std::chrono::milliseconds watch_interval{0};

  // From accept to the end of the handshake (S3).
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);

  // How long a keep-alive connection may wait for its next request (S3).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);

  // The largest request body; a larger one is answered 413 and the
  // connection closed.
  std::size_t max_body = 1 << 20;

  // Every reload and poll, as it happens. Called on the thread that did the
  // work, never while the ingress holds a lock of its own.
  std::function<void(ingress_event const&)> on_event;
};

// ---------------------------------------------------------------- results

struct reload_result {
  bool applied = false;
  std::uint64_t generation = 0;     // the set in service after the call; 1 is the constructor's
  std::size_t certificates = 0;     // in the set in service after the call
  std::vector<std::string> names;   // every name that set serves, lower case, sorted
  std::vector<std::string> errors;  // "<stem>: <reason>", one per problem found; empty when applied
};

// Every accepted connection ends its handshake phase in exactly one of the
// first five counters.
struct ingress_stats {
  std::uint64_t handshakes_full = 0;     // completed, new session
  std::uint64_t handshakes_resumed = 0;  // completed, a session resumed
  std::uint64_t rejected_sni = 0;        // refused with unrecognized_name (S1)
  std::uint64_t handshake_failures = 0;  // any other failed handshake (plain HTTP, a bad ClientHello)
  std::uint64_t handshake_timeouts = 0;  // not finished within handshake_timeout
  std::uint64_t requests = 0;            // requests answered, whatever the status
  std::uint64_t misdirected = 0;         // of them, answered 421 (H1)
  std::size_t connections_open = 0;      // accepted and not yet closed
  std::uint64_t generation = 0;          // the certificate set in service
};

// ---------------------------------------------------------------- the ingress

// A TLS-terminating ingress: TLS 1.2 and 1.3 for many server names on one
// port, HTTP/1.1 keep-alive inside, each tenant's requests forwarded
// through its upstream.
//
// Certificates
// D1 A certificate is a pair in cert_dir: <stem>.crt (PEM: the leaf, then
//    its chain) and <stem>.key (PEM: the leaf's private key). Files whose
//    name starts with "." and files of other extensions are ignored, so a
//    writer can write ".x.tmp" and rename it into place. A certificate
//    serves the DNS names of its leaf's subjectAltName, lower-cased; the
//    subject's CN is ignored.
// D2 A load is all or nothing. Any problem leaves the set in service as it
//    was and is listed in the result: a .crt without its .key or the
//    reverse, PEM that does not parse, a key that is not the certificate's,
//    a leaf without a DNS name, a name in two certificates, a directory
//    with no certificate at all. The constructor's load is the first; if
//    it fails the constructor throws std::runtime_error naming the errors.
// D3 reload() reads and checks the whole directory off the handshake path,
//    then puts the new set in service in one step: a handshake that starts
//    afterwards uses it, and every handshake uses exactly one set. Calls to
//    reload() are serialised. With watch_interval > 0 a watcher polls the
//    directory and emits `watched` each time; when the listing of .crt and
//    .key files (names, sizes, modification times, inodes) differs from the
//    last poll, it calls reload(), which emits `reloaded` or
//    `reload_failed`.
//
// Handshakes
// S1 The certificate that names the SNI exactly serves the handshake;
//    failing that, one whose wildcard name_matches it. An SNI that nothing
//    covers, or no SNI while no_sni_name is unset, is refused with a fatal
//    unrecognized_name alert (112) before any certificate is sent, counted
//    in rejected_sni, and the connection closed.
// S2 TLS 1.2 at least. Sessions resume by ticket (TLS 1.2 and 1.3) and by
//    session id (TLS 1.2). The ticket keys and the session cache belong to
//    the listener, not to a certificate set, so sessions outlive reload();
//    a resumed session keeps its first handshake's certificate. A session
//    resumes only under the server name it was made for (RFC 6066, section
//    3): offered under another name, the handshake is a full one, with
//    that name's certificate. A name no longer in service is refused (S1),
//    session or not.
// S3 A connection closed after a completed handshake is sent close_notify
//    first (without it, a TLS 1.2 session id is not resumable). A handshake
//    must finish within handshake_timeout; a keep-alive connection idle for
//    idle_timeout is closed.
//
// Requests
// H1 A request whose Host (port and case aside) is not the connection's
//    server name is answered 421 and not forwarded. A name without a
//    tenant is answered 404. Otherwise the request goes through
//    upstream(tenant): Host kept, X-Forwarded-Proto "https", the client's
//    address appended to X-Forwarded-For, and the hop-by-hop fields
//    (Connection, the fields Connection names, Keep-Alive,
//    Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE,
//    Trailer, Transfer-Encoding, Upgrade) removed in both directions.
// H2 The upstream's response is relayed, whatever its status. An exchange
//    that completes with task20::pool_error::transport_retired is tried
//    once more with upstream(tenant) asked again. task20::unknown_tenant
//    and any other error is a 502; boost::beast::error::timeout is a 504.
//    After any of these the client's connection carries its next request.
// H3 reload() never closes a connection, whatever it removes, and a
//    request in flight upstream completes.
//
// Every member may be called from any thread, except that the destructor
// must not run on a thread of the executor.
class ingress {
public:
  // Loads cert_dir (D2) and binds `listen_on`; accepts nothing until
  // start(). Connections and exchanges run on `executor`.
  ingress(net::any_io_executor executor, tcp::endpoint listen_on, upstream_lookup upstream,
          ingress_options options);

  // Stops accepting, stops the watcher, closes every connection, and
  // returns once none of its work is left on the executor (an exchange in
  // flight upstream is waited for: the upstream's own timeout bounds it).
  // The executor must still be running.
  ~ingress();
  ingress(ingress const&) = delete;
  ingress& operator=(ingress const&) = delete;

  // Starts accepting, and the watcher if there is one.
  void start();

  // The address the listener is bound to (its port when listen_on's is 0).
  tcp::endpoint local_endpoint() const;

  // Loads cert_dir again (D2, D3).
  reload_result reload();

  ingress_stats stats() const;

  // Yours to define: what the ingress keeps.
  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace stretch3
