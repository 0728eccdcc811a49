// The Unix-socket channel and shared memory: a message and its descriptors arrive
// together; a memfd sent across maps to the same pages; oversized messages, too many
// descriptors, unsealed or short memfds are refused; a closed peer reads as closed.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "check.h"
#include "addon/channel/shared_memory.h"
#include "addon/channel/unix_channel.h"

using namespace phyr;

namespace {
std::string socketPath(const char* tag) { return "/tmp/phyr-chan-" + std::to_string(getpid()) + "-" + tag; }

// A connected (server side, client side) pair through a real listening socket.
bool connectedPair(const std::string& path, int* listenFd, int* server, int* client) {
  ::unlink(path.c_str());
  if (channel::listenAt(path, 0600, listenFd) != 0) return false;
  if (channel::connectTo(path, client) != 0) return false;
  return channel::acceptOne(*listenFd, server) == 0;
}
}  // namespace

TEST(channel_socket_is_created_with_the_mode_asked) {
  std::string path = socketPath("mode");
  ::unlink(path.c_str());
  int lfd = -1;
  CHECK_EQ(channel::listenAt(path, 0600, &lfd), 0);
  struct stat st;
  CHECK_EQ(::stat(path.c_str(), &st), 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK_EQ(st.st_mode & 0777, 0600u);
  int again = -1;
  CHECK_EQ(channel::listenAt(path, 0600, &again), EADDRINUSE);  // never steals a live path
  int fd = -1;
  CHECK_EQ(channel::acceptOne(lfd, &fd), EAGAIN);  // non-blocking: nobody connected
  channel::closeFd(lfd);
  ::unlink(path.c_str());
  CHECK_EQ(channel::listenAt(std::string(200, 'x'), 0600, &lfd), ENAMETOOLONG);
  CHECK_EQ(channel::connectTo(path, &fd), ENOENT);
}

TEST(channel_message_carries_descriptors_to_the_same_memory) {
  std::string path = socketPath("fds");
  int lfd, server, client;
  CHECK(connectedPair(path, &lfd, &server, &client));
  channel::SharedRegion mine;
  CHECK_EQ(channel::createShared(2 * channel::kSharedPage, false, "phyr-test", &mine), 0);
  std::memset(mine.addr, 0xab, mine.size);
  const uint8_t msg[] = "{\"type\":\"attach\"}";
  CHECK_EQ(channel::sendMessage(client, msg, sizeof(msg), &mine.fd, 1), 0);

  channel::Message got;
  CHECK_EQ(channel::receiveMessage(server, &got), 0);
  CHECK_EQ(got.data.size(), sizeof(msg));
  CHECK(std::memcmp(got.data.data(), msg, sizeof(msg)) == 0);
  CHECK_EQ(got.fds.size(), 1u);
  CHECK(!got.closed);
  channel::SharedRegion theirs;
  CHECK_EQ(channel::mapShared(got.fds[0], mine.size, &theirs), 0);
  CHECK_EQ(theirs.fd, -1);  // the caller keeps (and closes) the received descriptor
  channel::closeFd(got.fds[0]);
  CHECK_EQ(static_cast<uint8_t*>(theirs.addr)[100], 0xab);
  static_cast<uint8_t*>(theirs.addr)[5000] = 0x5a;  // one set of pages, two mappings
  CHECK_EQ(static_cast<uint8_t*>(mine.addr)[5000], 0x5a);
  size_t before = channel::liveSharedRegions();
  channel::freeShared(&theirs);
  channel::freeShared(&mine);
  CHECK_EQ(channel::liveSharedRegions(), before - 2);

  CHECK_EQ(channel::receiveMessage(server, &got), EAGAIN);
  channel::closeFd(client);
  CHECK_EQ(channel::receiveMessage(server, &got), 0);
  CHECK(got.closed);
  int rc = channel::sendMessage(server, msg, sizeof(msg), nullptr, 0);
  CHECK(rc == EPIPE || rc == ECONNRESET);  // and no SIGPIPE: this process is still here
  channel::closeFd(server);
  channel::closeFd(lfd);
  ::unlink(path.c_str());
}

TEST(channel_refuses_oversized_messages_and_too_many_descriptors) {
  std::string path = socketPath("big");
  int lfd, server, client;
  CHECK(connectedPair(path, &lfd, &server, &client));
  std::string big(channel::kMaxMessage + 1, 'x');
  CHECK_EQ(channel::sendMessage(client, reinterpret_cast<const uint8_t*>(big.data()), big.size(), nullptr, 0), EMSGSIZE);
  int fds[channel::kMaxFds + 1];
  for (auto& f : fds) f = 0;
  const uint8_t one = 1;
  CHECK_EQ(channel::sendMessage(client, &one, 1, fds, channel::kMaxFds + 1), EMSGSIZE);
  CHECK_EQ(channel::sendMessage(client, &one, 0, nullptr, 0), EMSGSIZE);  // empty reads as end of stream
  bool ready = true;
  CHECK_EQ(channel::waitReadable(server, 0, &ready), 0);
  CHECK(!ready);
  CHECK_EQ(channel::sendMessage(client, &one, 1, nullptr, 0), 0);
  CHECK_EQ(channel::waitReadable(server, 1000, &ready), 0);
  CHECK(ready);
  channel::PeerCredentials who;
  CHECK_EQ(channel::peerCredentials(server, &who), 0);
  CHECK_EQ(who.pid, getpid());
  CHECK(channel::isSocket(server));
  CHECK(!channel::isSocket(-1));
  channel::closeFd(server);
  channel::closeFd(client);
  channel::closeFd(lfd);
  ::unlink(path.c_str());
}

TEST(channel_map_refuses_short_and_unsealed_memory) {
  channel::SharedRegion r;
  CHECK_EQ(channel::createShared(0, false, "t", &r), EINVAL);
  CHECK_EQ(channel::createShared(4097, false, "t", &r), EINVAL);
  CHECK_EQ(channel::createShared(channel::kSharedPage, true, "t", &r), EINVAL);  // hugepage multiple
  CHECK_EQ(channel::createShared(channel::kSharedPage, false, "t", &r), 0);
  channel::SharedRegion m;
  CHECK_EQ(channel::mapShared(r.fd, 2 * channel::kSharedPage, &m), EINVAL);  // past its end
  CHECK_EQ(::ftruncate(r.fd, 0), -1);  // sealed: the owner cannot shrink it either
  channel::freeShared(&r);
  int plain = ::memfd_create("unsealed", MFD_CLOEXEC);
  CHECK(plain >= 0);
  CHECK_EQ(::ftruncate(plain, channel::kSharedPage), 0);
  CHECK_EQ(channel::mapShared(plain, channel::kSharedPage, &m), EPERM);
  ::close(plain);
  CHECK_EQ(channel::mapShared(-1, channel::kSharedPage, &m), EBADF);
}

TEST(channel_hugepage_request_falls_back_to_plain_pages) {
  channel::SharedRegion r;
  CHECK_EQ(channel::createShared(channel::kSharedHugepage, true, "t", &r), 0);
  CHECK(r.addr != nullptr);
  CHECK(r.fd >= 0);
  static_cast<uint8_t*>(r.addr)[r.size - 1] = 1;  // every page is there, huge or not
  channel::freeShared(&r);
}
