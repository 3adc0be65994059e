#include <workbook/ports.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace workbook {

namespace {

// A TCP socket bound to 127.0.0.1 on a port the kernel picks; its port, or 0.
unsigned short bind_loopback(unique_fd const& s, sockaddr_in& addr)
{
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (s.get() < 0 || ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &length) != 0)
    return 0;
  return ntohs(addr.sin_port);
}

} // namespace

refusing_port::refusing_port() : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
{
  sockaddr_in addr{};
  port_ = bind_loopback(socket_, addr);
}

unanswered_port::unanswered_port() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
{
  sockaddr_in addr{};
  port_ = bind_loopback(listener_, addr);
  if (port_ == 0 || ::listen(listener_.get(), 0) != 0) return;
  // Connect until an attempt goes unanswered for 200 ms: the queue is full.
  // (Answered ones take a millisecond; eight is far more than it holds.)
  for (int i = 0; i < 8 && !full_; ++i) {
    unique_fd filler(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    (void)::connect(filler.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    pollfd p{filler.get(), POLLOUT, 0};
    if (::poll(&p, 1, 200) == 0) full_ = true;  // unanswered; closing it withdraws it
    else fillers_.push_back(std::move(filler));
  }
}

} // namespace workbook
