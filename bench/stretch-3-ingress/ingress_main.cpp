// Stretch 3's reference ingress in front of task 20's reference pool, in a
// main, for the benchmark: one io thread (run.sh pins the process to core 0).
//
//   ingress --cert-dir DIR/edge --tenants N --backend PORT --pki DIR/pki [--max-idle M]
//
// Tenant i serves tNNNNN.example.test (the pair in --cert-dir) and forwards
// to the backend on 127.0.0.1:PORT, asking it for tNNNNN.tenants.test with
// its own client certificate; the pool keeps up to M idle connections per
// tenant (task 20's default, 4, unless given). Prints "listening on 127.0.0.1:PORT"; on
// SIGTERM or SIGINT it closes everything and prints the ingress's counters.
#include "ingress.hpp"
#include "tenants.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <signal.h>  // pthread_sigmask, sigwait

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

struct arguments {
  fs::path cert_dir, pki;
  int tenants = 0;
  unsigned short backend = 0;
  int max_idle = 0;  // 0: the pool's default
};

arguments parse(int argc, char** argv)
{
  arguments a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string const flag = argv[i];
    char const* value = argv[i + 1];
    if (flag == "--cert-dir") a.cert_dir = value;
    else if (flag == "--pki") a.pki = value;
    else if (flag == "--tenants") a.tenants = std::atoi(value);
    else if (flag == "--backend") a.backend = static_cast<unsigned short>(std::atoi(value));
    else if (flag == "--max-idle") a.max_idle = std::atoi(value);
    else throw std::invalid_argument("unknown flag " + flag);
  }
  if (argc % 2 == 0 || a.cert_dir.empty() || a.pki.empty() || a.tenants <= 0 || a.backend == 0)
    throw std::invalid_argument("usage: ingress --cert-dir D --tenants N --backend PORT --pki D [--max-idle M]");
  return a;
}

std::string slurp(fs::path const& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Tenant i's upstream: read from disk only when the pool builds its
// transport (the first request of the tenant), as a secret store would be.
task20::tenant_config upstream_of(int i, bench::pki_files const& pki, net::ip::tcp::endpoint backend)
{
  return {bench::tenant_id(i), bench::upstream_name(i), backend, [i, pki] {
            return task20::tenant_credentials{slurp(pki.client_certificate(i)), slurp(pki.client_key(i)),
                                              slurp(pki.upstream_ca())};
          }};
}

void print_stats(stretch3::ingress_stats const& s)
{
  std::printf("stats full=%llu resumed=%llu rejected_sni=%llu failures=%llu timeouts=%llu requests=%llu "
              "misdirected=%llu\n",
              static_cast<unsigned long long>(s.handshakes_full), static_cast<unsigned long long>(s.handshakes_resumed),
              static_cast<unsigned long long>(s.rejected_sni), static_cast<unsigned long long>(s.handshake_failures),
              static_cast<unsigned long long>(s.handshake_timeouts), static_cast<unsigned long long>(s.requests),
              static_cast<unsigned long long>(s.misdirected));
  std::fflush(stdout);
}

// Serves until SIGTERM or SIGINT, then prints the counters and closes.
void serve(net::io_context& ioc, arguments const& args, sigset_t const& stop_signals)
{
  auto const loopback = net::ip::make_address("127.0.0.1");
  bench::pki_files const pki{args.pki};
  task20::pool_options pool_options;
  pool_options.idle_ttl = std::chrono::hours(24);  // nothing calls reap_idle() here anyway
  if (args.max_idle > 0) pool_options.max_idle_connections = static_cast<std::size_t>(args.max_idle);
  task20::tenant_pool pool(ioc.get_executor(), pool_options);
  stretch3::ingress_options options;
  options.cert_dir = args.cert_dir;
  for (int i = 0; i < args.tenants; ++i) {
    pool.add(upstream_of(i, pki, {loopback, args.backend}));
    options.tenants.emplace(bench::served_name(i), bench::tenant_id(i));
  }
  // Declared after the pool, so destroyed before it: it forwards through it.
  stretch3::ingress ingress(ioc.get_executor(), {loopback, 0}, stretch3::from_pool(pool), std::move(options));
  ingress.start();
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(ingress.local_endpoint().port()));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  print_stats(ingress.stats());
}

} // namespace

int main(int argc, char** argv)
{
  arguments args;
  try {
    args = parse(argc, argv);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }

  // The signals are taken by sigwait, on this thread: blocked before the io
  // thread starts, so that it inherits the mask and never takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  net::io_context ioc(1);
  auto work = net::make_work_guard(ioc);
  // ~ingress must run off its executor's threads while the executor runs:
  // the io_context gets a thread of its own, this one waits for a signal.
  std::jthread io([&ioc] { ioc.run(); });
  int status = 0;
  try {
    serve(ioc, args, stop_signals);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "ingress: %s\n", e.what());
    status = 1;
  }
  work.reset();
  ioc.stop();
  return status;  // ~jthread joins the io thread
}
