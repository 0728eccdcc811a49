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

bool isWatcher(const Napi::CallbackInfo& info) {
  bool ok = false;
  if (info.This().IsObject() && napi_check_object_type_tag(info.Env(), info.This(), &kWatcherTag, &ok) == napi_ok && ok) return true;
  return args::typeError(info.Env(), "EventfdWatcher method called on an object that is not an EventfdWatcher");
}

// One watched eventfd. The JS object stays alive (a strong self-reference) while it
// watches, so an active watcher is never collected; close() drops that reference.
class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "EventfdWatcher",
                       {InstanceMethod("close", &Watcher::close), InstanceMethod("ref", &Watcher::ref),
                        InstanceMethod("unref", &Watcher::unref), InstanceAccessor("fd", &Watcher::fdGetter, nullptr),
                        InstanceAccessor("closed", &Watcher::closedGetter, nullptr)});
  }

  // new EventfdWatcher(fd, callback): validated by watchEventfd before construction.
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (!eventfdArg(info, 0, &fd_)) return;
    if (!args::usage(info, info.Length() >= 2 && info[1].IsFunction(), "expected (number fd, function onSignal)")) return;
    if (watchedFds().count(fd_)) {
      Napi::Error::New(env, "fd " + std::to_string(fd_) + " is already watched").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "no libuv event loop").ThrowAsJavaScriptException();
      return;
    }
    poll_ = new uv_poll_t;
    if (int rc = uv_poll_init(loop, poll_, fd_)) {
      delete poll_;
      poll_ = nullptr;
      Napi::Error::New(env, std::string("uv_poll_init failed: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    poll_->data = this;
    if (int rc = uv_poll_start(poll_, UV_READABLE, &Watcher::onReadable)) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), freeHandle);
      poll_ = nullptr;
      Napi::Error::New(env, std::string("uv_poll_start failed: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "phyr:eventfd");
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    watchedFds().insert(fd_);
    napi_add_env_cleanup_hook(env, &Watcher::onEnvTeardown, this);
    napi_type_tag_object(env, info.This(), &kWatcherTag);
  }

  ~Watcher() override { stop(); }

 private:
  static void freeHandle(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  // Stops watching and releases the handle; no JS runs here (also used at env teardown).
  void stop(bool fromTeardownHook = false) {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), freeHandle);
    poll_ = nullptr;
    watchedFds().erase(fd_);
    if (!fromTeardownHook) napi_remove_env_cleanup_hook(Env(), &Watcher::onEnvTeardown, this);
  }

  // The environment is going away (process exit, worker end) with the watcher open:
  // release the libuv handle so the loop can close.
  static void onEnvTeardown(void* arg) { static_cast<Watcher*>(arg)->stop(true); }

  static void onReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<Watcher*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      self->stop();
      self->self_.Reset();
      napi_value err = Napi::Error::New(env, std::string("eventfd poll failed: ") + uv_strerror(status)).Value();
      napi_fatal_exception(env, err);
      return;
    }
    uint64_t count = 0;
    if (eventfd::drain(self->fd_, &count) != 0) return;  // EAGAIN: another reader took it
    try {
      self->callback_.MakeCallback(env.Global(), {Napi::Number::New(env, static_cast<double>(count))}, *self->context_);
    } catch (const Napi::Error& e) {
      // A throwing callback becomes an uncaught exception, as for any event emitter.
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    stop();
    callback_.Reset();
    self_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value ref(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  // An unref'd watcher does not keep the process alive on its own.
  Napi::Value unref(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  Napi::Value fdGetter(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), fd_);
  }
  Napi::Value closedGetter(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    return Napi::Boolean::New(info.Env(), poll_ == nullptr);
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::ObjectReference self_;
  std::unique_ptr<Napi::AsyncContext> context_;
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
