// The JS handle of a loopback queue (bench/native/loopback.h): the device behind
// `phyr bench null`. A BenchJob given this handle instead of a driver queue pair runs
// JobEngine<LoopbackQueue> on it:
//
//   const q = new bench.LoopbackQueue({ qsize: 256, sglSupport: 1, maxTransfer: 524288 });
//   const job = new bench.BenchJob(q, params, buffer, 0, progress);
//   ... job.join(); q.close();
//
// The handle and every job on it share the queue (shared ownership), so neither a close()
// nor the order finalizers run in can free it under a running job thread; close() while a
// job drives it is refused.
#pragma once
#include <napi.h>

#include <memory>

#include "bench/native/loopback.h"

namespace phyr::bench {

// The LoopbackQueue class for the bench room's exports.
Napi::Function defineLoopbackQueue(Napi::Env env);

// Whether `v` is a loopback-queue handle (open or closed); no exception either way.
bool isLoopbackQueue(Napi::Value v);

// The live queue behind a loopback-queue handle, or nullptr after throwing a TypeError
// when it has been closed.
std::shared_ptr<LoopbackQueue> shareLoopbackQueue(Napi::Value v);

}  // namespace phyr::bench
