// One file descriptor watched through libuv's poll (epoll) on the JS thread, as a JS object:
// the eventfd room's EventfdWatcher and the channel room's ChannelWatcher. What both need
// is here once: the uv_poll_t's life (a handle is freed only from uv_close's callback), its
// release when the environment goes away with the watcher open (process exit, a worker's
// end), the strong self-reference that keeps an active watcher from being collected, the
// type tag that refuses a method called on another object, and close/ref/unref.
//
// Derived (CRTP) supplies what differs:
//   static const napi_type_tag kTag;     its type tag, and kClassName, its JS class name
//   static std::set<int>& watched();     the room's set of watched fds (its close refuses them)
//   void onPoll(int status, int events); an event, on the JS thread; may call stopWatching()
// and calls startWatching() from its constructor once it has checked its arguments.
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "addon/napi_args.h"

namespace phyr {

template <typename Derived>
class FdWatcher : public Napi::ObjectWrap<Derived> {
 public:
  ~FdWatcher() override { stopWatching(); }

  // close, ref and unref, for Derived's DefineClass.
  static void addMethods(std::vector<Napi::ClassPropertyDescriptor<Derived>>* props) {
    using Method = Napi::Value (Derived::*)(const Napi::CallbackInfo&);
    props->push_back(Napi::ObjectWrap<Derived>::InstanceMethod("close", static_cast<Method>(&FdWatcher::close)));
    props->push_back(Napi::ObjectWrap<Derived>::InstanceMethod("ref", static_cast<Method>(&FdWatcher::ref)));
    props->push_back(Napi::ObjectWrap<Derived>::InstanceMethod("unref", static_cast<Method>(&FdWatcher::unref)));
  }

 protected:
  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  // Starts watching fd for `events` with `callback` (info[callbackArg]); on failure a JS
  // exception is pending and false is returned. An fd already watched by this room is refused:
  // two polls on one fd would take each other's events.
  bool startWatching(const Napi::CallbackInfo& info, int fd, int events, size_t callbackArg, const char* resourceName) {
    Napi::Env env = info.Env();
    if (Derived::watched().count(fd)) {
      Napi::Error::New(env, "fd " + std::to_string(fd) + " is already watched").ThrowAsJavaScriptException();
      return false;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "no libuv event loop").ThrowAsJavaScriptException();
      return false;
    }
    poll_ = new uv_poll_t;
    if (int rc = uv_poll_init(loop, poll_, fd)) {
      delete poll_;  // never initialised: not a handle libuv knows, so no uv_close
      poll_ = nullptr;
      Napi::Error::New(env, std::string("uv_poll_init failed: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return false;
    }
    poll_->data = this;
    if (int rc = uv_poll_start(poll_, events, &FdWatcher::onEvent)) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), freeHandle);
      poll_ = nullptr;
      Napi::Error::New(env, std::string("uv_poll_start failed: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return false;
    }
    fd_ = fd;
    callback_ = Napi::Persistent(info[callbackArg].template As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, resourceName);
    self_ = Napi::Persistent(info.This().template As<Napi::Object>());
    Derived::watched().insert(fd);
    napi_add_env_cleanup_hook(env, &FdWatcher::onEnvTeardown, this);
    napi_type_tag_object(env, info.This(), &Derived::kTag);
    return true;
  }

  // Stops watching and releases the handle; no JS runs here (also used at env teardown).
  void stopWatching(bool fromTeardownHook = false) {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), freeHandle);
    poll_ = nullptr;
    Derived::watched().erase(fd_);
    if (!fromTeardownHook) napi_remove_env_cleanup_hook(this->Env(), &FdWatcher::onEnvTeardown, this);
  }

  // Drops the callback and the self-reference: the object may now be collected.
  void release() {
    callback_.Reset();
    self_.Reset();
  }

  // Calls the JS callback; a throwing callback becomes an uncaught exception, as for any
  // event emitter.
  void call(const std::initializer_list<napi_value>& args) {
    Napi::Env env = this->Env();
    try {
      callback_.MakeCallback(env.Global(), args, *context_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  // Methods run only on an object this class tagged (Watcher.prototype.close.call(x) is
  // refused). Static on purpose: with a foreign `this`, node-addon-api hands the method
  // another class's instance, so nothing of `this` object may be read before the check.
  static bool isWatcher(const Napi::CallbackInfo& info) {
    bool ok = false;
    if (info.This().IsObject() && napi_check_object_type_tag(info.Env(), info.This(), &Derived::kTag, &ok) == napi_ok && ok) return true;
    return args::typeError(info.Env(), std::string(Derived::kClassName) + " method called on an object that is not a " + Derived::kClassName);
  }

  bool watching() const { return poll_ != nullptr; }
  int fd() const { return fd_; }

 private:
  static void freeHandle(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }
  static void onEnvTeardown(void* arg) { static_cast<FdWatcher*>(arg)->stopWatching(true); }

  static void onEvent(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (self == nullptr) return;  // stopped; the close callback has not run yet
    Napi::HandleScope scope(self->Env());
    static_cast<Derived*>(self)->onPoll(status, events);
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    if (!isWatcher(info)) return info.Env().Undefined();
    stopWatching();
    release();
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

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::ObjectReference self_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace phyr
