// See unix_channel.h.
#include "addon/channel/unix_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace phyr::channel {
namespace {

int unixAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  // sun_path holds 108 bytes with the terminating NUL (unix(7)); a longer path would be
  // silently cut and bind somewhere else.
  if (path.empty() || path.size() >= sizeof(addr->sun_path) || path.find('\0') != std::string::npos) return ENAMETOOLONG;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return 0;
}

void closeAll(const std::vector<int>& fds) {
  for (int f : fds) ::close(f);
}

}  // namespace

int listenAt(const std::string& path, unsigned mode, int* fd) {
  sockaddr_un addr;
  if (int err = unixAddress(path, &addr)) return err;
  int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  // Bind with every permission bit masked, then chmod: there is no moment at which the
  // socket file is reachable with wider permissions than asked for.
  mode_t old = ::umask(0777);
  int rc = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::umask(old);
  if (rc != 0 || ::chmod(path.c_str(), mode) != 0 || ::listen(s, 64) != 0) {
    if (rc == 0) {
      err = errno;
      ::unlink(path.c_str());
    }
    ::close(s);
    return err;
  }
  *fd = s;
  return 0;
}

int connectTo(const std::string& path, int* fd) {
  sockaddr_un addr;
  if (int err = unixAddress(path, &addr)) return err;
  int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  // A blocking connect: on a Unix socket it returns at once (or fails), never waits on a
  // network; then the socket turns non-blocking for the event loop.
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK) != 0) {
    int err = errno;
    ::close(s);
    return err;
  }
  *fd = s;
  return 0;
}

int acceptOne(int listenFd, int* fd) {
  int s = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (s < 0) return errno == EWOULDBLOCK ? EAGAIN : errno;
  *fd = s;
  return 0;
}

int sendMessage(int fd, const uint8_t* data, size_t len, const int* fds, size_t nfds) {
  if (len == 0 || len > kMaxMessage || nfds > kMaxFds) return EMSGSIZE;
  iovec iov{const_cast<uint8_t*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EWOULDBLOCK ? EAGAIN : errno;
  return static_cast<size_t>(n) == len ? 0 : EMSGSIZE;  // SEQPACKET: all or nothing
}

int receiveMessage(int fd, Message* out) {
  out->data.assign(kMaxMessage + 1, 0);  // one byte more: a longer message shows MSG_TRUNC
  out->fds.clear();
  out->closed = false;
  iovec iov{out->data.data(), out->data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    out->data.clear();
    return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int f;
      std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out->fds.push_back(f);
    }
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || static_cast<size_t>(n) > kMaxMessage) {
    closeAll(out->fds);
    out->fds.clear();
    out->data.clear();
    return EMSGSIZE;
  }
  out->data.resize(static_cast<size_t>(n));
  // SEQPACKET: a zero-length read is end of stream (a zero-length message is never sent).
  out->closed = n == 0 && out->fds.empty();
  return 0;
}

int waitReadable(int fd, int timeoutMs, bool* ready) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do rc = ::poll(&p, 1, timeoutMs);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return errno;
  *ready = rc > 0;
  return 0;
}

int peerCredentials(int fd, PeerCredentials* out) {
  ucred c{};
  socklen_t len = sizeof(c);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return errno;
  out->pid = c.pid;
  out->uid = c.uid;
  out->gid = c.gid;
  return 0;
}

int closeFd(int fd) { return ::close(fd) == 0 ? 0 : errno; }

bool isSocket(int fd) {
  struct stat st;
  return fd >= 0 && ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace phyr::channel
