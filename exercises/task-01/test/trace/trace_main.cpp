// Task 01 · tracing tool. Built from your hello_server.cpp with
// BOOST_ASIO_ENABLE_HANDLER_TRACKING, it serves one GET / and exits; Asio
// prints an "@asio|" line on stderr for every async operation created,
// started and completed, and Beast names its composed operations in them.
// The AC2 test reads this trace. Run it yourself to see the chain:
//   build/dev/tasks/task-01/task-01-stub-trace 2>&1 | grep "@asio"
#include "hello_server.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

// True once `reply` holds a whole response: the head and as many body bytes
// as its Content-Length says. The client stops there instead of waiting for
// the server to close, so a server that keeps the connection open (an AC1
// mistake) still gives AC2 its trace.
bool complete(std::string const& reply)
{
  auto const head_end = reply.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::string head = reply.substr(0, head_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto const field = head.find("\r\ncontent-length:");
  if (field == std::string::npos) return false;  // no length: wait for the close
  auto const length = std::strtoul(head.c_str() + field + 17, nullptr, 10);
  return reply.size() >= head_end + 4 + length;
}

// A plain POSIX client on its own thread, so that the only Asio operations
// in the trace are the server's. Every receive is bounded.
std::string fetch_once(unsigned short port)
{
  int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval patience{5, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    char const request[] = "GET / HTTP/1.1\r\nHost: trace\r\nConnection: close\r\n\r\n";
    (void)::send(fd, request, std::strlen(request), 0);
    char buf[1024];
    while (!complete(reply)) {
      ssize_t const n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

} // namespace

int main()
{
  boost::asio::io_context ioc;
  task01::hello_server server(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}, [] {});
  server.start();
  unsigned short const port = server.local_endpoint().port();

  std::string reply;
  std::thread client([&] {
    reply = fetch_once(port);
    ioc.stop();
  });
  // Bounded: a server that never answers must not hang the test that runs us.
  ioc.run_for(std::chrono::seconds(5));
  ioc.stop();
  client.join();
  std::printf("trace-client-received %zu bytes\n", reply.size());
  return reply.empty() ? 1 : 0;
}
