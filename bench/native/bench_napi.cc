// Node glue of the benchmark engine (room 'bench'): starts one job thread on a queue pair
// the driver created, exposes its progress through a shared Float64Array, and hands the
// results back once. Every argument from JS is validated here; a bad one throws.
//
//   const job = new bench.BenchJob(queuePair.native, params, buffer, bufferOffset, progress, bar0);
//   ... poll progress[...] from timers; job.stop() to end early ...
//   if (job.done) result = job.join();
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/native/driver_queue.h"
#include "bench/native/emu_cost_bench.h"
#include "bench/native/engine.h"
#include "bench/native/memcpy_bandwidth.h"
#include "bench/native/loopback.h"
#include "bench/native/loopback_napi.h"
#include "bench/native/null_queue.h"
#include "spec/nvme.h"
#include "drivers/nvme/native/queue_pair_napi.h"
#include "addon/napi_args.h"
#include "addon/registry.h"

namespace phyr::bench {
namespace {

// A job parameter, named "bench parameter 'KEY'" in its error: an integer in [min, max]
// (a number of any value with `integer` false).
bool num(Napi::Object o, const char* key, double min, double max, double* out, bool integer = true) {
  const std::string name = std::string("bench parameter '") + key + "'";
  return integer ? args::integerProp(o, key, name, min, max, out) : args::number(o.Env(), o.Get(key), name, min, max, out);
}

template <typename T>
bool u(Napi::Object o, const char* key, double max, T* out) {
  return args::integerProp(o, key, std::string("bench parameter '") + key + "'", 0, max, out);
}

bool flag(Napi::Object o, const char* key, bool* out) {
  return args::boolProp(o, key, std::string("bench parameter '") + key + "'", out);
}

bool blockSizes(Napi::Object o, const char* key, BlockSizes* b) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject()) return args::typeError(o.Env(), std::string("bench parameter '") + key + "' must be an object {min, max, split}");
  Napi::Object bo = v.As<Napi::Object>();
  if (!u(bo, "min", 0xFFFFFFFF, &b->min) || !u(bo, "max", 0xFFFFFFFF, &b->max)) return false;
  Napi::Value s = bo.Get("split");
  if (!s.IsArray()) return args::typeError(o.Env(), std::string(key) + ".split must be an array of [bytes, cumulative weight]");
  Napi::Array arr = s.As<Napi::Array>();
  if (arr.Length() > BlockSizes::kMaxSplit) return args::rangeError(o.Env(), std::string(key) + ".split has more than 16 entries");
  b->splitCount = arr.Length();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsArray() || e.As<Napi::Array>().Length() != 2) return args::typeError(o.Env(), std::string(key) + ".split entries must be [bytes, cumulative weight]");
    Napi::Array pair = e.As<Napi::Array>();
    if (!pair.Get(0u).IsNumber() || !pair.Get(1u).IsNumber()) return args::typeError(o.Env(), std::string(key) + ".split entries must be numbers");
    const double bytes = pair.Get(0u).As<Napi::Number>().DoubleValue(), cum = pair.Get(1u).As<Napi::Number>().DoubleValue();
    if (!(bytes >= 1 && bytes <= 0xFFFFFFFF) || !(cum >= 0 && cum <= 10000)) return args::rangeError(o.Env(), std::string(key) + ".split entry out of range");
    b->splitBytes[i] = static_cast<uint32_t>(bytes);
    b->splitCumulative[i] = static_cast<uint32_t>(cum);
  }
  return true;
}

// cmdTimeoutNs is optional (the engine's default, 10 s, when absent) so older callers
// keep working; when given it must be in the engine's bounds.
bool timeoutParam(Napi::Object o, JobParams* p) {
  if (o.Get("cmdTimeoutNs").IsUndefined()) return true;
  double d;
  if (!num(o, "cmdTimeoutNs", static_cast<double>(kMinCmdTimeoutNs), static_cast<double>(kMaxCmdTimeoutNs), &d)) return false;
  p->cmdTimeoutNs = static_cast<uint64_t>(d);
  return true;
}

// seqSkip is optional (0 when absent): a signed byte count, at most the 53-bit range.
bool skipParam(Napi::Object o, JobParams* p) {
  if (o.Get("seqSkip").IsUndefined()) return true;
  double d;
  if (!num(o, "seqSkip", -9007199254740991.0, 9007199254740991.0, &d)) return false;
  p->seqSkip = static_cast<int64_t>(d);
  return true;
}

// An optional integer parameter: absent keeps the engine's default.
template <typename T>
bool opt(Napi::Object o, const char* key, double max, T* out) {
  return o.Get(key).IsUndefined() || u(o, key, max, out);
}

// A [read, write] pair of optional integers (rates per direction).
bool optPair(Napi::Object o, const char* key, uint64_t out[2]) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 2) return args::typeError(o.Env(), std::string("bench parameter '") + key + "' must be [read, write]");
  Napi::Object pair = v.As<Napi::Object>();
  return u(pair, "0", 9007199254740991.0, &out[0]) && u(pair, "1", 9007199254740991.0, &out[1]);
}

// fio's zoned distributions: zones = [[startBytes, bytes, cumulative share 1/100 %], ...].
bool zonesParam(Napi::Object o, JobParams* p) {
  Napi::Value v = o.Get("zones");
  if (v.IsUndefined()) return true;
  if (!v.IsArray() || v.As<Napi::Array>().Length() > OffsetGenerator::kMaxZones) return args::typeError(o.Env(), "bench parameter 'zones' must be an array of at most 16 [startBytes, bytes, cumulative]");
  Napi::Array arr = v.As<Napi::Array>();
  p->zoneCount = arr.Length();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsArray() || e.As<Napi::Array>().Length() != 3) return args::typeError(o.Env(), "bench parameter 'zones' entries must be [startBytes, bytes, cumulative]");
    Napi::Object z = e.As<Napi::Object>();
    if (!u(z, "0", 9007199254740991.0, &p->zoneStartBytes[i]) || !u(z, "1", 9007199254740991.0, &p->zoneBytes[i]) || !u(z, "2", 10000, &p->zoneCum[i])) return false;
  }
  return true;
}

// The pacing parameters (number_ios, rate*, thinktime, startdelay), all optional.
bool pacingParams(Napi::Object o, JobParams* p) {
  constexpr double kMax53 = 9007199254740991.0;
  if (!o.Get("ratePoisson").IsUndefined() && !flag(o, "ratePoisson", &p->ratePoisson)) return false;
  return opt(o, "maxIos", kMax53, &p->maxIos) && optPair(o, "rateBps", p->rateBps) && optPair(o, "rateMinBps", p->rateMinBps) &&
         optPair(o, "rateMinIops", p->rateMinIops) && opt(o, "fsyncEvery", 0xFFFFFFFF, &p->fsyncEvery) &&
         (o.Get("endFsync").IsUndefined() || flag(o, "endFsync", &p->endFsync)) &&
         (o.Get("trim").IsUndefined() || flag(o, "trim", &p->trim)) &&
         (o.Get("readFua").IsUndefined() || flag(o, "readFua", &p->readFua)) &&
         (o.Get("writeFua").IsUndefined() || flag(o, "writeFua", &p->writeFua)) &&
         opt(o, "batchSubmit", 65535, &p->batchSubmit) && opt(o, "batchCompleteMin", 65535, &p->batchCompleteMin) &&
         opt(o, "batchCompleteMax", 65535, &p->batchCompleteMax) && opt(o, "iodepthLow", 65535, &p->iodepthLow) &&
         opt(o, "blockAlign", 0xFFFFFFFF, &p->blockAlign) && opt(o, "percentageRandom", 100, &p->percentageRandom) &&
         opt(o, "randomEvery", 0xFFFFFFFF, &p->randomEvery) && (o.Get("randomIdentical").IsUndefined() || flag(o, "randomIdentical", &p->randomIdentical)) && zonesParam(o, p) && opt(o, "rateCycleNs", kMax53, &p->rateCycleNs) &&
         opt(o, "thinktimeNs", kMax53, &p->thinktimeNs) && opt(o, "thinktimeSpinNs", kMax53, &p->thinktimeSpinNs) &&
         opt(o, "thinktimeBlocks", 0xFFFFFFFF, &p->thinktimeBlocks) && opt(o, "thinktimeIotimeNs", kMax53, &p->thinktimeIotimeNs) &&
         (o.Get("thinktimeByCompletion").IsUndefined() || flag(o, "thinktimeByCompletion", &p->thinktimeByCompletion)) &&
         (o.Get("rateIgnoreThinktime").IsUndefined() || flag(o, "rateIgnoreThinktime", &p->rateIgnoreThinktime)) &&
         (o.Get("serializeOverlap").IsUndefined() || flag(o, "serializeOverlap", &p->serializeOverlap)) && opt(o, "startDelayNs", kMax53, &p->startDelayNs) &&
         opt(o, "sampleIntervalNs", kMax53, &p->sampleIntervalNs) && opt(o, "logWindowNs", kMax53, &p->logWindowNs) && opt(o, "iopsIntervalNs", kMax53, &p->iopsIntervalNs) && opt(o, "histWindowNs", kMax53, &p->histWindowNs);
}

// continue_on_error / ignore_error, max_latency and cpus_allowed, all optional.
bool errorParams(Napi::Object o, JobParams* p) {
  if (!opt(o, "errorCountTypes", 7, &p->errorCountTypes) || !opt(o, "continueEio", 7, &p->continueEio) || !opt(o, "continueTimedOut", 7, &p->continueTimedOut)) return false;
  if (!o.Get("continueVerify").IsUndefined() && !flag(o, "continueVerify", &p->continueVerify)) return false;
  if (!o.Get("trimWrite").IsUndefined() && !flag(o, "trimWrite", &p->trimWrite)) return false;
  Napi::Value lat = o.Get("maxLatencyNs");
  if (!lat.IsUndefined()) {
    if (!lat.IsArray() || lat.As<Napi::Array>().Length() != 3) return args::typeError(o.Env(), "bench parameter 'maxLatencyNs' must be [read, write, trim]");
    Napi::Object t = lat.As<Napi::Object>();
    if (!u(t, "0", 9007199254740991.0, &p->maxLatencyNs[0]) || !u(t, "1", 9007199254740991.0, &p->maxLatencyNs[1]) || !u(t, "2", 9007199254740991.0, &p->maxLatencyNs[2])) return false;
  }
  Napi::Value nice = o.Get("nice");
  if (!nice.IsUndefined()) {
    const double n = nice.IsNumber() ? nice.As<Napi::Number>().DoubleValue() : 0.5;
    if (n != std::trunc(n) || n < -20 || n > 19) return args::typeError(o.Env(), "bench parameter 'nice' must be an integer -20..19");
    p->nice = static_cast<int32_t>(n);
  }
  Napi::Value cpus = o.Get("cpus");
  if (cpus.IsUndefined()) return true;
  if (!cpus.IsArray()) return args::typeError(o.Env(), "bench parameter 'cpus' must be an array of CPU numbers");
  Napi::Array list = cpus.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object one = Napi::Object::New(o.Env());
    one.Set("cpu", list.Get(i));
    uint32_t cpu;
    if (!u(one, "cpu", JobParams::kCpuMaskWords * 64 - 1, &cpu)) return false;
    p->cpuMask[cpu / 64] |= 1ull << (cpu % 64);
  }
  return true;
}

// An optional byte pattern: an array of 1..512 numbers 0..255 (absent: none).
bool patternParam(Napi::Object o, const char* key, BytePattern* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  if (!v.IsArray() || v.As<Napi::Array>().Length() == 0 || v.As<Napi::Array>().Length() > BytePattern::kMaxBytes)
    return args::typeError(o.Env(), std::string("bench parameter '") + key + "' must be an array of 1..512 bytes");
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    const double b = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(b >= 0 && b <= 255) || b != static_cast<double>(static_cast<uint32_t>(b))) return args::rangeError(o.Env(), std::string("bench parameter '") + key + "' entries must be bytes 0..255");
    out->data[i] = static_cast<uint8_t>(b);
  }
  out->bytes = arr.Length();
  return true;
}

// verify_pattern's %o positions: up to 64 byte positions, each with 8 bytes inside the pattern.
bool patternOffsetsParam(Napi::Object o, JobParams* p) {
  Napi::Value v = o.Get("verifyPatternOffsets");
  if (v.IsUndefined()) return true;
  if (!v.IsArray() || v.As<Napi::Array>().Length() > JobParams::kMaxPatternOffsets)
    return args::typeError(o.Env(), "bench parameter 'verifyPatternOffsets' must be an array of at most 64 positions");
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    const double b = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(b >= 0 && b + 8 <= p->verifyPattern.bytes) || b != static_cast<double>(static_cast<uint32_t>(b)))
      return args::rangeError(o.Env(), "bench parameter 'verifyPatternOffsets' entries must be positions with 8 bytes inside verifyPattern");
    p->verifyPatternOffsets[i] = static_cast<uint16_t>(b);
  }
  p->verifyPatternOffsetCount = arr.Length();
  return true;
}

// The buffer-content parameters (buffer_fill.h), all optional: absent = random data once.
bool bufferParams(Napi::Object o, JobParams* p) {
  uint32_t kind = 0;
  if (!opt(o, "fillKind", 3, &kind)) return false;
  p->fill.kind = static_cast<FillKind>(kind);
  p->fill.minWriteBytes = p->writeBs.min;
  return (o.Get("fillRefill").IsUndefined() || flag(o, "fillRefill", &p->fill.refill)) &&
         (o.Get("fillScramble").IsUndefined() || flag(o, "fillScramble", &p->fill.scramble)) &&
         opt(o, "compressPercent", 99, &p->fill.compressPercent) && opt(o, "compressChunk", 0xFFFFFFFF, &p->fill.compressChunk) &&
         opt(o, "dedupePercent", 100, &p->fill.dedupePercent) &&
         opt(o, "dedupeWorkingSetPages", 9007199254740991.0, &p->fill.dedupeWorkingSetPages) && opt(o, "dedupeWorkingSetChance", 10000, &p->fill.dedupeWorkingSetChance) && patternParam(o, "fillPattern", &p->fill.pattern) &&
         patternParam(o, "verifyPattern", &p->verifyPattern) && patternOffsetsParam(o, p);
}

// verify_interval, verify_offset, verify_backlog(_batch) and verify_only, all optional (absent: off).
bool verifyParams(Napi::Object o, JobParams* p) {
  return opt(o, "verifyInterval", 0xFFFFFFFF, &p->verifyInterval) && opt(o, "verifyOffset", 0xFFFFFFFF, &p->verifyOffset) && opt(o, "verifyBacklog", kMaxVerifyBacklog, &p->verifyBacklog) &&
         opt(o, "verifyBacklogBatch", kMaxVerifyBacklog, &p->verifyBacklogBatch) &&
         (o.Get("verifyOnly").IsUndefined() || flag(o, "verifyOnly", &p->verifyOnly)) &&
         (o.Get("verifyDump").IsUndefined() || flag(o, "verifyDump", &p->verifyDump));
}

// fio's latency target mode, all optional (absent: off).
bool latencyParams(Napi::Object o, JobParams* p) {
  constexpr double kMax53 = 9007199254740991.0;
  if (!opt(o, "latencyTargetNs", kMax53, &p->latencyTargetNs) || !opt(o, "latencyWindowUs", kMax53, &p->latencyWindowUs)) return false;
  if (!o.Get("latencyPercentile").IsUndefined() && !num(o, "latencyPercentile", 0, 100, &p->latencyPercentile, false)) return false;
  return o.Get("latencyRun").IsUndefined() || flag(o, "latencyRun", &p->latencyRun);
}

bool parseParams(Napi::Object o, JobParams* p) {
  constexpr double kMax53 = 9007199254740991.0;
  uint32_t dist = 0;
  double kind = 0;  // VerifyKind: 1 crc32c, 2 md5, 3 null (read back, no check), 4 pattern, 5 pattern header
  return num(o, "verifyKind", 1, 6, &kind) && ((p->verifyKind = static_cast<VerifyKind>(kind)), true) &&
         u(o, "nsid", 0xFFFFFFFE, &p->nsid) && u(o, "lbaSize", 1 << 16, &p->lbaSize) &&
         u(o, "regionLba", kMax53, &p->regionLba) && u(o, "regionBytes", kMax53, &p->regionBytes) &&
         flag(o, "random", &p->random) && u(o, "readPercent", 100, &p->readPercent) &&
         blockSizes(o, "readBs", &p->readBs) && blockSizes(o, "writeBs", &p->writeBs) &&
         u(o, "iodepth", 65535, &p->iodepth) && u(o, "runtimeNs", kMax53, &p->runtimeNs) &&
         u(o, "rampNs", kMax53, &p->rampNs) && flag(o, "timeBased", &p->timeBased) &&
         u(o, "ioBytes", kMax53, &p->ioBytes) && u(o, "distribution", 4, &dist) &&
         num(o, "distParam", 0, 1e6, &p->distParam, false) && num(o, "distCenter", -1, 1, &p->distCenter, false) && flag(o, "randomMap", &p->randomMap) &&
         u(o, "seed", kMax53, &p->seed) && u(o, "stream", 0xFFFFFFFF, &p->stream) && flag(o, "verify", &p->verify) &&
         flag(o, "verifyFatal", &p->verifyFatal) && flag(o, "doVerify", &p->doVerify) &&
         u(o, "bufIova", kMax53, &p->bufIova) && u(o, "slotBytes", 0xFFFFFFFF, &p->slotBytes) &&
         u(o, "bufFlags", 0xFFFFFFFF, &p->bufFlags) && timeoutParam(o, p) && skipParam(o, p) && pacingParams(o, p) && errorParams(o, p) && bufferParams(o, p) && verifyParams(o, p) && latencyParams(o, p) && ((p->dist = static_cast<Distribution>(dist)), true);
}

// A histogram recorded in TSC ticks, exported in ns (bins merged where two tick buckets
// land on the same ns value).
Napi::Object seriesObject(Napi::Env env, const LatencyHistogram& h, double k) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", static_cast<double>(h.count()));
  o.Set("min", std::floor(static_cast<double>(h.min()) * k));
  o.Set("max", std::ceil(static_cast<double>(h.max()) * k));
  o.Set("sum", static_cast<double>(h.sum()) * k);
  o.Set("sumSquares", h.sumSquares() * k * k);
  const size_t n = h.nonEmptyBuckets();
  std::vector<double> raw(2 * n);
  h.exportBins(raw.data(), n);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const double v = std::round(raw[2 * i] * k), c = raw[2 * i + 1];
    if (m && raw[2 * (m - 1)] == v) {
      raw[2 * (m - 1) + 1] += c;
    } else {
      raw[2 * m] = v;
      raw[2 * m + 1] = c;
      m++;
    }
  }
  Napi::Float64Array bins = Napi::Float64Array::New(env, 2 * m);
  std::copy(raw.begin(), raw.begin() + 2 * m, bins.Data());
  o.Set("bins", bins);
  return o;
}

Napi::Object directionObject(Napi::Env env, const DirectionStats& d, double k) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ios", static_cast<double>(d.ios));
  o.Set("bytes", static_cast<double>(d.bytes));
  o.Set("slat", seriesObject(env, d.slat, k));
  o.Set("clat", seriesObject(env, d.clat, k));
  o.Set("lat", seriesObject(env, d.lat, k));
  return o;
}

// A job's results as the JS object `join()` and `snapshot()` return.
Napi::Object resultsObject(Napi::Env env, const JobResults& r, VerifyKind kind) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("read", directionObject(env, r.read, r.nsPerTick));
  o.Set("write", directionObject(env, r.write, r.nsPerTick));
  o.Set("trim", directionObject(env, r.trim, r.nsPerTick));
  Napi::Object sync = Napi::Object::New(env);
  sync.Set("ios", static_cast<double>(r.sync.ios));
  sync.Set("lat", seriesObject(env, r.sync.lat, r.nsPerTick));
  o.Set("sync", sync);
  o.Set("runtimeNs", static_cast<double>(r.runtimeNs));
  o.Set("mainPhaseNs", static_cast<double>(r.mainPhaseNs));
  o.Set("usrNs", static_cast<double>(r.userNs));
  o.Set("sysNs", static_cast<double>(r.systemNs));
  o.Set("ctx", static_cast<double>(r.contextSwitches));
  o.Set("majf", static_cast<double>(r.majorFaults));
  o.Set("minf", static_cast<double>(r.minorFaults));
  Napi::Array depth = Napi::Array::New(env, 7);
  for (uint32_t i = 0; i < 7; i++) depth.Set(i, static_cast<double>(r.depthHist[i]));
  o.Set("depthHist", depth);
  o.Set("verifyChecked", static_cast<double>(r.verifyChecked));
  o.Set("verifyErrors", static_cast<double>(r.verifyErrors));
  Napi::Array failures = Napi::Array::New(env, r.failureCount);
  for (uint32_t i = 0; i < r.failureCount; i++) {
    const VerifyFailureRecord& f = r.failures[i];
    Napi::Object fo = Napi::Object::New(env);
    fo.Set("lba", static_cast<double>(f.lba));
    if (f.result == VerifyResult::kBadKind) {
      const bool md5 = f.found.kind == static_cast<uint32_t>(VerifyKind::kMd5);
      fo.Set("reason", std::string("header mismatch: the block holds ") + (md5 ? "an " : "a ") + verifyKindName(f.found.kind) +
                           " checksum, this job verifies with " + verifyKindName(static_cast<uint32_t>(kind)));
    } else {
      fo.Set("reason", verifyResultName(f.result, kind));
    }
    Napi::Object found = Napi::Object::New(env);
    found.Set("magic", static_cast<double>(f.found.magic));
    found.Set("kind", verifyKindName(f.found.kind));
    found.Set("lba", static_cast<double>(f.found.lba));
    found.Set("seq", static_cast<double>(f.found.seq));
    found.Set("seed", static_cast<double>(f.found.seed));
    fo.Set("found", found);
    if (f.dump >= 0) {
      const uint8_t* at = r.dumps.data() + f.dump;
      fo.Set("received", Napi::Buffer<uint8_t>::Copy(env, at, f.dumpBytes));
      fo.Set("expected", Napi::Buffer<uint8_t>::Copy(env, at + f.dumpBytes, f.dumpBytes));
    }
    failures.Set(i, fo);
  }
  o.Set("verifyFailures", failures);
  if (!r.lastWrites.empty()) {
    // The last completed writes' byte offsets, the latest first (fio's verify state order).
    const uint64_t n = std::min<uint64_t>(r.lastWritesCount, r.lastWrites.size());
    Napi::Array last = Napi::Array::New(env, n);
    const size_t cap = r.lastWrites.size();
    for (uint64_t i = 0; i < n; i++) last.Set(static_cast<uint32_t>(i), static_cast<double>(r.lastWrites[(r.lastWritesNext + cap - 1 - i) % cap]));
    o.Set("lastWrites", last);
  }
  o.Set("driverNsPerIo", r.driverNsPerIo);
  o.Set("busyNs", static_cast<double>(r.busyNs));
  o.Set("prpCommands", static_cast<double>(r.prpCommands));
  o.Set("ioLogCount", static_cast<double>(r.ioLogCount));
  o.Set("intervalDrops", static_cast<double>(r.intervalDrops));
  o.Set("ioLogStalls", static_cast<double>(r.ioLogStalls));
  o.Set("ioLogStallNs", static_cast<double>(r.ioLogStallNs));
  o.Set("ioLogDrops", static_cast<double>(r.ioLogDrops));
  o.Set("histDrops", static_cast<double>(r.histDrops));
  o.Set("sglCommands", static_cast<double>(r.sglCommands));
  o.Set("splitCommands", static_cast<double>(r.splitCommands));
  o.Set("childCommands", static_cast<double>(r.childCommands));
  o.Set("bounces", static_cast<double>(r.bounces));
  o.Set("error", static_cast<double>(r.error));
  o.Set("errorStatus", static_cast<double>(r.errorStatus));
  o.Set("errorLba", static_cast<double>(r.errorLba));
  o.Set("errorText", std::string(r.errorText));
  o.Set("totalErrors", static_cast<double>(r.totalErrors));
  o.Set("firstError", static_cast<double>(r.firstError));
  o.Set("firstErrorText", std::string(r.firstErrorText));
  o.Set("latencyDepth", static_cast<double>(r.latencyDepth));
  static const char* const kStepNames[] = {"up", "down", "final", "done"};
  Napi::Array steps = Napi::Array::New(env, r.latencySteps.count);
  for (uint32_t i = 0; i < r.latencySteps.count; i++) {
    const LatencyStep& st = r.latencySteps.steps[i];
    Napi::Object so = Napi::Object::New(env);
    so.Set("step", kStepNames[static_cast<uint32_t>(st.kind) & 3]);
    so.Set("low", static_cast<double>(st.low));
    so.Set("depth", static_cast<double>(st.depth));
    so.Set("high", static_cast<double>(st.high));
    steps.Set(i, so);
  }
  o.Set("latencySteps", steps);
  o.Set("latencyStepsDropped", static_cast<double>(r.latencySteps.dropped));
  return o;
}

// Marks BenchJob objects so a method called with another object as `this` is refused.
constexpr napi_type_tag kBenchJobTag = {0x70687972'62656e63ull, 0x684a6f6200000001ull};

class BenchJob : public Napi::ObjectWrap<BenchJob> {
 public:
  static bool isSelf(const Napi::CallbackInfo& info) {
    if (info.This().IsObject() && info.This().As<Napi::Object>().CheckTypeTag(&kBenchJobTag)) return true;
    args::typeError(info.Env(), "BenchJob method called on an object that is not a BenchJob");
    return false;
  }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "BenchJob",
                       {InstanceMethod<&BenchJob::stop>("stop"), InstanceMethod<&BenchJob::join>("join"),
                        InstanceMethod<&BenchJob::snapshot>("snapshot"),
                        InstanceMethod<&BenchJob::drainSamples>("drainSamples"),
                        InstanceMethod<&BenchJob::drainIos>("drainIos"),
                        InstanceMethod<&BenchJob::drainHist>("drainHist"),
                        InstanceAccessor<&BenchJob::done>("done")});
  }

  // new BenchJob(queuePairNative | loopbackQueue, params, buffer | null, bufferOffset, progress[, registers[, ioLog]])
  // A LoopbackQueue (loopback_napi.h) runs the job on the in-thread loopback controller
  // (`phyr bench null`) instead of a device's queue pair.
  // registers: the controller's BAR0 (an ArrayBuffer of at least 20h bytes) so the job
  // watches CSTS; null or absent = not watched.
  BenchJob(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BenchJob>(info) {
    Napi::Env env = info.Env();
    if (!args::usage(info, info.Length() >= 5 && info[1].IsObject() && info[3].IsNumber() && info[4].IsTypedArray(),
                     "usage: startJob(queuePair.native | LoopbackQueue, params, buffer: ArrayBuffer | null, bufferOffset: number, progress: Float64Array)"))
      return;
    nvme::QueuePair* qp = nullptr;
    if (isLoopbackQueue(info[0])) {
      loop_ = shareLoopbackQueue(info[0]);
      if (!loop_) return;  // closed: a JS error is pending
    } else {
      qp = nvme::unwrapQueuePair(info[0]);
      if (!qp) return;  // a JS error is pending
    }
    params_ = std::make_unique<JobParams>();
    results_ = std::make_unique<JobResults>();
    if (!parseParams(info[1].As<Napi::Object>(), params_.get())) return;
    // perIoLog (optional): keep every measured IO for write_lat_log with log_avg_msec=0.
    bool perIoLog = false;
    if (!info[1].As<Napi::Object>().Get("perIoLog").IsUndefined() && !flag(info[1].As<Napi::Object>(), "perIoLog", &perIoLog)) return;
    const uint64_t need = static_cast<uint64_t>(params_->iodepth) * params_->slotBytes;
    if (info[2].IsArrayBuffer()) {
      Napi::ArrayBuffer ab = info[2].As<Napi::ArrayBuffer>();
      const double off = info[3].As<Napi::Number>().DoubleValue();
      if (!(off >= 0) || off != static_cast<double>(static_cast<uint64_t>(off)) || static_cast<uint64_t>(off) + need > ab.ByteLength()) {
        args::rangeError(env, "the data buffer is smaller than iodepth x slotBytes at the given offset");
        return;
      }
      params_->bufCpu = static_cast<uint8_t*>(ab.Data()) + static_cast<uint64_t>(off);
      bufferRef_ = Napi::Persistent(ab.As<Napi::Object>());
    } else if (!info[2].IsNull()) {
      args::typeError(env, "buffer must be an ArrayBuffer (CPU-visible pool memory) or null (device-only memory)");
      return;
    }
    Napi::TypedArray ta;
    if (!args::typedArrayArg(info, 4, "progress", "Float64Array", napi_float64_array, kProgFields, &ta)) return;
    progress_ = ta.As<Napi::Float64Array>().Data();
    progressRef_ = Napi::Persistent(ta.As<Napi::Object>());
    info.This().As<Napi::Object>().TypeTag(&kBenchJobTag);
    if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
      if (!info[5].IsArrayBuffer() || info[5].As<Napi::ArrayBuffer>().ByteLength() < 0x20) {
        args::typeError(env, "registers must be the controller's BAR0 (an ArrayBuffer of at least 32 bytes) or null");
        return;
      }
      Napi::ArrayBuffer bar = info[5].As<Napi::ArrayBuffer>();
      params_->csts = reinterpret_cast<const volatile uint32_t*>(static_cast<uint8_t*>(bar.Data()) + nvme::REG_CSTS);
      registersRef_ = Napi::Persistent(bar.As<Napi::Object>());
    }
    // ioLog: an optional Float64Array of 2 x IOs for write_iolog (offset, +read/-write bytes).
    if (info.Length() > 6 && !info[6].IsUndefined() && !info[6].IsNull()) {
      if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || info[6].As<Napi::TypedArray>().ElementLength() < 3) {
        args::typeError(env, "ioLog must be a Float64Array of at least 3 elements (offset, bytes, direction 0 read / 1 write / 2 trim / 3 sync per IO) or null");
        return;
      }
      Napi::Float64Array log = info[6].As<Napi::Float64Array>();
      params_->ioLog = log.Data();
      params_->ioLogCap = log.ElementLength() / 3;
      ioLogRef_ = Napi::Persistent(log.As<Napi::Object>());
    }
    // replay: an optional Float64Array of 4 x IOs for read_iolog (offset, bytes, direction, due ns).
    if (info.Length() > 7 && !info[7].IsUndefined() && !info[7].IsNull()) {
      if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || info[7].As<Napi::TypedArray>().ElementLength() < 4 ||
          info[7].As<Napi::TypedArray>().ElementLength() % 4) {
        args::typeError(env, "replay must be a Float64Array of 4 x IOs (offset, bytes, direction, due ns) or null");
        return;
      }
      Napi::Float64Array replay = info[7].As<Napi::Float64Array>();
      params_->replay = replay.Data();
      params_->replayCount = replay.ElementLength() / 4;
      replayRef_ = Napi::Persistent(replay.As<Napi::Object>());
    }
    // flowShared (in params): fio's flow counters, a BigUint64Array of 2 shared by the jobs of
    // one flow_id (job_params.h), kept alive by this job while it runs.
    Napi::Value flow = info[1].As<Napi::Object>().Get("flowShared");
    if (!flow.IsUndefined()) {
      if (!flow.IsTypedArray() || flow.As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array || flow.As<Napi::TypedArray>().ElementLength() != 2) {
        args::typeError(env, "bench parameter 'flowShared' must be a BigUint64Array of 2 (the flow's IO count + 1, its total weight)");
        return;
      }
      Napi::TypedArray fa = flow.As<Napi::TypedArray>();
      params_->flowShared = reinterpret_cast<uint64_t*>(static_cast<uint8_t*>(fa.ArrayBuffer().Data()) + fa.ByteOffset());
      if (!opt(info[1].As<Napi::Object>(), "flowWeight", 1000, &params_->flowWeight) || !opt(info[1].As<Napi::Object>(), "flowSleepUs", 9007199254740991.0, &params_->flowSleepUs)) return;
      if (params_->flowWeight == 0) {
        args::rangeError(env, "bench parameter 'flowWeight' must be 1..1000 with flowShared");
        return;
      }
      flowRef_ = Napi::Persistent(fa.As<Napi::Object>());
    }
    if (const char* why = validateJobParams(*params_)) {
      args::rangeError(env, std::string("bench job: ") + why);
      return;
    }
    const uint32_t capacity = loop_ ? loop_->capacity() : qp->capacity();
    if (params_->iodepth > capacity) {
      args::rangeError(env, "iodepth " + std::to_string(params_->iodepth) + " exceeds the queue pair's capacity of " +
                          std::to_string(capacity) + " commands");
      return;
    }
    if (loop_ ? !loop_->acquire() : !qp->acquireExclusive()) {
      args::typeError(env, loop_ ? "the loopback queue is already driven by another bench job" : "the queue pair is already driven by another native thread");
      return;
    }
    qp_ = qp;
    qpRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    nsPerTick();  // calibrate on this thread, not inside the first job's timing
    // Sized for the shortest clock, once per clock that runs (all feed the ring).
    uint64_t shortest = UINT64_MAX;
    uint32_t clocks = 0;
    for (uint64_t ns : {params_->sampleIntervalNs, params_->logWindowNs, params_->iopsIntervalNs}) {
      if (!ns) continue;
      shortest = std::min(shortest, ns);
      clocks++;
    }
    if (clocks) samples_ = std::make_unique<SampleRing>(sampleRingCapacity(shortest) * clocks);
    if (perIoLog) ioRing_ = std::make_unique<IoRing>(kIoRingCapacity);
    if (params_->histWindowNs) histRing_ = std::make_unique<HistRing>(kHistRingCapacity);
    thread_ = std::thread([this] {
      // Named, so the thread can be found in /proc (its CPU affinity, its CPU time).
      pthread_setname_np(pthread_self(), "phyr-job");
      if (loop_) {
        JobEngine<LoopbackQueue>(*loop_, *params_, *results_, progress_, stop_, snapshot_.get(), samples_.get(), ioRing_.get(), histRing_.get()).run();
        loop_->release();
        finished_.store(true, std::memory_order_release);
        return;
      }
      {
        // Scoped: the driver queue publishes a lagging CQ head before the release.
        DriverQueue q(*qp_);
        JobEngine<DriverQueue>(q, *params_, *results_, progress_, stop_, snapshot_.get(), samples_.get(), ioRing_.get(), histRing_.get()).run();
      }
      qp_->releaseExclusive();
      finished_.store(true, std::memory_order_release);
    });
  }

  ~BenchJob() override {
    // Garbage-collected while running: stop the loop and wait, so the thread never
    // outlives the queue pair or the buffers it uses.
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  Napi::Value stop(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    stop_.store(true);
    return info.Env().Undefined();
  }
  Napi::Value done(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    return Napi::Boolean::New(info.Env(), finished_.load(std::memory_order_acquire));
  }
  Napi::Value join(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    Napi::Env env = info.Env();
    if (joined_) {
      args::typeError(env, "this bench job was already joined");
      return env.Undefined();
    }
    if (!thread_.joinable()) {
      args::typeError(env, "this bench job never started");
      return env.Undefined();
    }
    thread_.join();
    joined_ = true;
    return resultsObject(env, *results_, params_->verifyKind);
  }

  // The results so far (copied by the job thread at its next pass), or null when the
  // thread has ended or does not answer within 200 ms.
  Napi::Value snapshot(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    Napi::Env env = info.Env();
    if (!thread_.joinable() || joined_ || finished_.load(std::memory_order_acquire)) return env.Null();
    const uint32_t want = snapshot_->requested.load(std::memory_order_relaxed) + 1;
    snapshot_->requested.store(want, std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (snapshot_->answered.load(std::memory_order_acquire) != want) {
      if (finished_.load(std::memory_order_acquire) || std::chrono::steady_clock::now() > deadline) return env.Null();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return resultsObject(env, snapshot_->results, params_->verifyKind);
  }

  // The interval records the job thread has taken since the last call, oldest first, as a
  // Float64Array of 30 doubles per record (sampler.h IntervalRecord); empty when there are
  // none or the job takes no samples. Called from the JS watch loop (a crossing per drain,
  // not per IO) and once more after join().
  Napi::Value drainSamples(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    Napi::Env env = info.Env();
    const uint32_t n = samples_ ? samples_->pending() : 0;
    Napi::Float64Array out = Napi::Float64Array::New(env, static_cast<size_t>(n) * kIntervalFields);
    for (uint32_t i = 0; i < n; i++) {
      IntervalRecord rec;
      if (samples_->drain(&rec, 1) != 1) break;  // cannot happen: only this thread drains
      std::memcpy(out.Data() + static_cast<size_t>(i) * kIntervalFields, &rec, sizeof(rec));
    }
    return out;
  }

  // The per-IO log records since the last call, in completion order, as a Float64Array of 6
  // doubles per IO: prepared, doorbell, completed (ns since the measured phase began),
  // offset bytes, bytes, direction (0 read, 1 write, 2 trim). At most 2^18 per call.
  Napi::Value drainIos(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    Napi::Env env = info.Env();
    const uint32_t n = ioRing_ ? ioRing_->pending() : 0;
    std::vector<IoRecord> recs(n);
    const uint32_t got = n ? ioRing_->drain(recs.data(), n) : 0;
    Napi::Float64Array out = Napi::Float64Array::New(env, static_cast<size_t>(got) * 6);
    const double k = nsPerTick();
    double* o = out.Data();
    for (uint32_t i = 0; i < got; i++, o += 6) {
      o[0] = std::round(static_cast<double>(recs[i].prep) * k);
      o[1] = std::round(static_cast<double>(recs[i].ring) * k);
      o[2] = std::round(static_cast<double>(recs[i].done) * k);
      o[3] = static_cast<double>(recs[i].offset);
      o[4] = recs[i].bytes;
      o[5] = recs[i].ddir;
    }
    return out;
  }

  // The histogram-log windows since the last call, oldest first: 1 + 3 x 1856 doubles each
  // (HistRecord: end ns, then read, write, trim counts in fio's bins).
  Napi::Value drainHist(const Napi::CallbackInfo& info) {
    if (!isSelf(info)) return info.Env().Undefined();
    Napi::Env env = info.Env();
    const uint32_t n = histRing_ ? histRing_->pending() : 0;
    Napi::Float64Array out = Napi::Float64Array::New(env, static_cast<size_t>(n) * kHistFields);
    auto rec = std::make_unique<HistRecord>();
    for (uint32_t i = 0; i < n; i++) {
      if (histRing_->drain(rec.get(), 1) != 1) break;  // cannot happen: only this thread drains
      std::memcpy(out.Data() + static_cast<size_t>(i) * kHistFields, rec.get(), sizeof(HistRecord));
    }
    return out;
  }

  std::unique_ptr<JobParams> params_;
  std::unique_ptr<JobResults> results_;
  std::unique_ptr<SampleRing> samples_;
  std::unique_ptr<IoRing> ioRing_;
  std::unique_ptr<HistRing> histRing_;
  std::unique_ptr<ResultsSnapshot> snapshot_ = std::make_unique<ResultsSnapshot>();
  nvme::QueuePair* qp_ = nullptr;
  std::shared_ptr<LoopbackQueue> loop_;  // the loopback instead of qp_ (shared: outlives a close or finalizer order)
  double* progress_ = nullptr;
  Napi::ObjectReference qpRef_, bufferRef_, progressRef_, registersRef_, ioLogRef_, replayRef_, flowRef_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  bool joined_ = false;
  std::thread thread_;
};

Napi::Value memcpyBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!args::usage(info, info.Length() >= 2 && info[0].IsNumber() && info[1].IsNumber(), "usage: memcpyBandwidth(bufferBytes, millis)"))
    return env.Undefined();
  const double bytes = info[0].As<Napi::Number>().DoubleValue(), ms = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 4096 && bytes <= (1ull << 32)) || !(ms >= 1 && ms <= 60000)) {
    args::rangeError(env, "memcpyBandwidth: bufferBytes must be 4 KiB..4 GiB and millis 1..60000");
    return env.Undefined();
  }
  const MemcpyBandwidth r = measureMemcpyBandwidth(static_cast<size_t>(bytes), static_cast<uint32_t>(ms));
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytesPerSecond", r.bytesPerSecond);
  o.Set("bytesCopied", static_cast<double>(r.bytesCopied));
  o.Set("seconds", r.seconds);
  return o;
}

// Checks (iodepth, millis) of a floor measurement; throws and returns false when bad.
bool floorArgs(const Napi::CallbackInfo& info, const char* name, uint32_t* depth, double* ms) {
  Napi::Env env = info.Env();
  if (!args::usage(info, info.Length() >= 2 && info[0].IsNumber() && info[1].IsNumber(), std::string("usage: ") + name + "(iodepth, millis)"))
    return false;
  const double d = info[0].As<Napi::Number>().DoubleValue();
  *ms = info[1].As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 4096) || d != static_cast<double>(static_cast<uint32_t>(d)) || !(*ms >= 1 && *ms <= 10000)) {
    args::rangeError(env, std::string(name) + ": iodepth must be an integer 1..4096 and millis 1..10000");
    return false;
  }
  *depth = static_cast<uint32_t>(d);
  return true;
}

// A time-based 4 KiB random-read job over 1 GiB for a queue that moves no data.
JobParams floorParams(uint32_t depth, double ms) {
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = 1ull << 30;
  p.random = true;
  p.iodepth = depth;
  p.timeBased = true;
  p.runtimeNs = static_cast<uint64_t>(ms * 1e6);
  p.slotBytes = 4096;
  p.bufIova = 1ull << 40;  // page-aligned; never dereferenced (no data moves)
  return p;
}

Napi::Object floorResult(Napi::Env env, const JobResults& r) {
  const double ios = static_cast<double>(r.read.ios);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ios", ios);
  o.Set("runtimeNs", static_cast<double>(r.runtimeNs));
  o.Set("iops", r.runtimeNs ? ios * 1e9 / static_cast<double>(r.runtimeNs) : 0.0);
  o.Set("cpuNsPerIo", ios ? static_cast<double>(r.userNs + r.systemNs) / ios : 0.0);
  o.Set("error", std::string(r.errorText));
  return o;
}

// Runs the engine on this thread against a queue with no device (NullQueue) for about
// `millis` ms: the engine's own cost per IO, without a driver or a controller. An optional
// third argument, sampleIntervalMs (1..10000, absent or 0 = none), takes interval samples
// as a bench job does (bw_avg_time), into a ring nobody drains until the run ends.
Napi::Value engineFloor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t depth;
  double ms;
  if (!floorArgs(info, "engineFloor", &depth, &ms)) return env.Undefined();
  JobParams p = floorParams(depth, ms);
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    double sample;
    if (!args::number(env, info[2], "engineFloor sampleIntervalMs", 0, 10000, &sample)) return env.Undefined();
    p.sampleIntervalNs = static_cast<uint64_t>(sample * 1e6);
  }
  std::unique_ptr<SampleRing> ring = p.sampleIntervalNs ? std::make_unique<SampleRing>(sampleRingCapacity(p.sampleIntervalNs)) : nullptr;
  auto r = std::make_unique<JobResults>();
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, *r, nullptr, stop, nullptr, ring.get()).run();
  Napi::Object o = floorResult(env, *r);
  o.Set("samples", ring ? static_cast<double>(ring->pending()) : 0.0);
  return o;
}

// Runs the engine on this thread through the driver's QueuePair and a loopback
// controller (bench/loopback.h): engine + driver data plane per IO, without a device.
Napi::Value driverFloor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t depth;
  double ms;
  if (!floorArgs(info, "driverFloor", &depth, &ms)) return env.Undefined();
  uint32_t qsize = 2;
  while (std::min(qsize - 1, qsize - qsize / 4) < depth) qsize *= 2;
  const char* why = "";
  std::unique_ptr<LoopbackQueue> q = LoopbackQueue::create(qsize, &why);
  if (!q) {
    args::rangeError(env, std::string("driverFloor: ") + why);
    return env.Undefined();
  }
  const JobParams p = floorParams(depth, ms);
  auto r = std::make_unique<JobResults>();
  std::atomic<bool> stop{false};
  JobEngine<LoopbackQueue>(*q, p, *r, nullptr, stop).run();
  Napi::Object o = floorResult(env, *r);
  o.Set("driverNsPerIo", r->driverNsPerIo);
  return o;
}

// An optional non-negative integer option of emuDeviceCost.
bool costField(Napi::Object o, const char* key, uint64_t max, uint64_t* out) {
  return args::integerProp(o, key, std::string("emuDeviceCost ") + key, 0, static_cast<double>(max), out, args::Presence::Optional,
                           args::NotNumber::RangeError);
}

// emuDeviceCost({commands, batch, blockBytes, opcode, backend}) -> {commands,
// deviceNsPerCommand, totalNsPerCommand}: see emu_cost_bench.h; the device model
// timed alone, so the bench room owns it (the device model knows nothing of benchmarks). Runs synchronously (seconds).
Napi::Value emuDeviceCost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CostBenchOptions o;
  if (info.Length() > 0 && !info[0].IsUndefined() && (!info[0].IsObject() || info[0].IsArray())) {
    args::typeError(env, "emuDeviceCost takes an options object ({commands, batch, blockBytes, opcode, backend})");
    return env.Undefined();
  }
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object a = info[0].As<Napi::Object>();
    uint64_t commands = o.commands, batch = o.batch, bytes = o.blockBytes, opcode = o.opcode;
    if (!costField(a, "commands", 100000000, &commands) || !costField(a, "batch", 1023, &batch) ||
        !costField(a, "blockBytes", 131072, &bytes) || !costField(a, "opcode", 255, &opcode))
      return env.Undefined();
    o.commands = commands;
    o.batch = static_cast<uint32_t>(batch);
    o.blockBytes = static_cast<uint32_t>(bytes);
    o.opcode = static_cast<uint8_t>(opcode);
    Napi::Value b = a.Get("backend");
    if (!b.IsUndefined() && !b.IsString()) {
      args::typeError(env, "emuDeviceCost backend must be a string (null or ram)");
      return env.Undefined();
    }
    if (b.IsString()) o.backend = b.As<Napi::String>().Utf8Value();
  }
  CostBenchResult r = runCostBench(o);
  if (!r.error.empty()) {
    args::rangeError(env, "emuDeviceCost: " + r.error);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("commands", static_cast<double>(r.commands));
  out.Set("deviceNsPerCommand", r.deviceNsPerCommand);
  out.Set("deviceCpuNsPerCommand", r.deviceCpuNsPerCommand);
  out.Set("totalNsPerCommand", r.totalNsPerCommand);
  return out;
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object room = Napi::Object::New(env);
  Napi::Function job = BenchJob::define(env);
  room.Set("BenchJob", job);
  room.Set("LoopbackQueue", defineLoopbackQueue(env));
  room.Set("emuDeviceCost", Napi::Function::New(env, emuDeviceCost, "emuDeviceCost"));
  room.Set("memcpyBandwidth", Napi::Function::New(env, memcpyBandwidth));
  room.Set("engineFloor", Napi::Function::New(env, engineFloor));
  room.Set("driverFloor", Napi::Function::New(env, driverFloor));
  room.Set("nsPerTick", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), nsPerTick()); }));
  Napi::Object fields = Napi::Object::New(env);
  fields.Set("state", static_cast<double>(kProgState));
  fields.Set("readIos", static_cast<double>(kProgReadIos));
  fields.Set("writeIos", static_cast<double>(kProgWriteIos));
  fields.Set("readBytes", static_cast<double>(kProgReadBytes));
  fields.Set("writeBytes", static_cast<double>(kProgWriteBytes));
  fields.Set("elapsedNs", static_cast<double>(kProgElapsedNs));
  fields.Set("verifyErrors", static_cast<double>(kProgVerifyErrors));
  fields.Set("ioErrors", static_cast<double>(kProgIoErrors));
  fields.Set("count", static_cast<double>(kProgFields));
  room.Set("progressFields", fields);
  exports.Set("bench", room);
}

}  // namespace

PHYR_REGISTER_EXPORTS("bench", init);

}  // namespace phyr::bench
