// Task 06 · test helper: is anything listening on a port? Asked with a bare
// socket, so that the many attempts of a wait leave no trace in the
// transcript; the test then makes one recorded attempt with raw_connection.
#pragma once

#include <chrono>
#include <cerrno>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace task06_test {

// True when a connection to 127.0.0.1:port is refused. A connection that is
// accepted, or that gets no answer within `patience`, is not.
inline bool connect_refused(unsigned short port, std::chrono::milliseconds patience = std::chrono::milliseconds(500))
{
  int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int error = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      error = ETIMEDOUT;
      if (::poll(&p, 1, static_cast<int>(patience.count())) > 0) {
        socklen_t len = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      }
    }
  }
  ::close(fd);
  return error == ECONNREFUSED;
}

} // namespace task06_test
