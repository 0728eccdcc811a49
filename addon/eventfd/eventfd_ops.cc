// See eventfd_ops.h.
#include "addon/eventfd/eventfd_ops.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace phyr::eventfd {

int create(int* fd) {
  int f = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (f < 0) return errno;
  *fd = f;
  return 0;
}

int signal(int fd, uint64_t value) {
  if (value == 0 || value > kMaxCounter) return EINVAL;
  ssize_t n = ::write(fd, &value, sizeof value);
  if (n == sizeof value) return 0;
  return n < 0 ? errno : EIO;
}

int drain(int fd, uint64_t* count) {
  uint64_t v = 0;
  ssize_t n = ::read(fd, &v, sizeof v);
  if (n == sizeof v) {
    *count = v;
    return 0;
  }
  return n < 0 ? errno : EIO;
}

bool isEventfd(int fd) {
  if (fd < 0) return false;
  char path[64];
  char target[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n < 0) return false;
  target[n] = '\0';
  return std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

int closeFd(int fd) { return ::close(fd) == 0 ? 0 : errno; }

namespace {
std::mutex& tableMutex() {
  static std::mutex m;
  return m;
}
std::unordered_map<int, Owner>& table() {
  static std::unordered_map<int, Owner> t;
  return t;
}
}  // namespace

void own(int fd, Owner owner) {
  std::lock_guard<std::mutex> lock(tableMutex());
  table()[fd] = owner;
}

void disown(int fd) {
  std::lock_guard<std::mutex> lock(tableMutex());
  table().erase(fd);
}

bool owned(int fd, Owner* owner) {
  std::lock_guard<std::mutex> lock(tableMutex());
  auto it = table().find(fd);
  if (it == table().end()) return false;
  if (owner) *owner = it->second;
  return true;
}

const char* ownerName(Owner owner) {
  switch (owner) {
    case Owner::EventfdRoom: return "createEventfd";
    case Owner::Vfio: return "the VFIO layer";
    case Owner::Emu: return "an emulated controller's MSI-X vectors";
  }
  return "?";
}

}  // namespace phyr::eventfd
