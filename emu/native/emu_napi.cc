// Node glue of the embedded controller: one EmuDevice object per emulated PCI function.
// Every argument from JS is checked here (types, ranges, buffer bounds) and a bad one
// throws a JS error naming it; nothing reaches the device model unchecked.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "emu/native/controller.h"
#include "emu/native/hex.h"
#include "addon/memory/keep_alive_napi.h"
#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr::emu {
namespace {

// IOVAs the emulated IOMMU accepts (emu/ reports the same through iovaRanges()).
constexpr uint64_t kIovaStart = 0x100000;
constexpr uint64_t kIovaEnd = (1ull << 48) - 1;

// Keeps every mapped ArrayBuffer alive while mapped, so a mapping can never point at
// memory the garbage collector freed. Shared by functions sharing an IOMMU table.
struct MappedBuffers {
  std::map<uint64_t, std::pair<uint64_t, std::unique_ptr<Napi::Reference<Napi::ArrayBuffer>>>> refs;
};

// A config or rule field: absent keeps the default; present, it must be an integer in
// 0..max (a value of another type is out of the field's domain: RangeError, as emu/ sees it).
bool configField(Napi::Object o, const char* key, uint64_t max, uint64_t* out) {
  return args::integerProp(o, key, std::string("emu config ") + key, 0, static_cast<double>(max), out, args::Presence::Optional,
                           args::NotNumber::RangeError);
}

// A fault rule object from emu/faults.ts (FaultRuleSpec).
bool parseRule(Napi::Env env, Napi::Value v, FaultRule* r) {
  if (!v.IsObject()) {
    args::typeError(env, "a fault rule must be an object");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value k = o.Get("kind");
  std::string kind = k.IsString() ? k.As<Napi::String>().Utf8Value() : "";
  static const std::pair<const char*, FaultKind> kinds[] = {
      {"fail", FaultKind::Fail}, {"fail-lba", FaultKind::FailLba}, {"drop", FaultKind::Drop},
      {"delay", FaultKind::Delay}, {"cfs", FaultKind::Cfs},        {"stop", FaultKind::Stop},
      {"resume", FaultKind::Resume}, {"clear", FaultKind::Clear},  {"corrupt", FaultKind::Corrupt},
      {"remove", FaultKind::Remove}, {"answer", FaultKind::Answer},
      {"unchecked", FaultKind::Unchecked}};
  bool found = false;
  for (auto& [name, fk] : kinds) {
    if (kind == name) {
      r->kind = fk;
      found = true;
    }
  }
  if (!found) {
    args::rangeError(env, "fault rule kind '" + kind + "' is not fail, fail-lba, drop, delay, cfs, stop, resume, clear, corrupt, remove, answer or unchecked");
    return false;
  }
  uint64_t nth = 1, lba = 0, nsid = 0, status = FaultRule{}.status, delay = 0, after = 0, byte = 0;
  uint64_t opcode = 256, qid = 65536;  // sentinels: any
  constexpr uint64_t kMaxSafe = (1ull << 53) - 1;  // integers a JS number holds exactly
  if (!configField(o, "nth", kMaxSafe, &nth) || !configField(o, "lba", kMaxSafe, &lba) ||
      !configField(o, "nsid", 0xFFFFFFFFull, &nsid) || !configField(o, "status", 0x7FFF, &status) ||
      !configField(o, "delayNs", kMaxSafe, &delay) || !configField(o, "after", kMaxSafe, &after) ||
      !configField(o, "opcode", 256, &opcode) || !configField(o, "qid", 65536, &qid) ||
      !configField(o, "byte", 4095, &byte))
    return false;
  uint64_t matchDword = 16, matchValue = 0, matchMask = 0xFFFFFFFFu, result = 0;
  if (!configField(o, "matchDword", 16, &matchDword) || !configField(o, "matchValue", 0xFFFFFFFFu, &matchValue) ||
      !configField(o, "matchMask", 0xFFFFFFFFu, &matchMask) || !configField(o, "result", 0xFFFFFFFFu, &result))
    return false;
  r->matchDword = static_cast<uint32_t>(matchDword);
  r->matchValue = static_cast<uint32_t>(matchValue);
  r->matchMask = static_cast<uint32_t>(matchMask);
  r->result = static_cast<uint32_t>(result);
  if (r->kind == FaultKind::Unchecked) {
    std::string check;
    if (!args::optionalStringProp(o, "check", "fault rule check", &check)) return false;
    static const std::pair<const char*, EnableCheck> checks[] = {{"aqa", EnableCheck::Aqa}, {"asq", EnableCheck::AsqAlignment},
                                                                 {"iosqes", EnableCheck::Iosqes}, {"iocqes", EnableCheck::Iocqes},
                                                                 {"mps", EnableCheck::Mps}, {"cmbsz", EnableCheck::CmbUse}};
    for (auto& [name, c] : checks)
      if (check == name) r->uncheck = static_cast<uint8_t>(c);
    if (!r->uncheck) {
      args::rangeError(env, "unchecked fault check '" + check + "' is not aqa, asq, iosqes, iocqes, mps or cmbsz");
      return false;
    }
  }
  if (!o.Get("sticky").IsUndefined() && !args::boolProp(o, "sticky", "fault rule sticky", &r->sticky)) return false;
  if (r->sticky && (r->kind != FaultKind::Cfs || after != 0)) {
    args::rangeError(env, "fault rule sticky goes with kind 'cfs' and no after");
    return false;
  }
  if (nth == 0) {
    args::rangeError(env, "fault rule nth must be >= 1");
    return false;
  }
  r->nth = nth;
  r->lba = lba;
  r->nsid = static_cast<uint32_t>(nsid);
  r->status = static_cast<uint16_t>(status);
  r->delayNs = delay;
  r->after = after;
  r->byte = static_cast<uint32_t>(byte);
  r->opcode = opcode == 256 ? -1 : static_cast<int32_t>(opcode);
  r->qid = qid == 65536 ? -1 : static_cast<int32_t>(qid);
  return true;
}

bool parseConfig(Napi::Env env, Napi::Value v, EmuConfig* c) {
  if (!v.IsObject()) {
    args::typeError(env, "emu config must be an object");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  auto str = [&](const char* key, std::string* out) { return args::optionalStringProp(o, key, std::string("emu config ") + key, out); };
  uint64_t ns = c->namespaces, lbads = c->lbads, size = c->nsBytes, queues = c->queues, qsize = c->qsize,
           mdts = c->mdts, sgl = static_cast<uint64_t>(c->sgl), cmb = c->cmbBytes, cmbsz = c->cmbSupport,
           dbbuf = c->dbbuf ? 1 : 0, sharedBar = c->sharedBar ? 1 : 0;
  if (!str("backend", &c->backend) || !str("path", &c->path) || !str("serial", &c->serial) ||
      !configField(o, "namespaces", 1024, &ns) || !configField(o, "lbads", 12, &lbads) ||
      !configField(o, "nsBytes", 1ull << 46, &size) || !configField(o, "queues", 1024, &queues) ||
      !configField(o, "qsize", 65536, &qsize) || !configField(o, "mdts", 15, &mdts) || !configField(o, "sgl", 2, &sgl) ||
      !configField(o, "cmbBytes", 1ull << 30, &cmb) || !configField(o, "cmbSupport", 0x1F, &cmbsz) ||
      !configField(o, "dbbuf", 1, &dbbuf) || !configField(o, "sharedBar", 1, &sharedBar))
    return false;
  c->dbbuf = dbbuf != 0;
  c->sharedBar = sharedBar != 0;
  c->namespaces = static_cast<uint32_t>(ns);
  c->lbads = static_cast<uint32_t>(lbads);
  c->nsBytes = size;
  c->queues = static_cast<uint32_t>(queues);
  // MSI-X allows 1..2048 table entries (PCI 3.0 §6.8.2.3); 0 keeps one per queue.
  uint64_t vectors = c->vectors;
  if (!configField(o, "vectors", 2048, &vectors)) return false;
  c->vectors = static_cast<uint32_t>(vectors);
  c->qsize = static_cast<uint32_t>(qsize);
  c->mdts = static_cast<uint32_t>(mdts);
  c->sgl = static_cast<SglSupport>(sgl);
  c->cmbBytes = cmb;
  c->cmbSupport = static_cast<uint32_t>(cmbsz);
  if (c->serial.size() > 20) c->serial.resize(20);
  Napi::Value timing = o.Get("timing");
  Napi::Value faults = o.Get("faults");
  if ((!timing.IsUndefined() && (!timing.IsObject() || timing.IsArray())) || (!faults.IsUndefined() && !faults.IsArray())) {
    args::typeError(env, "emu config timing must be an object and faults an array of rules");
    return false;
  }
  if (timing.IsObject()) {
    Napi::Object t = timing.As<Napi::Object>();
    uint64_t kind = 0, lat = 0, latMax = 0, iops = 0, bw = 0, inflight = 0;
    if (!configField(t, "latencyKind", 3, &kind) || !configField(t, "latencyNs", 1ull << 40, &lat) ||
        !configField(t, "latencyMaxNs", 1ull << 40, &latMax) || !configField(t, "iops", 1ull << 32, &iops) ||
        !configField(t, "bandwidth", 1ull << 50, &bw) || !configField(t, "inflight", 65536, &inflight))
      return false;
    if (kind == 2 && latMax < lat) {
      args::rangeError(env, "timing latencyMaxNs must be >= latencyNs");
      return false;
    }
    c->timing.latency = static_cast<TimingModel::Latency>(kind);
    c->timing.latencyNs = lat;
    c->timing.latencyMaxNs = latMax;
    c->timing.iops = iops;
    c->timing.bandwidth = bw;
    c->timing.inflight = static_cast<uint32_t>(inflight);
  }
  if (faults.IsArray()) {
    Napi::Array a = faults.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      FaultRule r;
      if (!parseRule(env, a.Get(i), &r)) return false;
      c->faults.push_back(r);
    }
  }
  return true;
}

// Marks EmuDevice objects: napi_unwrap alone cannot tell an EmuDevice from another
// class's wrapped object, and a method called on one (EmuDevice.prototype.bar.call(x)) or
// a peer given as one must be refused, not reinterpreted.
constexpr napi_type_tag kEmuDeviceTag = {0x7068797265'6d7544ull, 0x4465766963650001ull};

bool isEmuDevice(Napi::Env env, Napi::Value v) {
  bool ok = false;
  return v.IsObject() && napi_check_object_type_tag(env, v, &kEmuDeviceTag, &ok) == napi_ok && ok;
}

class EmuDevice : public Napi::ObjectWrap<EmuDevice> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "EmuDevice",
                       {
                           InstanceMethod("bar", &EmuDevice::bar),
                           InstanceMethod("barSize", &EmuDevice::barSize),
                           InstanceMethod("barFd", &EmuDevice::barFd),
                           InstanceMethod("configRead", &EmuDevice::configRead),
                           InstanceMethod("configWrite", &EmuDevice::configWrite),
                           InstanceMethod("dmaMap", &EmuDevice::dmaMap),
                           InstanceMethod("dmaUnmap", &EmuDevice::dmaUnmap),
                           InstanceMethod("enableMsix", &EmuDevice::enableMsix),
                           InstanceMethod("faultLog", &EmuDevice::faultLog),
                           InstanceMethod("faultCount", &EmuDevice::faultCount),
                           InstanceMethod("clearFaults", &EmuDevice::clearFaults),
                           InstanceMethod("stats", &EmuDevice::stats),
                           InstanceMethod("mappingCount", &EmuDevice::mappingCount),
                           InstanceMethod("inject", &EmuDevice::inject),
                           InstanceMethod("pendingCompletions", &EmuDevice::pendingCompletions),
                           InstanceMethod("close", &EmuDevice::close),
                       });
  }

  // new EmuDevice(config[, peerOf: EmuDevice])
  explicit EmuDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EmuDevice>(info) {
    Napi::Env env = info.Env();
    EmuConfig cfg;
    if (!parseConfig(env, info[0], &cfg)) return;
    std::shared_ptr<IommuTable> iommu;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      if (!isEmuDevice(env, info[1])) {
        args::typeError(env, "the function to attach to must be an EmuDevice");
        return;
      }
      EmuDevice* peer = Napi::ObjectWrap<EmuDevice>::Unwrap(info[1].As<Napi::Object>());
      if (!peer->ctrl_) {
        Napi::Error::New(env, "the function to attach to is closed").ThrowAsJavaScriptException();
        return;
      }
      iommu = peer->ctrl_->iommuShared();
      buffers_ = peer->buffers_;
    } else {
      buffers_ = std::make_shared<MappedBuffers>();
    }
    std::string err;
    BackendError be;
    ctrl_ = Controller::create(cfg, iommu, &err, &be);
    if (!ctrl_) {
      Napi::Error e = Napi::Error::New(env, "cannot create the emulated controller: " + err);
      // emu/ turns these into its typed errors (EmuBackendError, EmuImageLockedError).
      if (!be.code.empty()) {
        e.Set("phyrCode", be.code);
        e.Set("reason", be.message);
        if (be.holderPid) e.Set("holderPid", static_cast<double>(be.holderPid));
        if (!be.holderCommand.empty()) e.Set("holderCommand", be.holderCommand);
      }
      e.ThrowAsJavaScriptException();
      return;
    }
    ctrl_->start();
    napi_type_tag_object(env, info.This(), &kEmuDeviceTag);
  }

  ~EmuDevice() override {
    if (ctrl_) ctrl_->stop();
  }

 private:
  // Every method starts here (close() too): `this` must really be an EmuDevice (checked
  // before any member is read), and an open one.
  bool live(const Napi::CallbackInfo& info, bool mustBeOpen = true) {
    if (!isEmuDevice(info.Env(), info.This())) {
      args::typeError(info.Env(), "EmuDevice method called on an object that is not an EmuDevice");
      return false;
    }
    if (ctrl_ || !mustBeOpen) return true;
    Napi::Error::New(info.Env(), "the emulated function is closed").ThrowAsJavaScriptException();
    return false;
  }

  Napi::Value bar(const Napi::CallbackInfo& info) {
    uint64_t index;
    if (!live(info) || !args::u64Arg(info, 0, "BAR index", &index, 0, 5)) return info.Env().Undefined();
    std::shared_ptr<uint8_t> mem = ctrl_->barMemory(static_cast<int>(index));
    if (!mem) {
      args::rangeError(info.Env(), "BAR " + std::to_string(index) + " is absent on this function");
      return info.Env().Undefined();
    }
    // The ArrayBuffer keeps the BAR memory alive by holding a reference to it.
    auto* hold = new std::shared_ptr<uint8_t>(mem);
    return Napi::ArrayBuffer::New(info.Env(), mem.get(), ctrl_->barSize(static_cast<int>(index)),
                                  [](Napi::Env, void*, std::shared_ptr<uint8_t>* h) { delete h; }, hold);
  }

  Napi::Value barSize(const Napi::CallbackInfo& info) {
    uint64_t index;
    if (!live(info) || !args::u64Arg(info, 0, "BAR index", &index, 0, 5)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(ctrl_->barSize(static_cast<int>(index))));
  }

  // barFd(index) -> the memfd behind the BAR (shared=on), owned by the device.
  Napi::Value barFd(const Napi::CallbackInfo& info) {
    uint64_t index;
    if (!live(info) || !args::u64Arg(info, 0, "BAR index", &index, 0, 5)) return info.Env().Undefined();
    int fd = ctrl_->barFd(static_cast<int>(index));
    if (fd < 0) {
      args::rangeError(info.Env(), "BAR " + std::to_string(index) + " is not in shared memory (open the function with shared=on; only BAR0 is shared)");
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), fd);
  }

  bool configArgs(const Napi::CallbackInfo& info, uint64_t* off, uint64_t* size) {
    if (!live(info) || !args::u64Arg(info, 0, "config offset", off, 0, 4095) || !args::u64Arg(info, 1, "config size", size, 0, 4))
      return false;
    if ((*size != 1 && *size != 2 && *size != 4) || *off % *size != 0) {
      args::rangeError(info.Env(), "config access must be 1, 2 or 4 bytes, naturally aligned");
      return false;
    }
    return true;
  }

  Napi::Value configRead(const Napi::CallbackInfo& info) {
    uint64_t off, size;
    if (!configArgs(info, &off, &size)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), ctrl_->configRead(static_cast<uint32_t>(off), static_cast<uint32_t>(size)));
  }

  Napi::Value configWrite(const Napi::CallbackInfo& info) {
    uint64_t off, size, value;
    if (!configArgs(info, &off, &size)) return info.Env().Undefined();
    if (!args::u64Arg(info, 2, "config value", &value, 0, size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1))
      return info.Env().Undefined();
    ctrl_->configWrite(static_cast<uint32_t>(off), static_cast<uint32_t>(size), static_cast<uint32_t>(value));
    return info.Env().Undefined();
  }

  // dmaMap(memory: ArrayBuffer, offset, length, iova, read: boolean, write: boolean)
  Napi::Value dmaMap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    if (info.Length() < 6 || !info[0].IsArrayBuffer() || !info[4].IsBoolean() || !info[5].IsBoolean()) {
      args::typeError(env, "expected (ArrayBuffer memory, offset, length, iova, read: boolean, write: boolean)");
      return env.Undefined();
    }
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    uint64_t off, len, iova;
    if (!args::u64Arg(info, 1, "offset", &off, 0, ab.ByteLength()) || !args::u64Arg(info, 2, "length", &len, 0, ab.ByteLength()) ||
        !args::u64Arg(info, 3, "iova", &iova, 0, kIovaEnd))
      return env.Undefined();
    if (len == 0 || off + len > ab.ByteLength()) {
      args::rangeError(env, "offset " + std::to_string(off) + " + length " + std::to_string(len) +
                                     " must be a non-empty range inside the " + std::to_string(ab.ByteLength()) +
                                     "-byte buffer");
      return env.Undefined();
    }
    if (iova < kIovaStart || iova + len - 1 > kIovaEnd) {
      args::rangeError(env, "iova range " + hex(iova) + "+" + hex(len) + " is outside the IOMMU's range " +
                                     hex(kIovaStart) + ".." + hex(kIovaEnd) + " (see iovaRanges())");
      return env.Undefined();
    }
    uint8_t* host = static_cast<uint8_t*>(ab.Data()) + off;
    if ((reinterpret_cast<uintptr_t>(host) & 0xFFF) != (iova & 0xFFF)) {
      args::rangeError(env, "the host address and the iova must have the same offset within a 4 KiB page (host " +
                                     hex(reinterpret_cast<uintptr_t>(host) & 0xFFF) + ", iova " + hex(iova & 0xFFF) + ")");
      return env.Undefined();
    }
    // The mapping owns the memory (its backing store), not just this ArrayBuffer object:
    // a transfer or detach moves the memory elsewhere, and it must stay allocated until
    // dmaUnmap, or the device would write into freed heap memory.
    std::shared_ptr<void> keepAlive = memory::backingStoreKeepAlive(ab);
    if (!keepAlive) {
      args::detachedError(env, "dmaMap: memory");
      return env.Undefined();
    }
    bool rd = info[4].As<Napi::Boolean>().Value(), wr = info[5].As<Napi::Boolean>().Value();
    std::string err = ctrl_->iommu().map(iova, host, len, rd, wr, std::move(keepAlive));
    if (!err.empty()) {
      Napi::Error::New(env, "dmaMap(" + hex(iova) + ", " + std::to_string(len) + "): " + err).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    buffers_->refs[iova] = {len, std::make_unique<Napi::Reference<Napi::ArrayBuffer>>(Napi::Persistent(ab))};
    return env.Undefined();
  }

  Napi::Value dmaUnmap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t iova, len;
    if (!live(info) || !args::u64Arg(info, 0, "iova", &iova, 0, kIovaEnd) || !args::u64Arg(info, 1, "length", &len, 0, kIovaEnd))
      return env.Undefined();
    std::string err = ctrl_->iommu().unmap(iova, len);
    if (!err.empty()) {
      Napi::Error::New(env, "dmaUnmap(" + hex(iova) + ", " + std::to_string(len) + "): " + err).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto& refs = buffers_->refs;
    refs.erase(refs.lower_bound(iova), refs.lower_bound(iova + len));
    return env.Undefined();
  }

  Napi::Value enableMsix(const Napi::CallbackInfo& info) {
    uint64_t count;
    if (!live(info) || !args::u64Arg(info, 0, "vector count", &count, 0, 65536)) return info.Env().Undefined();
    std::string err;
    std::vector<int> fds = ctrl_->enableMsix(static_cast<uint32_t>(count), &err);
    if (fds.empty()) {
      args::rangeError(info.Env(), "enableMsix: " + err);
      return info.Env().Undefined();
    }
    Napi::Array a = Napi::Array::New(info.Env(), fds.size());
    for (size_t i = 0; i < fds.size(); i++) a.Set(static_cast<uint32_t>(i), fds[i]);
    return a;
  }

  Napi::Value faultLog(const Napi::CallbackInfo& info) {
    if (!live(info)) return info.Env().Undefined();
    auto log = ctrl_->faultLog();
    Napi::Array a = Napi::Array::New(info.Env(), log.size());
    for (size_t i = 0; i < log.size(); i++) {
      const FaultRecord& f = log[i];
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("iova", static_cast<double>(f.iova));
      o.Set("length", static_cast<double>(f.length));
      o.Set("access", f.write ? "write" : "read");
      o.Set("site", faultSiteName(f.site));
      o.Set("sqid", f.sqid);
      o.Set("cid", f.cid);
      o.Set("opcode", f.opcode);
      a.Set(static_cast<uint32_t>(i), o);
    }
    return a;
  }

  Napi::Value faultCount(const Napi::CallbackInfo& info) {
    if (!live(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(ctrl_->faultCount()));
  }

  Napi::Value clearFaults(const Napi::CallbackInfo& info) {  // live() checks `this`
    if (live(info)) ctrl_->clearFaults();
    return info.Env().Undefined();
  }

  Napi::Value inject(const Napi::CallbackInfo& info) {
    FaultRule r;
    if (!live(info) || !parseRule(info.Env(), info[0], &r)) return info.Env().Undefined();
    uint32_t blockBytes = 1u << ctrl_->config().lbads;
    if (r.kind == FaultKind::Corrupt && r.byte >= blockBytes) {
      args::rangeError(info.Env(), "fault corrupt: byte=" + std::to_string(r.byte) + " must be below the LBA size (" +
                                            std::to_string(blockBytes) + " bytes)");
      return info.Env().Undefined();
    }
    ctrl_->inject(r);
    return info.Env().Undefined();
  }

  Napi::Value pendingCompletions(const Napi::CallbackInfo& info) {
    if (!live(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(ctrl_->pendingCompletions()));
  }

  Napi::Value mappingCount(const Napi::CallbackInfo& info) {
    if (!live(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(ctrl_->iommu().size()));
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    if (!live(info)) return info.Env().Undefined();
    EmuStats s = ctrl_->stats();
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("commands", static_cast<double>(s.commands));
    o.Set("adminCommands", static_cast<double>(s.adminCommands));
    o.Set("ioCommands", static_cast<double>(s.ioCommands));
    o.Set("errors", static_cast<double>(s.errors));
    o.Set("bytesRead", static_cast<double>(s.bytesRead));
    o.Set("bytesWritten", static_cast<double>(s.bytesWritten));
    o.Set("interrupts", static_cast<double>(s.interrupts));
    o.Set("invalidDoorbells", static_cast<double>(s.invalidDoorbells));
    o.Set("corruptedReads", static_cast<double>(s.corruptedReads));
    o.Set("syncs", static_cast<double>(s.syncs));
    o.Set("mmioDoorbellUpdates", static_cast<double>(s.mmioDoorbellUpdates));
    o.Set("shadowDoorbellUpdates", static_cast<double>(s.shadowDoorbellUpdates));
    o.Set("eventIdxWrites", static_cast<double>(s.eventIdxWrites));
    auto counts = [&](const uint64_t* c) {
      Napi::Object m = Napi::Object::New(env);
      for (int i = 0; i < 256; i++)
        if (c[i]) m.Set(std::to_string(i), static_cast<double>(c[i]));
      return m;
    };
    o.Set("adminOpcodes", counts(s.adminOpcodes));
    o.Set("ioOpcodes", counts(s.ioOpcodes));
    return o;
  }

  // Stops the device thread and drops this function's mappings. Idempotent.
  Napi::Value close(const Napi::CallbackInfo& info) {
    if (!live(info, false)) return info.Env().Undefined();
    if (ctrl_) {
      ctrl_->stop();
      std::shared_ptr<IommuTable> table = ctrl_->iommuShared();
      ctrl_.reset();
      // The table is shared with peers: only the last function standing clears it.
      if (table.use_count() == 1) {
        table->clear();
        buffers_->refs.clear();
      }
    }
    return info.Env().Undefined();
  }

  std::unique_ptr<Controller> ctrl_;
  std::shared_ptr<MappedBuffers> buffers_;
};

// alignedBuffer(size): page-aligned, zeroed native memory as an ArrayBuffer, for tests that
// map memory into the emulated IOMMU without the DMA pool (freed when collected).
Napi::Value alignedBuffer(const Napi::CallbackInfo& info) {
  uint64_t size;
  if (!args::u64Arg(info, 0, "size", &size, 0, 1ull << 30)) return info.Env().Undefined();
  if (size == 0 || size % 4096 != 0) {
    args::rangeError(info.Env(), "size must be a non-zero multiple of 4096");
    return info.Env().Undefined();
  }
  void* mem = nullptr;
  if (posix_memalign(&mem, 4096, size) != 0) {
    Napi::Error::New(info.Env(), "out of memory").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::memset(mem, 0, size);
  return Napi::ArrayBuffer::New(info.Env(), mem, size, [](Napi::Env, void* p) { std::free(p); });
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("EmuDevice", EmuDevice::define(env));
  o.Set("alignedBuffer", Napi::Function::New(env, alignedBuffer, "alignedBuffer"));
  exports.Set("emu", o);
}

}  // namespace
PHYR_REGISTER_EXPORTS("emu", init);
}  // namespace phyr::emu
