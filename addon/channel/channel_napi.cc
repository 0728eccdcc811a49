// Node glue of the channel room: Unix-socket messages with file descriptors, the libuv
// watch of a socket, and memfd memory as external ArrayBuffers. Every argument is checked
// here (addon/napi_args.h); the core is unix_channel.cc and shared_memory.cc.
//
// Descriptor ownership: JS may send on, receive from, watch or close only descriptors
// this room made (listen, connect, accept) or received in a message; a stray number never
// reaches another part of the process (libuv's own sockets, an eventfd, a VFIO device).
// Shared memory owns its memfd: the ArrayBuffer's finalizer unmaps it and closes the fd,
// and an IOMMU mapping of it (dmaMap) holds the memory alive past that
// (addon/memory/keep_alive_napi.h), so the device never reaches unmapped pages.
#include <napi.h>
#include <uv.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <map>
#include <set>
#include <string>

#include <unistd.h>

#include "addon/channel/shared_memory.h"
#include "addon/channel/unix_channel.h"
#include "addon/fd_watcher.h"
#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr {
namespace {

// Descriptors this room owns (see the header comment), each with the environment (the
// main thread or a worker thread) that made or received it: they belong to that thread,
// and when its environment ends (a worker exits, closed or not) the cleanup hook closes
// them, so a peer sees the hang-up (a served client's daemon releases its queues). One
// table for every thread, hence the mutex.
std::mutex gOwnedMutex;
std::map<int, napi_env>& ownedFds() {
  static std::map<int, napi_env> fds;
  return fds;
}
void own(napi_env env, int fd) {
  std::lock_guard<std::mutex> lock(gOwnedMutex);
  ownedFds()[fd] = env;
}
bool owned(int fd) {
  std::lock_guard<std::mutex> lock(gOwnedMutex);
  return ownedFds().count(fd) != 0;
}
void disown(int fd) {
  std::lock_guard<std::mutex> lock(gOwnedMutex);
  ownedFds().erase(fd);
}
// napi env cleanup hook: closes what the ending environment still owns.
void closeOwnedBy(void* arg) {
  napi_env env = static_cast<napi_env>(arg);
  std::lock_guard<std::mutex> lock(gOwnedMutex);
  for (auto it = ownedFds().begin(); it != ownedFds().end();) {
    if (it->second == env) {
      ::close(it->first);
      it = ownedFds().erase(it);
    } else {
      ++it;
    }
  }
}

// Descriptors currently watched: close refuses them (epoll drops a closed fd silently).
std::set<int>& watchedFds() {
  static std::set<int> fds;
  return fds;
}

void throwErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, "PHYR_CHANNEL_FAILED"));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
}

bool ownedFdArg(const Napi::CallbackInfo& info, size_t i, int* fd) {
  if (!args::intArg(info, i, "fd", fd, 0, INT32_MAX)) return false;
  if (owned(*fd)) return true;
  Napi::Error e = Napi::Error::New(info.Env(), "fd " + std::to_string(*fd) +
                                                   " is not a descriptor of the channel room (listen, connect, accept or a received one)");
  e.Set("code", Napi::String::New(info.Env(), "PHYR_NOT_CHANNEL_FD"));
  e.ThrowAsJavaScriptException();
  return false;
}

// listen(path, mode) -> fd
Napi::Value listen(const Napi::CallbackInfo& info) {
  std::string path;
  uint32_t mode;
  if (!args::stringArg(info, 0, "socket path", &path) || !args::u32Arg(info, 1, "socket mode", &mode, 0, 0777))
    return info.Env().Undefined();
  int fd = -1;
  if (int err = channel::listenAt(path, mode, &fd)) {
    throwErrno(info.Env(), "cannot listen on " + path, err);
    return info.Env().Undefined();
  }
  own(info.Env(), fd);
  return Napi::Number::New(info.Env(), fd);
}

// connect(path) -> fd
Napi::Value connect(const Napi::CallbackInfo& info) {
  std::string path;
  if (!args::stringArg(info, 0, "socket path", &path)) return info.Env().Undefined();
  int fd = -1;
  if (int err = channel::connectTo(path, &fd)) {
    throwErrno(info.Env(), "cannot connect to " + path, err);
    return info.Env().Undefined();
  }
  own(info.Env(), fd);
  return Napi::Number::New(info.Env(), fd);
}

// accept(listenFd) -> fd | null (none waiting)
Napi::Value accept(const Napi::CallbackInfo& info) {
  int lfd;
  if (!ownedFdArg(info, 0, &lfd)) return info.Env().Undefined();
  int fd = -1;
  int err = channel::acceptOne(lfd, &fd);
  if (err == EAGAIN) return info.Env().Null();
  if (err) {
    throwErrno(info.Env(), "accept failed", err);
    return info.Env().Undefined();
  }
  own(info.Env(), fd);
  return Napi::Number::New(info.Env(), fd);
}

// send(fd, data: Uint8Array, fds: number[]) -> true, or false when the socket is full.
// The descriptors sent may be any open ones of this process (a BAR's memfd, shared memory).
Napi::Value send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ownedFdArg(info, 0, &fd)) return env.Undefined();
  if (!args::usage(info, info.Length() >= 3 && info[1].IsTypedArray() && info[2].IsArray(),
                   "expected (number fd, Uint8Array data, number[] fds)"))
    return env.Undefined();
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return args::typeError(env, "data must be a Uint8Array"), env.Undefined();
  Napi::Array list = info[2].As<Napi::Array>();
  if (ta.ByteLength() == 0 || ta.ByteLength() > channel::kMaxMessage || list.Length() > channel::kMaxFds) {
    args::rangeError(env, "a message is 1.." + std::to_string(channel::kMaxMessage) + " bytes with at most " +
                              std::to_string(channel::kMaxFds) + " descriptors, got " + std::to_string(ta.ByteLength()) +
                              " bytes and " + std::to_string(list.Length()) + " descriptors");
    return env.Undefined();
  }
  int fds[channel::kMaxFds];
  for (uint32_t i = 0; i < list.Length(); i++) {
    double d;
    if (!args::integer(env, list.Get(i), "fds[" + std::to_string(i) + "]", 0, INT32_MAX, &d)) return env.Undefined();
    fds[i] = static_cast<int>(d);
  }
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  int err = channel::sendMessage(fd, bytes.Data(), bytes.ByteLength(), fds, list.Length());
  if (err == EAGAIN) return Napi::Boolean::New(env, false);
  if (err) {
    throwErrno(env, "send on fd " + std::to_string(fd) + " failed", err);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// receive(fd) -> null (nothing waiting) | { data: Buffer, fds: number[], closed: boolean }
Napi::Value receive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ownedFdArg(info, 0, &fd)) return env.Undefined();
  channel::Message m;
  int err = channel::receiveMessage(fd, &m);
  if (err == EAGAIN) return env.Null();
  if (err == ECONNRESET) m.closed = true;  // the peer died with data unread: closed as well
  else if (err) {
    throwErrno(env, err == EMSGSIZE ? "a message on fd " + std::to_string(fd) + " was longer than " +
                                          std::to_string(channel::kMaxMessage) + " bytes or carried more than " +
                                          std::to_string(channel::kMaxFds) + " descriptors (dropped)"
                                    : "receive on fd " + std::to_string(fd) + " failed",
               err);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, m.data.data(), m.data.size()));
  Napi::Array fds = Napi::Array::New(env, m.fds.size());
  for (size_t i = 0; i < m.fds.size(); i++) {
    own(env, m.fds[i]);
    fds.Set(static_cast<uint32_t>(i), m.fds[i]);
  }
  o.Set("fds", fds);
  o.Set("closed", m.closed);
  return o;
}

// waitReadable(fd, timeoutMs) -> boolean: blocks the calling thread (the rare synchronous
// request of a control path); the event loop uses Watcher instead.
Napi::Value waitReadable(const Napi::CallbackInfo& info) {
  int fd, ms;
  if (!ownedFdArg(info, 0, &fd) || !args::intArg(info, 1, "timeoutMs", &ms, 0, 600000)) return info.Env().Undefined();
  bool ready = false;
  if (int err = channel::waitReadable(fd, ms, &ready)) throwErrno(info.Env(), "poll failed", err);
  return Napi::Boolean::New(info.Env(), ready);
}

// peer(fd) -> { pid, uid, gid } of the process at the other end.
Napi::Value peer(const Napi::CallbackInfo& info) {
  int fd;
  if (!ownedFdArg(info, 0, &fd)) return info.Env().Undefined();
  channel::PeerCredentials c;
  if (int err = channel::peerCredentials(fd, &c)) {
    throwErrno(info.Env(), "SO_PEERCRED failed", err);
    return info.Env().Undefined();
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("pid", static_cast<double>(c.pid));
  o.Set("uid", static_cast<double>(c.uid));
  o.Set("gid", static_cast<double>(c.gid));
  return o;
}

Napi::Value closeFd(const Napi::CallbackInfo& info) {
  int fd;
  if (!ownedFdArg(info, 0, &fd)) return info.Env().Undefined();
  if (watchedFds().count(fd)) {
    Napi::Error::New(info.Env(), "fd " + std::to_string(fd) + " is being watched: close its watcher first").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  disown(fd);
  if (int err = channel::closeFd(fd)) throwErrno(info.Env(), "close(" + std::to_string(fd) + ") failed", err);
  return info.Env().Undefined();
}

void finalizeShared(Napi::Env env, void* /*data*/, channel::SharedRegion* r) {
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(r->size));
  channel::freeShared(r);
  delete r;
}

Napi::ArrayBuffer sharedBuffer(Napi::Env env, const channel::SharedRegion& region) {
  auto* hold = new channel::SharedRegion(region);
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(hold->size));
  return Napi::ArrayBuffer::New(env, hold->addr, hold->size, finalizeShared, hold);
}

// createShared(size, huge) -> { memory: ArrayBuffer, fd, huge }: zeroed memfd memory. The
// fd belongs to the memory (closed by its finalizer): send it while `memory` is alive.
Napi::Value createShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double size;
  bool huge = false;
  if (!args::integerArg(info, 0, "shared memory size", 1, static_cast<double>(channel::kMaxSharedSize), &size) ||
      !args::boolArg(info, 1, "huge", &huge))
    return env.Undefined();
  size_t unit = huge ? channel::kSharedHugepage : channel::kSharedPage;
  if (static_cast<size_t>(size) % unit != 0) {
    args::rangeError(env, "shared memory size " + std::to_string(static_cast<uint64_t>(size)) + " must be a multiple of " +
                              std::to_string(unit) + (huge ? " (2 MiB hugepages)" : " (4 KiB pages)"));
    return env.Undefined();
  }
  channel::SharedRegion r;
  if (int err = channel::createShared(static_cast<size_t>(size), huge, "phyr-shared", &r)) {
    throwErrno(env, "cannot create " + std::to_string(static_cast<uint64_t>(size)) + " bytes of shared memory", err);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", r.fd);
  o.Set("huge", r.huge);
  o.Set("memory", sharedBuffer(env, r));
  return o;
}

// mapShared(fd, size) -> ArrayBuffer over a received memfd (sealed against shrinking and at
// least `size` bytes long). The caller still closes fd.
Napi::Value mapShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  double size;
  if (!ownedFdArg(info, 0, &fd) ||
      !args::integerArg(info, 1, "shared memory size", 1, static_cast<double>(channel::kMaxSharedSize), &size))
    return env.Undefined();
  channel::SharedRegion r;
  if (int err = channel::mapShared(fd, static_cast<size_t>(size), &r)) {
    std::string why = err == EPERM   ? " (it is not sealed against shrinking: only phyr's shared memory is accepted)"
                      : err == EINVAL ? " (not a memfd of at least that many bytes, or a size that is not a page multiple)"
                                      : "";
    throwErrno(env, "cannot map " + std::to_string(static_cast<uint64_t>(size)) + " bytes of fd " + std::to_string(fd) + why, err);
    return env.Undefined();
  }
  return sharedBuffer(env, r);
}

Napi::Value stats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("liveSharedRegions", static_cast<double>(channel::liveSharedRegions()));
  std::lock_guard<std::mutex> lock(gOwnedMutex);
  o.Set("ownedFds", static_cast<double>(ownedFds().size()));
  return o;
}

constexpr napi_type_tag kWatcherTag = {0x7068797263'68616eull, 0x5761746368650002ull};

// One watched socket (addon/fd_watcher.h): calls onReadable() (no arguments) whenever it
// is readable or hung up; JS then drains it with receive().
class Watcher : public FdWatcher<Watcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    std::vector<Napi::ClassPropertyDescriptor<Watcher>> props;
    addMethods(&props);
    return DefineClass(env, kClassName, props);
  }

  static constexpr napi_type_tag kTag = kWatcherTag;
  static constexpr const char* kClassName = "ChannelWatcher";

  explicit Watcher(const Napi::CallbackInfo& info) : FdWatcher<Watcher>(info) {
    int fd = -1;
    if (!ownedFdArg(info, 0, &fd)) return;
    if (!args::usage(info, info.Length() >= 2 && info[1].IsFunction(), "expected (number fd, function onReadable)")) return;
    startWatching(info, fd, UV_READABLE | UV_DISCONNECT, 1, "phyr:channel");
  }

  static std::set<int>& watched() { return watchedFds(); }

  // A poll error (EBADF and the like) is reported as readable: receive() then names it.
  void onPoll(int /*status*/, int /*events*/) { call({}); }
};

void init(Napi::Env env, Napi::Object exports) {
  napi_add_env_cleanup_hook(env, closeOwnedBy, static_cast<napi_env>(env));
  Napi::Object o = Napi::Object::New(env);
  o.Set("listen", Napi::Function::New(env, listen, "listen"));
  o.Set("connect", Napi::Function::New(env, connect, "connect"));
  o.Set("accept", Napi::Function::New(env, accept, "accept"));
  o.Set("send", Napi::Function::New(env, send, "send"));
  o.Set("receive", Napi::Function::New(env, receive, "receive"));
  o.Set("waitReadable", Napi::Function::New(env, waitReadable, "waitReadable"));
  o.Set("peer", Napi::Function::New(env, peer, "peer"));
  o.Set("close", Napi::Function::New(env, closeFd, "close"));
  o.Set("createShared", Napi::Function::New(env, createShared, "createShared"));
  o.Set("mapShared", Napi::Function::New(env, mapShared, "mapShared"));
  o.Set("stats", Napi::Function::New(env, stats, "stats"));
  o.Set("Watcher", Watcher::define(env));
  o.Set("maxMessage", static_cast<double>(channel::kMaxMessage));
  o.Set("maxFds", static_cast<double>(channel::kMaxFds));
  exports.Set("channel", o);
}

}  // namespace
PHYR_REGISTER_EXPORTS("channel", init);
}  // namespace phyr
