// Node glue of the loopback queue (loopback_napi.h): checked arguments, then the core
// LoopbackQueue. Nothing here is on the IO path: a job thread drives the queue natively.
#include "bench/native/loopback_napi.h"

#include <string>

#include "addon/napi_args.h"
#include "spec/nvme.h"

namespace phyr::bench {
namespace {

// Tags loopback-queue handles (Node-API type tags), so a method called on another object,
// or another object handed to BenchJob, is never reinterpreted as one.
constexpr napi_type_tag kLoopbackTag = {0x70687972'6c6f6f70ull, 0x6261636b'71756575ull};

// Largest transfer a caller may declare: 2^15 x 4 KiB, MDTS's reach (NVMe 1.4 §5.15.2.1).
constexpr double kMaxTransferLimit = 4096.0 * 32768.0;

class LoopbackQueueWrap : public Napi::ObjectWrap<LoopbackQueueWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "LoopbackQueue",
                       {InstanceMethod<&LoopbackQueueWrap::close>("close"),
                        InstanceMethod<&LoopbackQueueWrap::answered>("answered"),
                        InstanceAccessor<&LoopbackQueueWrap::capacity>("capacity"),
                        InstanceAccessor<&LoopbackQueueWrap::busy>("busy")});
  }

  // new LoopbackQueue({ qsize, sglSupport?, preferSgl?, maxTransfer? })
  //   qsize: entries per ring, 2..65536; sglSupport: the SGLS bits 1:0 the loopback claims
  //   (0 none, 1 byte-aligned, 2 dword-aligned; default 0); preferSgl: SGL for every IO
  //   command SGL can describe (--dptr=sgl); maxTransfer: bytes per command before the
  //   driver splits (a multiple of 4096, 0 = no limit).
  LoopbackQueueWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LoopbackQueueWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o;
    if (!args::objectArg(info, 0, "LoopbackQueue options", &o)) return;
    uint32_t qsize = 0, sgl = 0;
    uint64_t maxTransfer = 0;
    bool preferSgl = false;
    if (!args::integerProp(o, "qsize", "LoopbackQueue qsize", 2, 65536, &qsize) ||
        !args::integerProp(o, "sglSupport", "LoopbackQueue sglSupport", 0, 2, &sgl, args::Presence::Optional) ||
        !args::integerProp(o, "maxTransfer", "LoopbackQueue maxTransfer", 0, kMaxTransferLimit, &maxTransfer, args::Presence::Optional))
      return;
    if (!o.Get("preferSgl").IsUndefined() && !args::boolProp(o, "preferSgl", "LoopbackQueue preferSgl", &preferSgl)) return;
    if (maxTransfer % 4096 != 0) {
      args::rangeError(env, "LoopbackQueue maxTransfer must be a multiple of 4096 bytes (MDTS counts memory pages), got " + std::to_string(maxTransfer));
      return;
    }
    if (preferSgl && sgl == 0) {
      args::rangeError(env, "LoopbackQueue preferSgl needs sglSupport 1 or 2 (a controller without SGL support takes PRPs only)");
      return;
    }
    nvme::DptrCaps caps;
    caps.pageSize = 4096;
    caps.sglSupport = static_cast<uint8_t>(sgl);
    caps.preferSgl = preferSgl;
    caps.maxTransfer = maxTransfer;
    const char* why = "invalid loopback queue configuration";
    std::unique_ptr<LoopbackQueue> q = LoopbackQueue::create(qsize, caps, &why);
    if (!q) {
      args::rangeError(env, std::string("LoopbackQueue: ") + why);
      return;
    }
    queue_ = std::move(q);
    info.This().As<Napi::Object>().TypeTag(&kLoopbackTag);
  }

  static bool isSelf(const Napi::CallbackInfo& info) {
    if (isLoopbackQueue(info.This())) return true;
    args::typeError(info.Env(), "LoopbackQueue method called on an object that is not a LoopbackQueue");
    return false;
  }
  const std::shared_ptr<LoopbackQueue>& queue() const { return queue_; }

 private:
  LoopbackQueue* live(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return nullptr;
    if (!queue_) {
      args::typeError(info.Env(), "the loopback queue is closed");
      return nullptr;
    }
    return queue_.get();
  }
  Napi::Value capacity(const Napi::CallbackInfo& info) {
    LoopbackQueue* q = live(info);
    return q ? Napi::Number::New(info.Env(), q->capacity()) : info.Env().Undefined();
  }
  Napi::Value busy(const Napi::CallbackInfo& info) {
    LoopbackQueue* q = live(info);
    return q ? Napi::Boolean::New(info.Env(), q->busy()) : info.Env().Undefined();
  }
  // Commands the loopback has answered so far; refused while a job thread drives the queue
  // (the counter is that thread's).
  Napi::Value answered(const Napi::CallbackInfo& info) {
    LoopbackQueue* q = live(info);
    if (!q) return info.Env().Undefined();
    if (q->busy()) {
      args::typeError(info.Env(), "the loopback queue is driven by a bench job; read answered() after the job is joined");
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), static_cast<double>(q->answered()));
  }
  // Idempotent; refused while a job thread drives the queue.
  Napi::Value close(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    if (queue_ && queue_->busy()) {
      args::typeError(info.Env(), "the loopback queue is driven by a bench job; it cannot be closed until the job has ended (stop() and join() it first)");
      return info.Env().Undefined();
    }
    queue_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<LoopbackQueue> queue_;
};

}  // namespace

Napi::Function defineLoopbackQueue(Napi::Env env) { return LoopbackQueueWrap::define(env); }

bool isLoopbackQueue(Napi::Value v) {
  return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&kLoopbackTag);
}

std::shared_ptr<LoopbackQueue> shareLoopbackQueue(Napi::Value v) {
  if (!isLoopbackQueue(v)) {
    args::typeError(v.Env(), "not a LoopbackQueue");
    return nullptr;
  }
  const std::shared_ptr<LoopbackQueue>& q = LoopbackQueueWrap::Unwrap(v.As<Napi::Object>())->queue();
  if (!q) {
    args::typeError(v.Env(), "the loopback queue is closed");
    return nullptr;
  }
  return q;
}

}  // namespace phyr::bench
