// Stretch 3 · reference: what ingress::impl keeps, and what the three .cpp
// files share. certificates.cpp turns a directory into a certificate set and
// keeps it current; tls.cpp is the listener's TLS context, which picks a
// certificate per handshake; ingress.cpp accepts, handshakes, and forwards.
#pragma once

#include "ingress.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace stretch3 {

namespace ssl = net::ssl;
namespace http = boost::beast::http;
using request_type = http::request<http::string_body>;
using response_type = http::response<http::string_body>;
constexpr auto awaitable_tuple = net::as_tuple(net::use_awaitable);

// ---------------------------------------------------------------- certificates.cpp

// One load of the directory, never changed once in service (D3): a handshake
// that took it sees the same certificates to the end. A certificate is one
// SSL_CTX holding its chain and key; each of its names points at it.
struct certificate_set {
  std::uint64_t generation = 0;
  std::size_t certificates = 0;
  std::map<std::string, std::shared_ptr<ssl::context>, std::less<>> exact;      // "acme.example.test"
  std::map<std::string, std::shared_ptr<ssl::context>, std::less<>> wildcards;  // "*.wild.test" under "wild.test"
  std::vector<std::string> names;                                               // sorted

  // S1: the exact name first, then the wildcard that covers it; null if none.
  ssl::context* find(std::string_view server_name) const;
};

struct loaded {
  std::shared_ptr<certificate_set const> set;  // null when errors is not empty
  std::vector<std::string> errors;             // "<stem>: <reason>"
};

// D1, D2: every pair in `dir`, checked; all of it, or errors.
loaded load_certificates(std::filesystem::path const& dir, std::uint64_t generation);

// D3: what the watcher compares between polls, one line per .crt/.key file.
std::string directory_listing(std::filesystem::path const& dir);

std::string to_lower(std::string_view s);

// ---------------------------------------------------------------- tls.cpp

// What the ClientHello callback learns about one connection, for the
// connection's own code to read once the handshake is over.
struct handshake_notes {
  std::string server_name;  // lower case; what Host must match (H1)
  bool refused_name = false;
};

// The listener's context: TLS 1.2 at least, no certificate of its own, the
// ticket keys and the session cache every handshake resumes against (S2),
// and the ClientHello callback that switches each handshake to the context
// of its name's certificate. `self` outlives every connection.
std::unique_ptr<ssl::context> make_listener_context(ingress::impl& self);

// Where the callback finds a connection's notes (SSL ex_data: Asio keeps
// the app data slot for its verify callback).
void attach_notes(SSL* ssl, handshake_notes* notes);

// ---------------------------------------------------------------- ingress.cpp

struct connection;

struct ingress::impl : std::enable_shared_from_this<ingress::impl> {
  impl(net::any_io_executor executor, upstream_lookup upstream, ingress_options options);

  net::any_io_executor executor;
  upstream_lookup upstream;
  ingress_options const options;
  std::unique_ptr<ssl::context> listener;  // never replaced: its tickets and cache outlive reloads
  net::strand<net::any_io_executor> control;
  tcp::acceptor acceptor;
  tcp::endpoint local;
  net::steady_timer watch_timer;

  // The set in service. A mutex around a shared_ptr, copied out: see NOTES
  // (std::atomic<std::shared_ptr> trips ThreadSanitizer on libstdc++ 12).
  mutable std::mutex set_mutex;
  std::shared_ptr<certificate_set const> set;
  std::shared_ptr<certificate_set const> current_set() const;

  // reload(), serialised; the listing it or the watcher saw last.
  std::mutex reload_mutex;
  std::string last_listing;
  reload_result reload();
  void emit(ingress_event const& e) const;
  net::awaitable<void> watch();

  // The counters; stats() reads them without stopping anyone.
  struct counters {
    std::atomic<std::uint64_t> full{0}, resumed{0}, rejected{0}, failures{0}, timeouts{0}, requests{0},
        misdirected{0};
    std::atomic<std::size_t> open{0};
  } counts;

  // Every connection still open, for the destructor; and the work still on
  // the executor, which the destructor waits out.
  std::mutex connections_mutex;
  std::vector<std::weak_ptr<connection>> connections;
  bool stopping = false;
  std::size_t running = 0;  // coroutines not yet finished, under connections_mutex
  std::condition_variable all_done;
  bool started();  // false once stopping: nothing new starts
  void finished();

  net::awaitable<void> accept_loop();
  net::awaitable<response_type> answer(request_type request, std::string const& server_name,
                                       std::string const& client_address);
  net::awaitable<response_type> forward(std::string const& tenant, request_type request);
  void close_everything();
};

} // namespace stretch3
