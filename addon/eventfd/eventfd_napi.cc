// Node glue for eventfds: create/close/signal, and watchEventfd, which waits for an
// eventfd through libuv's poll (epoll), so an idle process uses no CPU and no thread.
// When the fd becomes readable the counter is read (which resets it) and the callback
// gets the value: the number of signals since the last read.
#include <napi.h>
#include <uv.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "addon/eventfd/eventfd_ops.h"
#include "addon/fd_watcher.h"
#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr {
namespace {

// Descriptors currently watched; closeFd refuses them (epoll would silently drop a
// closed fd and the watcher would never fire again). Touched on the JS thread only.
std::set<int>& watchedFds() {
  static std::set<int> fds;
  return fds;
}

void throwErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, "PHYR_EVENTFD_FAILED"));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
}

// Argument i must be an open eventfd of this process that the addon made (createEventfd,
// the VFIO layer's eventfd(), an emulated controller's vectors): never one of libuv's.
bool eventfdArg(const Napi::CallbackInfo& info, size_t i, int* fd) {
  Napi::Env env = info.Env();
  if (!args::intArg(info, i, "fd", fd, 0, INT32_MAX)) return false;
  if (!eventfd::owned(*fd) || !eventfd::isEventfd(*fd)) {
    Napi::Error e = Napi::Error::New(env, "fd " + std::to_string(*fd) +
                                              " is not an open eventfd of this process made by phyr (createEventfd, enableMsix)");
    e.Set("code", Napi::String::New(env, "PHYR_NOT_EVENTFD"));
    e.ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value createEventfd(const Napi::CallbackInfo& info) {
  int fd = -1;
  if (int err = eventfd::create(&fd)) {
    throwErrno(info.Env(), "eventfd() failed", err);
    return info.Env().Undefined();
  }
  eventfd::own(fd, eventfd::Owner::EventfdRoom);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value closeFd(const Napi::CallbackInfo& info) {
  int fd;
  if (!eventfdArg(info, 0, &fd)) return info.Env().Undefined();
  eventfd::Owner owner = eventfd::Owner::EventfdRoom;
  eventfd::owned(fd, &owner);
  if (owner != eventfd::Owner::EventfdRoom) {
    // Closing a device's vector would leave the device writing into a closed (later
    // reused) descriptor: only its owner closes it.
    Napi::Error e = Napi::Error::New(info.Env(), "fd " + std::to_string(fd) + " belongs to " + eventfd::ownerName(owner) +
                                                     ", which closes it; closeFd closes only fds from createEventfd");
    e.Set("code", Napi::String::New(info.Env(), "PHYR_NOT_EVENTFD"));
    e.ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (watchedFds().count(fd)) {
    Napi::Error e = Napi::Error::New(info.Env(), "fd " + std::to_string(fd) + " is being watched: close its watcher first");
    e.Set("code", Napi::String::New(info.Env(), "PHYR_EVENTFD_WATCHED"));
    e.ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  eventfd::disown(fd);
  if (int err = eventfd::closeFd(fd)) throwErrno(info.Env(), "close(" + std::to_string(fd) + ") failed", err);
  return info.Env().Undefined();
}

// signal(fd, value = 1): adds value to the counter (what the device does per interrupt).
Napi::Value signal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!eventfdArg(info, 0, &fd)) return env.Undefined();
  double value = 1;
  if (info.Length() > 1 && !info[1].IsUndefined() && !args::integer(env, info[1], "signal value", 1, args::kMaxSafe, &value))
    return env.Undefined();
  if (int err = eventfd::signal(fd, static_cast<uint64_t>(value))) throwErrno(env, "write to eventfd failed", err);
  return env.Undefined();
}

// Marks Watcher objects, so a method called with another object as `this`
// (Watcher.prototype.close.call(x)) is refused before any member is read.
constexpr napi_type_tag kWatcherTag = {0x7068797265'76664eull, 0x5761746368650001ull};

// One watched eventfd (addon/fd_watcher.h): each time it is readable the counter is read,
// which resets it, and the callback gets the count.
class Watcher : public FdWatcher<Watcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    std::vector<Napi::ClassPropertyDescriptor<Watcher>> props{InstanceAccessor("fd", &Watcher::fdGetter, nullptr),
                                                              InstanceAccessor("closed", &Watcher::closedGetter, nullptr)};
    addMethods(&props);
    return DefineClass(env, kClassName, props);
  }

  static constexpr napi_type_tag kTag = kWatcherTag;
  static constexpr const char* kClassName = "EventfdWatcher";

  // new EventfdWatcher(fd, callback): validated by watchEventfd before construction.
  explicit Watcher(const Napi::CallbackInfo& info) : FdWatcher<Watcher>(info) {
    int fd = -1;
    if (!eventfdArg(info, 0, &fd)) return;
    if (!args::usage(info, info.Length() >= 2 && info[1].IsFunction(), "expected (number fd, function onSignal)")) return;
    startWatching(info, fd, UV_READABLE, 1, "phyr:eventfd");
  }

  static std::set<int>& watched() { return watchedFds(); }

  void onPoll(int status, int /*events*/) {
    Napi::Env env = Env();
    if (status < 0) {
      stopWatching();
      release();
      napi_value err = Napi::Error::New(env, std::string("eventfd poll failed: ") + uv_strerror(status)).Value();
      napi_fatal_exception(env, err);
      return;
    }
    uint64_t count = 0;
    if (eventfd::drain(fd(), &count) != 0) return;  // EAGAIN: another reader took it
    call({Napi::Number::New(env, static_cast<double>(count))});
  }

 private:
  Napi::Value fdGetter(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), fd());
  }
  Napi::Value closedGetter(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    return Napi::Boolean::New(info.Env(), !watching());
  }
};

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("createEventfd", Napi::Function::New(env, createEventfd, "createEventfd"));
  o.Set("closeFd", Napi::Function::New(env, closeFd, "closeFd"));
  o.Set("signal", Napi::Function::New(env, signal, "signal"));
  o.Set("Watcher", Watcher::define(env));
  exports.Set("eventfd", o);
}

}  // namespace
PHYR_REGISTER_EXPORTS("eventfd", init);
}  // namespace phyr
