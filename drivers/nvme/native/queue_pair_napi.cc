// Node glue of the queue pair: one native call per batch of submissions and one per reap.
// Requests and completions travel through shared typed arrays registered once, so the IO
// path creates no JS objects. Their layouts (32-bit little-endian words: request fields,
// result and completion words, flags) are spec/records.h's, which the TypeScript side
// reads through its generated twin; the phyr arena uses spec/phyr.h's entry layout.
#include <algorithm>
#include "drivers/nvme/native/queue_pair_napi.h"

#include <ctime>
#include <cstring>
#include <memory>
#include <string>

#include "drivers/nvme/native/dptr_policy.h"
#include "drivers/nvme/native/prp.h"
#include "addon/napi_args.h"
#include "spec/records.h"
#include "addon/registry.h"

namespace phyr::nvme {
namespace {

namespace rec = phyr::records;
constexpr uint32_t kReqWords = rec::REQ_WORDS;
constexpr uint32_t kCplWords = rec::CPL_WORDS;
// The result codes and the cancelled flag travel in the records as numbers: the enum and
// the flag the core code uses must have the values spec/records.h gives them.
static_assert(static_cast<uint32_t>(SubmitResult::Ok) == rec::submit::OK &&
                  static_cast<uint32_t>(SubmitResult::QueueFull) == rec::submit::QUEUE_FULL &&
                  static_cast<uint32_t>(SubmitResult::NeedListPages) == rec::submit::NEED_LIST_PAGES &&
                  static_cast<uint32_t>(SubmitResult::Bounce) == rec::submit::BOUNCE &&
                  static_cast<uint32_t>(SubmitResult::Reject) == rec::submit::REJECT &&
                  static_cast<uint32_t>(SubmitResult::Invalid) == rec::submit::INVALID &&
                  static_cast<uint32_t>(SubmitResult::Exclusive) == rec::submit::EXCLUSIVE,
              "SubmitResult matches spec/records.h");
static_assert(kCompletionCancelled == rec::CPL_FLAG_CANCELLED, "the cancelled flag matches spec/records.h");
static_assert(sizeof(phyr::PhyrEntry) == phyr::entry::BYTES, "the arena holds spec/phyr.h entries");
// Distinguishes queue-pair handles from any other wrapped object (Node-API type tags).
constexpr napi_type_tag kQueuePairTag = {0x70687972'6e766d65ull, 0x71756575'65706169ull};

// A non-negative integer option (below 2^53), named "option 'KEY'" in its error.
bool optionProp(Napi::Object o, const char* key, uint64_t* out, uint64_t max, bool optional = false) {
  return args::integerProp(o, key, std::string("option '") + key + "'", 0, static_cast<double>(max), out,
                           optional ? args::Presence::Optional : args::Presence::Required);
}

// An ArrayBuffer option plus a byte offset and length inside it.
bool regionProp(Napi::Object o, const char* key, uint64_t offset, uint64_t length, uint8_t** out,
                Napi::ObjectReference* keep) {
  const std::string name = std::string("option '") + key + "'";
  Napi::ArrayBuffer ab;
  if (!args::arrayBuffer(o.Env(), o.Get(key), name, &ab) || !args::byteRange(o.Env(), ab, offset, length, name)) return false;
  *out = static_cast<uint8_t*>(ab.Data()) + offset;
  if (keep) *keep = Napi::Persistent(ab.As<Napi::Object>());
  return true;
}

class QueuePairWrap : public Napi::ObjectWrap<QueuePairWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeQueuePair",
                       {
                           InstanceMethod<&QueuePairWrap::submitBatch>("submitBatch"),
                           InstanceMethod<&QueuePairWrap::reap>("reap"),
                           InstanceMethod<&QueuePairWrap::submitRaw>("submitRaw"),
                           InstanceMethod<&QueuePairWrap::cancelAll>("cancelAll"),
                           InstanceMethod<&QueuePairWrap::tick>("tick"),
                           InstanceMethod<&QueuePairWrap::expired>("expired"),
                           InstanceMethod<&QueuePairWrap::cidsOf>("cidsOf"),
                           InstanceMethod<&QueuePairWrap::setArena>("setArena"),
                           InstanceMethod<&QueuePairWrap::addListPages>("addListPages"),
                           InstanceMethod<&QueuePairWrap::stats>("stats"),
                           InstanceMethod<&QueuePairWrap::close>("close"),
                           InstanceAccessor<&QueuePairWrap::busy>("busy"),
                       });
  }

  QueuePairWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<QueuePairWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      args::typeError(env, "expected an options object (see drivers/nvme/queue-pair.ts)");
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    uint64_t qid, qsize, sqDb, cqDb, sqOff, sqIova, cqOff, cqIova, lOff, lIova, lPages, ps, sgl = 0, bucket = 0,
        mdts = 0, threshold = 32768, preferSgl = 0;
    if (!optionProp(o, "qid", &qid, 65535) || !optionProp(o, "qsize", &qsize, 65536) ||
        !optionProp(o, "sqDoorbell", &sqDb, 1ull << 32) || !optionProp(o, "cqDoorbell", &cqDb, 1ull << 32) ||
        !optionProp(o, "sqOffset", &sqOff, 1ull << 40) || !optionProp(o, "sqIova", &sqIova, (1ull << 53) - 1) ||
        !optionProp(o, "cqOffset", &cqOff, 1ull << 40) || !optionProp(o, "cqIova", &cqIova, (1ull << 53) - 1) ||
        !optionProp(o, "listsOffset", &lOff, 1ull << 40) || !optionProp(o, "listsIova", &lIova, (1ull << 53) - 1) ||
        !optionProp(o, "listPages", &lPages, 1u << 20) || !optionProp(o, "pageSize", &ps, 1u << 27) ||
        !optionProp(o, "sglSupport", &sgl, 2, true) || !optionProp(o, "bitBucket", &bucket, 1, true) ||
        !optionProp(o, "maxTransfer", &mdts, 1ull << 40, true) || !optionProp(o, "sglThreshold", &threshold, 1ull << 31, true) ||
        !optionProp(o, "preferSgl", &preferSgl, 1, true)) {
      return;
    }
    QueueConfig cfg;
    QueueMemory mem;
    uint8_t* bar;
    if (!regionProp(o, "bar", 0, std::max(sqDb, cqDb) + 4, &bar, &bar_)) return;
    if ((sqDb | cqDb) & 3) {
      args::rangeError(env, "doorbell offsets must be multiples of 4");
      return;
    }
    cfg.qid = static_cast<uint16_t>(qid);
    cfg.qsize = static_cast<uint32_t>(qsize);
    cfg.sqTailDoorbell = reinterpret_cast<uint32_t*>(bar + sqDb);
    cfg.cqHeadDoorbell = reinterpret_cast<uint32_t*>(bar + cqDb);
    cfg.caps.pageSize = static_cast<uint32_t>(ps);
    cfg.caps.sglSupport = static_cast<uint8_t>(sgl);
    cfg.caps.bitBucket = bucket != 0;
    cfg.caps.maxTransfer = mdts;
    cfg.caps.sglThreshold = static_cast<uint32_t>(threshold);
    cfg.caps.preferSgl = preferSgl != 0;
    if (ps == 0 || qsize == 0) {
      args::rangeError(env, "qsize and pageSize must be positive");
      return;
    }
    if (!regionProp(o, "sq", sqOff, qsize * 64, &mem.sq, &sq_) || !regionProp(o, "cq", cqOff, qsize * 16, &mem.cq, &cq_) ||
        !regionProp(o, "lists", lOff, lPages * ps, &mem.lists, &lists_)) {
      return;
    }
    if (!shadowProps(o, &cfg)) return;
    mem.sqIova = sqIova;
    mem.cqIova = cqIova;
    mem.listsIova = lIova;
    mem.listPages = static_cast<uint32_t>(lPages);
    const char* why = "invalid queue configuration";
    qp_.reset(QueuePair::create(cfg, mem, &why));
    if (!qp_) {
      args::rangeError(env, std::string("cannot create queue pair ") + std::to_string(qid) + ": " + why);
      return;
    }
    if (!bindBuffers(o)) {
      qp_.reset();
      return;
    }
    info.This().As<Napi::Object>().TypeTag(&kQueuePairTag);
  }

  // `this` must be a QueuePair (checked by its type tag before any member is read: a
  // method called with another wrapped object as `this` would otherwise reinterpret it).
  static bool isSelf(const Napi::CallbackInfo& info) {
    if (info.This().IsObject() && info.This().As<Napi::Object>().CheckTypeTag(&kQueuePairTag)) return true;
    args::typeError(info.Env(), "QueuePair method called on an object that is not a QueuePair");
    return false;
  }
  QueuePair* live(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return nullptr;
    Napi::Env env = info.Env();
    if (!qp_) {
      args::typeError(env, "the queue pair is closed");
      return nullptr;
    }
    if (qp_->exclusive()) {
      args::typeError(env, "the queue pair is driven by a native thread (e.g. a benchmark); wait until it is released");
      return nullptr;
    }
    return qp_.get();
  }
  QueuePair* raw() const { return qp_.get(); }

 private:
  // Optional shadow doorbells (Doorbell Buffer Config, NVMe 2.0 §5.8): 'shadow', the
  // ArrayBuffer holding the pages the controller was given, with this queue's byte offsets
  // of its shadow SQ tail / CQ head and their EventIdx slots. Absent: MMIO doorbells only.
  bool shadowProps(Napi::Object o, QueueConfig* cfg) {
    Napi::Env env = o.Env();
    if (o.Get("shadow").IsUndefined()) return true;
    uint64_t off[4];
    const char* keys[4] = {"shadowSqOffset", "shadowCqOffset", "eventSqOffset", "eventCqOffset"};
    for (int i = 0; i < 4; i++) {
      if (!optionProp(o, keys[i], &off[i], 1ull << 40)) return false;
      if (off[i] & 3) return args::rangeError(env, std::string("option '") + keys[i] + "' must be a multiple of 4");
    }
    uint8_t* base;
    if (!regionProp(o, "shadow", 0, *std::max_element(off, off + 4) + 4, &base, &shadow_)) return false;
    if (reinterpret_cast<uintptr_t>(base) & 3) return args::rangeError(env, "the shadow doorbell buffer must be 4-byte aligned");
    auto at = [base](uint64_t o) { return reinterpret_cast<uint32_t*>(base + o); };
    cfg->sqShadow = {at(off[0]), at(off[2])};
    cfg->cqShadow = {at(off[1]), at(off[3])};
    return true;
  }

  bool bindBuffers(Napi::Object o) {
    Napi::Env env = o.Env();
    Napi::Value r = o.Get("requests"), c = o.Get("completions");
    if (!r.IsArrayBuffer() || !c.IsArrayBuffer()) return args::typeError(env, "options 'requests' and 'completions' must be ArrayBuffers");
    Napi::ArrayBuffer rab = r.As<Napi::ArrayBuffer>(), cab = c.As<Napi::ArrayBuffer>();
    reqCap_ = static_cast<uint32_t>(rab.ByteLength() / (kReqWords * 4));
    cplCap_ = static_cast<uint32_t>(cab.ByteLength() / (kCplWords * 4));
    if (reqCap_ == 0 || cplCap_ == 0) return args::rangeError(env, "the requests and completions buffers hold no slot");
    req_ = static_cast<uint32_t*>(rab.Data());
    cpl_ = static_cast<uint32_t*>(cab.Data());
    reqRef_ = Napi::Persistent(rab.As<Napi::Object>());
    cplRef_ = Napi::Persistent(cab.As<Napi::Object>());
    completions_.resize(cplCap_);
    Napi::Value a = o.Get("arena");
    return a.IsUndefined() ? true : setArenaValue(a);
  }

  bool setArenaValue(Napi::Value a) {
    if (!a.IsArrayBuffer()) return args::typeError(a.Env(), "the phyr arena must be an ArrayBuffer");
    Napi::ArrayBuffer ab = a.As<Napi::ArrayBuffer>();
    arena_ = static_cast<const PhyrEntry*>(ab.Data());
    arenaCap_ = static_cast<uint32_t>(ab.ByteLength() / sizeof(PhyrEntry));
    arenaRef_ = Napi::Persistent(ab.As<Napi::Object>());
    return true;
  }

  // Detached buffers (transferred away) must not be touched.
  bool buffersAttached(Napi::Env env) {
    if (reqRef_.Value().As<Napi::ArrayBuffer>().ByteLength() < reqCap_ * kReqWords * 4 ||
        cplRef_.Value().As<Napi::ArrayBuffer>().ByteLength() < cplCap_ * kCplWords * 4 ||
        (arenaCap_ && arenaRef_.Value().As<Napi::ArrayBuffer>().ByteLength() < arenaCap_ * sizeof(PhyrEntry))) {
      return args::typeError(env, "a shared batch buffer was detached; create the queue pair again");
    }
    return true;
  }

  // submitBatch(first, count): submits request slots [first, first + count). Stops early
  // only when the queue is out of trackers or list pages; every processed slot gets its
  // result in words 14-15. Returns the number of slots processed. Rings the SQ doorbell once.
  Napi::Value submitBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    uint64_t first, count;
    if (!qp || !args::u64Arg(info, 0, "first", &first, 0, reqCap_) || !args::u64Arg(info, 1, "count", &count, 0, reqCap_)) return env.Undefined();
    if (first + count > reqCap_) {
      args::rangeError(env, "request slots " + std::to_string(first) + ".." + std::to_string(first + count) + " exceed the " +
                    std::to_string(reqCap_) + " slots");
      return env.Undefined();
    }
    if (!buffersAttached(env)) return env.Undefined();
    uint32_t done = 0;
    for (; done < count; done++) {
      uint32_t* w = req_ + (first + done) * kReqWords;
      IoCommand cmd;
      cmd.opcode = static_cast<uint8_t>(w[rec::req::OPCODE_FLAGS] & rec::REQ_OPCODE_MASK);
      cmd.rawCdw = (w[rec::req::OPCODE_FLAGS] & rec::REQ_FLAG_RAW_CDW) != 0;
      cmd.nsid = w[rec::req::NSID];
      cmd.slba = w[rec::req::SLBA_LO] | uint64_t{w[rec::req::SLBA_HI]} << 32;
      cmd.blocks = w[rec::req::BLOCKS];
      cmd.lbaSize = w[rec::req::LBA_SIZE];
      const uint64_t pFirst = w[rec::req::PHYR_FIRST], pCount = w[rec::req::PHYR_COUNT];
      cmd.cdw12Extra = w[rec::req::CDW12_EXTRA];
      cmd.cdw13 = w[rec::req::CDW13];
      cmd.userData = w[rec::req::TAG];
      cmd.buckets = SglBuckets{w[rec::req::BUCKET_HEAD], w[rec::req::BUCKET_TAIL]};
      cmd.dataBytes = w[rec::req::DATA_BYTES];
      SubmitOutcome out{};
      if (pFirst + pCount > arenaCap_ || cmd.lbaSize == 0 || (cmd.lbaSize & (cmd.lbaSize - 1)) != 0) {
        out.result = SubmitResult::Invalid;
        out.error = DptrError::OutOfBounds;
      } else {
        cmd.data = arena_ + pFirst;
        cmd.dataCount = static_cast<uint32_t>(pCount);
        out = qp->submit(cmd);
      }
      if (out.result == SubmitResult::QueueFull || out.result == SubmitResult::NeedListPages) {
        // Word 15 still says how many commands the IO needs: more than the queue's
        // capacity means it can never fit and the caller must split it.
        w[rec::req::RESULT] = static_cast<uint32_t>(out.result) | static_cast<uint32_t>(out.error) << rec::RESULT_ERROR_SHIFT;
        w[rec::req::CHILDREN] = out.decision.children;
        break;
      }
      w[rec::req::RESULT] = static_cast<uint32_t>(out.result) |
                            static_cast<uint32_t>(out.decision.format) << rec::RESULT_FORMAT_SHIFT |
                            static_cast<uint32_t>(out.decision.reason) << rec::RESULT_REASON_SHIFT |
                            static_cast<uint32_t>(out.error) << rec::RESULT_ERROR_SHIFT;
      w[rec::req::CHILDREN] = out.decision.children;
    }
    qp->ringSubmit();
    return Napi::Number::New(env, done);
  }

  uint32_t writeCompletions(uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
      uint32_t* w = cpl_ + i * kCplWords;
      w[rec::cpl::TAG] = static_cast<uint32_t>(completions_[i].userData);
      w[rec::cpl::STATUS_FLAGS] = completions_[i].status | uint32_t{completions_[i].flags} << rec::CPL_FLAGS_SHIFT;
      w[rec::cpl::DW0] = completions_[i].dw0;
      w[kCplWords - 1] = 0;  // reserved
    }
    return n;
  }

  // reap(max): completions into the shared completions buffer; returns how many.
  Napi::Value reap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    uint64_t max = cplCap_;
    if (!qp || (info.Length() > 0 && !args::u64Arg(info, 0, "max", &max, 0, cplCap_)) || !buffersAttached(env)) return env.Undefined();
    return Napi::Number::New(env, writeCompletions(qp->poll(completions_.data(), static_cast<uint32_t>(max))));
  }

  // submitRaw(sqe: Uint8Array(64), tag, arenaFirst, arenaCount, bytes): admin path.
  Napi::Value submitRaw(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    if (!qp) return env.Undefined();
    if (info.Length() < 5 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().ByteLength() != 64) {
      args::typeError(env, "expected (sqe: Uint8Array of 64 bytes, tag, firstEntry, entryCount, bytes)");
      return env.Undefined();
    }
    uint64_t tag, pFirst, pCount, bytes;
    if (!args::u64Arg(info, 1, "tag", &tag, 0, 0xFFFFFFFFu) || !args::u64Arg(info, 2, "firstEntry", &pFirst, 0, arenaCap_) ||
        !args::u64Arg(info, 3, "entryCount", &pCount, 0, arenaCap_) || !args::u64Arg(info, 4, "bytes", &bytes, 0, 1ull << 40) ||
        !buffersAttached(env)) {
      return env.Undefined();
    }
    if (pFirst + pCount > arenaCap_) {
      args::rangeError(env, "phyr entries past the arena");
      return env.Undefined();
    }
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    Sqe sqe;
    std::memcpy(&sqe, static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), 64);
    const int cid = qp->submitRaw(sqe, arena_ + pFirst, static_cast<uint32_t>(pCount), bytes, tag);
    qp->ringSubmit();
    return Napi::Number::New(env, cid);
  }

  Napi::Value cancelAll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    uint64_t status;
    if (!qp || !args::u64Arg(info, 0, "status", &status, 0, rec::CPL_STATUS_MASK)) return env.Undefined();
    return Napi::Number::New(env, writeCompletions(qp->cancelAll(completions_.data(), cplCap_, static_cast<uint16_t>(status))));
  }

  Napi::Value tick(const Napi::CallbackInfo& info) {
    if (QueuePair* qp = live(info)) qp->tick();
    return info.Env().Undefined();
  }

  // expired(age): [[tag, cid], ...] of commands submitted at least `age` ticks ago.
  Napi::Value expired(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    uint64_t age;
    if (!qp || !args::u64Arg(info, 0, "age", &age, 0, 0xFFFFFFFFu)) return env.Undefined();
    std::vector<uint64_t> tags(qp->capacity());
    std::vector<uint16_t> cids(qp->capacity());
    const uint32_t n = qp->expired(static_cast<uint32_t>(age), tags.data(), cids.data(), qp->capacity());
    Napi::Array out = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, static_cast<double>(tags[i]));
      pair.Set(1u, static_cast<double>(cids[i]));
      out.Set(i, pair);
    }
    return out;
  }

  Napi::Value cidsOf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    uint64_t tag;
    if (!qp || !args::u64Arg(info, 0, "tag", &tag, 0, 0xFFFFFFFFu)) return env.Undefined();
    std::vector<uint16_t> cids(qp->capacity());
    const uint32_t n = qp->cidsOf(tag, cids.data(), qp->capacity());
    Napi::Array out = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; i++) out.Set(i, static_cast<double>(cids[i]));
    return out;
  }

  Napi::Value setArena(const Napi::CallbackInfo& info) {
    if (live(info) && info.Length() > 0) setArenaValue(info[0]);
    return info.Env().Undefined();
  }

  // addListPages(buffer, offset, iova, count): more spare pages for long lists.
  Napi::Value addListPages(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    uint64_t off, iova, count;
    if (!qp || info.Length() < 4 || !info[0].IsArrayBuffer()) {
      if (qp) args::typeError(env, "expected (ArrayBuffer, offset, iova, count)");
      return env.Undefined();
    }
    if (!args::u64Arg(info, 1, "offset", &off, 0, 1ull << 40) || !args::u64Arg(info, 2, "iova", &iova, 0, (1ull << 53) - 1) ||
        !args::u64Arg(info, 3, "count", &count, 0, 1u << 20)) {
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    const uint64_t ps = qp->caps().pageSize;
    if (count == 0 || off + count * ps > ab.ByteLength()) {
      args::rangeError(env, "the list pages do not fit the buffer");
      return env.Undefined();
    }
    if (!qp->addListPages(static_cast<uint8_t*>(ab.Data()) + off, iova, static_cast<uint32_t>(count))) {
      args::rangeError(env, "list pages need 8-byte aligned memory at a page-aligned device address");
      return env.Undefined();
    }
    extraPages_.push_back(Napi::Persistent(ab.As<Napi::Object>()));
    return env.Undefined();
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    QueuePair* qp = live(info);
    if (!qp) return env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    const QueueStats& s = qp->stats();
    o.Set("submitted", static_cast<double>(s.submitted));
    o.Set("completed", static_cast<double>(s.completed));
    o.Set("doorbells", static_cast<double>(s.doorbells));
    o.Set("shadowUpdates", static_cast<double>(s.shadowUpdates));
    o.Set("spurious", static_cast<double>(s.spurious));
    o.Set("extraListPages", static_cast<double>(s.extraListPages));
    o.Set("outstanding", qp->outstanding());
    o.Set("capacity", qp->capacity());
    o.Set("spareListPages", qp->spareListPages());
    return o;
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!isSelf(info)) return env.Undefined();
    if (qp_ && qp_->exclusive()) {
      args::typeError(env, "the queue pair is driven by a native thread; it cannot be closed until released");
      return env.Undefined();
    }
    qp_.reset();
    bar_.Reset();
    sq_.Reset();
    cq_.Reset();
    lists_.Reset();
    reqRef_.Reset();
    cplRef_.Reset();
    arenaRef_.Reset();
    extraPages_.clear();
    arena_ = nullptr;
    arenaCap_ = 0;
    return env.Undefined();
  }

  Napi::Value busy(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    return Napi::Boolean::New(info.Env(), qp_ && qp_->exclusive());
  }

  std::unique_ptr<QueuePair> qp_;
  Napi::ObjectReference bar_, sq_, cq_, lists_, shadow_, reqRef_, cplRef_, arenaRef_;
  std::vector<Napi::ObjectReference> extraPages_;
  uint32_t* req_ = nullptr;
  uint32_t* cpl_ = nullptr;
  uint32_t reqCap_ = 0, cplCap_ = 0;
  const PhyrEntry* arena_ = nullptr;
  uint32_t arenaCap_ = 0;
  std::vector<Completion> completions_;
};

// explain(arena: ArrayBuffer, count, length, lbaSize, caps, admin?, head?, tail?):
// the data-pointer decision for a phyr array, for reports and tests.
Napi::Value explain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsArrayBuffer() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsNumber() || !info[4].IsObject()) {
    args::typeError(env, "expected (ArrayBuffer entries, count, length, lbaSize, caps[, admin, head, tail])");
    return env.Undefined();
  }
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  const double count = info[1].As<Napi::Number>().DoubleValue();
  const double length = info[2].As<Napi::Number>().DoubleValue();
  const double lba = info[3].As<Napi::Number>().DoubleValue();
  if (!(count >= 1) || count * sizeof(PhyrEntry) > ab.ByteLength() || count != static_cast<uint32_t>(count) ||
      !(length >= 1) || length > 9007199254740991.0 || !(lba >= 1) || lba > (1 << 24) ||
      (static_cast<uint32_t>(lba) & (static_cast<uint32_t>(lba) - 1)) != 0) {
    args::rangeError(env, "count must fit the buffer, length be positive and lbaSize a power of two");
    return env.Undefined();
  }
  Napi::Object c = info[4].As<Napi::Object>();
  uint64_t ps = 4096, sgl = 0, bucket = 0, mdts = 0, threshold = 32768, preferSgl = 0, head = 0, tail = 0;
  if (!optionProp(c, "pageSize", &ps, 1u << 27, true) || !optionProp(c, "sglSupport", &sgl, 2, true) ||
      !optionProp(c, "bitBucket", &bucket, 1, true) || !optionProp(c, "maxTransfer", &mdts, 1ull << 40, true) ||
      !optionProp(c, "sglThreshold", &threshold, 1ull << 31, true) || !optionProp(c, "preferSgl", &preferSgl, 1, true)) {
    return env.Undefined();
  }
  if (ps < 4096 || (ps & (ps - 1)) != 0) {
    args::rangeError(env, "pageSize must be a power of two of at least 4096");
    return env.Undefined();
  }
  // head/tail: bytes of the transfer that go to SGL bit buckets, before and after the data
  // (optional; undefined is 0). A value that is not a u32 is refused, never wrapped.
  uint32_t head32 = 0, tail32 = 0;
  if (info.Length() > 6 && !info[6].IsUndefined() && !args::u32Arg(info, 6, "head", &head32)) return env.Undefined();
  if (info.Length() > 7 && !info[7].IsUndefined() && !args::u32Arg(info, 7, "tail", &tail32)) return env.Undefined();
  head = head32;
  tail = tail32;
  const auto* e = static_cast<const PhyrEntry*>(ab.Data());
  const uint32_t n = static_cast<uint32_t>(count);
  if (phyrTotalBytes(e, n) < static_cast<uint64_t>(length) || head + tail >= length) {
    args::rangeError(env, "the phyr array holds fewer bytes than the length (or the bit buckets cover it all)");
    return env.Undefined();
  }
  DptrCaps caps;
  caps.pageSize = static_cast<uint32_t>(ps);
  caps.sglSupport = static_cast<uint8_t>(sgl);
  caps.bitBucket = bucket != 0;
  caps.maxTransfer = mdts;
  caps.sglThreshold = static_cast<uint32_t>(threshold);
  caps.preferSgl = preferSgl != 0;
  DptrRequest req;
  req.data = PhyrSlice{e, n, 0, static_cast<uint64_t>(length) - head - tail};
  req.lbaSize = static_cast<uint32_t>(lba);
  req.admin = info.Length() > 5 && info[5].ToBoolean();
  req.buckets = SglBuckets{static_cast<uint32_t>(head), static_cast<uint32_t>(tail)};
  const DptrDecision d = decide(req, caps);
  Napi::Object o = Napi::Object::New(env);
  o.Set("format", dptrFormatName(d.format));
  o.Set("reason", dptrReasonName(d.reason));
  o.Set("text", dptrReasonText(d.reason));
  o.Set("children", d.children);
  return o;
}

// CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID): lets benchmarks count
// the driver thread's own CPU on a machine where other threads compete for the cores.
Napi::Value threadCpuNs(const Napi::CallbackInfo& info) {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec));
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object room = Napi::Object::New(env);
  room.Set("threadCpuNs", Napi::Function::New(env, threadCpuNs, "threadCpuNs"));
  room.Set("QueuePair", QueuePairWrap::define(env));
  room.Set("explain", Napi::Function::New(env, explain, "explain"));
  Napi::Array reasons = Napi::Array::New(env);
  Napi::Array texts = Napi::Array::New(env);
  for (uint32_t i = 0; i < static_cast<uint32_t>(DptrReason::Count); i++) {
    reasons.Set(i, dptrReasonName(static_cast<DptrReason>(i)));
    texts.Set(i, dptrReasonText(static_cast<DptrReason>(i)));
  }
  room.Set("reasons", reasons);
  room.Set("reasonTexts", texts);
  Napi::Array formats = Napi::Array::New(env);
  for (uint32_t i = 0; i <= static_cast<uint32_t>(DptrFormat::Reject); i++) formats.Set(i, dptrFormatName(static_cast<DptrFormat>(i)));
  room.Set("formats", formats);
  Napi::Array results = Napi::Array::New(env);
  for (uint32_t i = 0; i <= static_cast<uint32_t>(SubmitResult::Exclusive); i++) results.Set(i, submitResultName(static_cast<SubmitResult>(i)));
  room.Set("submitResults", results);
  Napi::Array errors = Napi::Array::New(env);
  for (uint32_t i = 0; i <= static_cast<uint32_t>(DptrError::NoListPages); i++) errors.Set(i, dptrErrorText(static_cast<DptrError>(i)));
  room.Set("dptrErrors", errors);
  exports.Set("nvme", room);
}

}  // namespace

QueuePair* unwrapQueuePair(Napi::Value v) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kQueuePairTag)) {
    args::typeError(env, "expected a queue pair handle (QueuePair.native from drivers/nvme)");
    return nullptr;
  }
  QueuePairWrap* w = QueuePairWrap::Unwrap(v.As<Napi::Object>());
  if (!w || !w->raw()) {
    args::typeError(env, "the queue pair is closed");
    return nullptr;
  }
  return w->raw();
}

PHYR_REGISTER_EXPORTS("nvme", init);

}  // namespace phyr::nvme
