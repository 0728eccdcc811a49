// The JS handle of a queue pair. Other native rooms (the benchmark loop) take the
// `native` object of a TS QueuePair and reach the C++ QueuePair through unwrapQueuePair:
//
//   phyr::nvme::QueuePair* qp = phyr::nvme::unwrapQueuePair(info[0]);
//   if (!qp) return;                         // a JS error is pending
//   if (!qp->acquireExclusive()) ...         // already driven elsewhere
//   ... drive it from one thread (submit / ringSubmit / poll) ...
//   qp->releaseExclusive();
//
// While exclusively held, every JS entry point of that queue pair throws instead of
// touching it. The handle keeps the ring memory alive; closing it from JS while held is
// refused.
#pragma once
#include <napi.h>

#include "drivers/nvme/native/queue_pair.h"

namespace phyr::nvme {

// Returns the live QueuePair behind `v`, or nullptr after throwing a JS TypeError when v
// is not a queue-pair handle or has been closed.
QueuePair* unwrapQueuePair(Napi::Value v);

}  // namespace phyr::nvme
