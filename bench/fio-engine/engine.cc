// phyr's fio ioengine: fio --ioengine=external:$(phyr fio-engine) --phyr_socket=PATH
// [--phyr_nsid=N]. Each fio job thread attaches to a running `phyr serve` as its own client
// (docs/SERVE.md): it maps the doorbells the daemon sends, maps its queue memory and fio's
// IO buffers (->iomem_alloc, from a memfd) into its device-address window, gets one IO
// queue pair and then drives it with the driver's native queue pair — no copies, no daemon
// round trip per IO. fio's read/write/trim and fsync/fdatasync become NVMe Read, Write,
// Dataset Management (deallocate) and Flush (NVMe 1.4 §6.9, §6.15, §6.14, §6.8).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/fio-engine/fio_abi.h"
#include "bench/fio-engine/serve_link.h"
#include "drivers/nvme/native/queue_pair.h"
#include "spec/nvme.h"
#include "spec/phyr.h"

namespace {

using phyr::fioengine::AttachInfo;
using phyr::fioengine::ServeLink;
namespace nvme = phyr::nvme;

// The engine's options, as fio fills them (td->eo). fio's STR_STORE parser treats offset 0
// as "no field", hence the pad.
struct EngineOptions {
  void* pad;
  char* socket;
  unsigned int nsid;
};

void complain(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("fio: phyr engine: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

struct Region {
  int fd = -1;
  uint8_t* cpu = nullptr;
  size_t bytes = 0;
  uint64_t iova = 0;
};

// One fio job thread's engine.
struct Engine {
  ServeLink link;
  AttachInfo info;
  uint32_t nsid = 0;
  uint32_t lbaSize = 0;
  uint64_t blocks = 0;
  uint8_t* doorbells = nullptr;
  size_t doorbellBytes = 0;
  Region queueMem;  // SQ, CQ, list pages, DSM ranges
  Region bufMem;    // fio's IO buffers (->iomem_alloc)
  uint64_t nextIova = 0;
  nvme::QueuePair* qp = nullptr;
  int qid = -1;
  uint32_t capacity = 0;
  uint8_t* ranges = nullptr;  // one Dataset Management range per slot
  uint64_t rangesIova = 0;
  std::vector<fio::IoU*> slots;
  std::vector<uint32_t> freeSlots;
  std::vector<fio::IoU*> events;
  std::vector<nvme::Completion> cpl;
  bool gone = false;  // the daemon went away (said once)
};

thread_local Engine* tEngine = nullptr;

fio::Option gOptions[3];
fio::IoengineOps gOps;

size_t roundUp(size_t v, size_t to) { return (v + to - 1) / to * to; }

EngineOptions* optionsOf(fio::ThreadData* td) { return fio::at<EngineOptions*>(td, fio::kTdEo); }

// A region of `bytes` from a new memfd, mapped here and in the daemon at the next IOVA.
bool mapRegion(Engine& e, size_t bytes, const char* what, Region& r) {
  r.bytes = roundUp(bytes, 2u << 20);  // whole 2 MiB: keeps later regions' IOVAs aligned
  // Sealed against shrinking: the daemon accepts only memory that cannot vanish under the
  // controller's DMA (docs/SERVE.md, the trust model).
  r.fd = memfd_create(what, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (r.fd < 0 || ftruncate(r.fd, static_cast<off_t>(r.bytes)) != 0 || fcntl(r.fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    complain("%s: memfd of %zu bytes: %s", what, r.bytes, std::strerror(errno));
    return false;
  }
  void* p = mmap(nullptr, r.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
  if (p == MAP_FAILED) {
    complain("%s: mmap of %zu bytes: %s", what, r.bytes, std::strerror(errno));
    return false;
  }
  r.cpu = static_cast<uint8_t*>(p);
  r.iova = e.nextIova;
  if (r.iova + r.bytes - 1 > e.info.iovaEnd) {
    complain("%s: %zu bytes do not fit in this client's device-address window (0x%llx..0x%llx)", what, r.bytes,
             static_cast<unsigned long long>(e.info.iovaStart), static_cast<unsigned long long>(e.info.iovaEnd));
    return false;
  }
  std::string err;
  if (!e.link.map(r.iova, r.bytes, r.fd, &err)) {
    complain("%s: the daemon refused the mapping: %s", what, err.c_str());
    return false;
  }
  e.nextIova += r.bytes;
  return true;
}

void unmapRegion(Engine& e, Region& r) {
  if (r.cpu) {
    std::string err;
    if (r.iova != 0 || r.bytes != 0) e.link.unmap(r.iova, r.bytes, &err);
    munmap(r.cpu, r.bytes);
  }
  if (r.fd >= 0) close(r.fd);
  r = Region{};
}

void destroy(Engine* e) {
  if (!e) return;
  if (e->qp) {
    std::string err;
    if (e->qid >= 0) e->link.deleteQueuePair(e->qid, &err);
    delete e->qp;
  }
  unmapRegion(*e, e->bufMem);
  unmapRegion(*e, e->queueMem);
  if (e->doorbells) munmap(e->doorbells, e->doorbellBytes);
  e->link.close();
  delete e;
}

// Attaches and picks the namespace: shared by ->init and ->get_file_size (which fio may call
// from its main thread before the job thread starts).
bool attach(fio::ThreadData* td, Engine& e) {
  // td->io_ops is this engine's own ops struct when thread_data is laid out as fio_abi.h
  // says; anything else is another fio build, whose memory the engine must not write.
  if (fio::at<fio::IoengineOps*>(td, fio::kTdIoOps) != &gOps) {
    complain("this fio's struct thread_data does not match fio 3.33's layout (fio_abi.h): the engine supports fio 3.33 only");
    return false;
  }
  EngineOptions* o = optionsOf(td);
  if (!o || !o->socket || !*o->socket) {
    complain("phyr_socket is required: the --socket path of a running `phyr serve` (e.g. --phyr_socket=/tmp/phyr.sock)");
    return false;
  }
  std::string err;
  if (!e.link.connect(o->socket, &err) || !e.link.attach(&e.info, &err)) {
    complain("phyr_socket=%s: %s", o->socket, err.c_str());
    return false;
  }
  if (e.info.namespaces.empty()) {
    complain("phyr_socket=%s: the served controller has no active namespace", o->socket);
    return false;
  }
  const uint32_t want = o->nsid == 0 ? e.info.namespaces[0].nsid : o->nsid;
  for (const auto& n : e.info.namespaces) {
    if (n.nsid == want) {
      e.nsid = n.nsid;
      e.lbaSize = n.lbaSize;
      e.blocks = n.blocks;
    }
  }
  if (e.nsid == 0) {
    std::string active;
    for (const auto& n : e.info.namespaces) active += (active.empty() ? "" : ", ") + std::to_string(n.nsid);
    complain("phyr_nsid=%u: namespace %u is not active on the served controller (active: %s)", want, want, active.c_str());
    return false;
  }
  return true;
}

int engineInit(fio::ThreadData* td) {
  Engine* e = new Engine();
  if (!attach(td, *e)) {
    destroy(e);
    return 1;
  }
  std::string err;
  // The doorbells: the embedded controller's BAR0 memfd, or the VFIO device's doorbell page.
  void* db = mmap(nullptr, e->info.doorbellLength, PROT_READ | PROT_WRITE, MAP_SHARED, e->link.doorbellFd(),
                  static_cast<off_t>(e->info.doorbellOffset));
  e->link.closeDoorbellFd();
  if (db == MAP_FAILED) {
    complain("mapping the doorbells (%s, %llu bytes): %s", e->info.viaVfio ? "VFIO" : "memfd",
             static_cast<unsigned long long>(e->info.doorbellLength), std::strerror(errno));
    destroy(e);
    return 1;
  }
  e->doorbells = static_cast<uint8_t*>(db);
  e->doorbellBytes = e->info.doorbellLength;
  e->nextIova = roundUp(e->info.iovaStart, 2u << 20);

  // Ring size: capacity (qsize − qsize/4, queue_pair.h) must hold fio's iodepth.
  const unsigned depth = fio::at<unsigned int>(td, fio::kTdIodepth);
  uint32_t qsize = 64;
  while (qsize - qsize / 4 < depth + 1 && qsize < 65536) qsize *= 2;
  if (qsize > e->info.maxQueueEntries) qsize = e->info.maxQueueEntries;
  const uint32_t page = e->info.pageSize;
  const uint32_t trackers = qsize - qsize / 4 < qsize - 1 ? qsize - qsize / 4 : qsize - 1;
  if (trackers < depth) {
    complain("iodepth=%u: the served controller's queues hold at most %u commands (CAP.MQES + 1 = %u)", depth, trackers,
             e->info.maxQueueEntries);
    destroy(e);
    return 1;
  }
  const size_t sqBytes = roundUp(size_t{qsize} * nvme::SQE_SIZE, page);
  const size_t cqBytes = roundUp(size_t{qsize} * nvme::CQE_SIZE, page);
  const size_t listBytes = size_t{trackers} * page;
  const size_t rangeBytes = roundUp(size_t{trackers} * nvme::DSM_RANGE_SIZE, page);
  if (!mapRegion(*e, sqBytes + cqBytes + listBytes + rangeBytes, "phyr-fio-queue", e->queueMem)) {
    destroy(e);
    return 1;
  }
  Region& q = e->queueMem;
  if (!e->link.createQueuePair(qsize, q.iova, q.iova + sqBytes, &e->qid, &err)) {
    complain("createQueuePair (%u entries): %s", qsize, err.c_str());
    destroy(e);
    return 1;
  }
  nvme::QueueConfig cfg;
  cfg.qid = static_cast<uint16_t>(e->qid);
  cfg.qsize = qsize;
  const size_t stride = size_t{4} << e->info.doorbellStride;
  cfg.sqTailDoorbell = reinterpret_cast<uint32_t*>(e->doorbells + e->info.doorbellBase + 2 * e->qid * stride);
  cfg.cqHeadDoorbell = reinterpret_cast<uint32_t*>(e->doorbells + e->info.doorbellBase + (2 * e->qid + 1) * stride);
  cfg.caps.pageSize = page;
  cfg.caps.sglSupport = static_cast<uint8_t>(e->info.sglSupport);
  cfg.caps.bitBucket = e->info.bitBucket;
  cfg.caps.maxTransfer = e->info.maxTransfer;
  nvme::QueueMemory mem;
  mem.sq = q.cpu;
  mem.sqIova = q.iova;
  mem.cq = q.cpu + sqBytes;
  mem.cqIova = q.iova + sqBytes;
  mem.lists = q.cpu + sqBytes + cqBytes;
  mem.listsIova = q.iova + sqBytes + cqBytes;
  mem.listPages = trackers;
  const char* why = nullptr;
  e->qp = nvme::QueuePair::create(cfg, mem, &why);
  if (!e->qp) {
    complain("queue pair %d: %s", e->qid, why ? why : "refused");
    destroy(e);
    return 1;
  }
  // One polling loop drives this queue: the CQ head may lag (queue_pair.h setCqHeadLag).
  e->qp->setCqHeadLag(true);
  e->capacity = e->qp->capacity();
  e->ranges = q.cpu + sqBytes + cqBytes + listBytes;
  e->rangesIova = q.iova + sqBytes + cqBytes + listBytes;
  e->slots.assign(e->capacity, nullptr);
  for (uint32_t s = e->capacity; s > 0; s--) e->freeSlots.push_back(s - 1);
  e->events.reserve(e->capacity);
  e->cpl.resize(e->capacity);
  tEngine = e;
  return 0;
}

void engineCleanup(fio::ThreadData*) {
  destroy(tEngine);
  tEngine = nullptr;
}

int engineIomemAlloc(fio::ThreadData* td, size_t total) {
  Engine* e = tEngine;
  if (!e) {
    complain("iomem_alloc before the engine attached");
    return 1;
  }
  // A check of this header's thread_data offsets against the running fio: the size fio
  // asks for is orig_buffer_size, plus at most the alignment slack (memory.c).
  const size_t wanted = fio::at<size_t>(td, fio::kTdOrigBufferSize);
  if (wanted == 0 || wanted > total || total - wanted > (size_t{64} << 20)) {
    complain("this fio's thread_data does not match fio 3.33's layout (orig_buffer_size %zu for %zu bytes): refusing to write into it", wanted, total);
    return 1;
  }
  if (!mapRegion(*e, total, "phyr-fio-buffers", e->bufMem)) return 1;
  fio::at<void*>(td, fio::kTdOrigBuffer) = e->bufMem.cpu;
  return 0;
}

void engineIomemFree(fio::ThreadData* td) {
  if (tEngine) unmapRegion(*tEngine, tEngine->bufMem);
  fio::at<void*>(td, fio::kTdOrigBuffer) = nullptr;
}

int engineGetFileSize(fio::ThreadData* td, fio::FioFile* f) {
  uint64_t bytes = 0;
  if (tEngine) {
    bytes = tEngine->blocks * tEngine->lbaSize;
  } else {
    Engine probe;
    const bool ok = attach(td, probe);
    probe.link.close();
    if (!ok) return 1;
    bytes = probe.blocks * probe.lbaSize;
  }
  fio::at<uint64_t>(f, fio::kFileRealSize) = bytes;
  fio::at<uint32_t>(f, fio::kFileFlags) |= fio::kFileSizeKnown;
  return 0;
}

int engineOpenFile(fio::ThreadData*, fio::FioFile*) { return 0; }
int engineCloseFile(fio::ThreadData*, fio::FioFile*) { return 0; }

fio::QueueStatus failNow(fio::IoU* io, int err) {
  io->error = static_cast<unsigned int>(err);
  return fio::kQCompleted;
}

// How many idle polls pass between checks that the daemon is still there (a poll(2) each).
constexpr unsigned kGoneCheckEvery = 64 * 1024;

int daemonGone(Engine& e) {
  if (e.gone) return -EIO;
  e.gone = true;
  complain("the phyr serve daemon went away (it shut down or was killed): %u commands in flight will not complete",
           e.capacity - static_cast<uint32_t>(e.freeSlots.size()));
  return -EIO;
}

fio::QueueStatus flushNow(Engine& e, fio::IoU* io) {
  nvme::IoCommand c;
  c.opcode = static_cast<uint8_t>(nvme::IO_FLUSH);
  c.nsid = e.nsid;
  c.userData = e.capacity;  // no slot: nothing else is in flight
  const nvme::SubmitOutcome o = e.qp->submit(c);
  if (o.result != nvme::SubmitResult::Ok) {
    complain("the queue pair refused the Flush: %s", nvme::submitResultName(o.result));
    return failNow(io, EIO);
  }
  e.qp->ringSubmit();
  unsigned idle = 0;
  while (true) {
    const uint32_t n = e.qp->poll(e.cpl.data(), 1);
    if (n == 1) {
      if (e.cpl[0].status != 0) {
        complain("Flush failed: NVMe status 0x%x (SCT %u, SC 0x%02x)", e.cpl[0].status, (e.cpl[0].status >> 8) & 7u, e.cpl[0].status & 0xffu);
        return failNow(io, EIO);
      }
      io->error = 0;
      return fio::kQCompleted;
    }
    if (++idle % 64 == 0) {
      sched_yield();
      if (idle % kGoneCheckEvery == 0 && e.link.peerGone()) {
        daemonGone(e);
        return failNow(io, EIO);
      }
    }
  }
}

fio::QueueStatus engineQueue(fio::ThreadData*, fio::IoU* io) {
  Engine* e = tEngine;
  if (!e) return failNow(io, EIO);
  if (e->freeSlots.empty()) return fio::kQBusy;
  const uint32_t slot = e->freeSlots.back();
  nvme::IoCommand c;
  c.nsid = e->nsid;
  c.lbaSize = e->lbaSize;
  c.userData = slot;
  phyr::PhyrEntry entry{};
  switch (io->ddir) {
    case fio::kSync:
    case fio::kDataSync:
      // As fio's libaio engine does with a sync: once everything queued has completed,
      // the Flush runs to completion here. fio counts a sync as done only on completion
      // (io_u.c: last_was_sync), so a sync left queued would make it issue more of them.
      if (e->freeSlots.size() != e->capacity) return fio::kQBusy;
      return flushNow(*e, io);
    case fio::kRead:
    case fio::kWrite:
    case fio::kTrim: {
      if (io->offset % e->lbaSize != 0 || io->xfer_buflen % e->lbaSize != 0 || io->xfer_buflen == 0) {
        complain("offset %llu + %llu bytes is not whole %u-byte blocks", io->offset, io->xfer_buflen, e->lbaSize);
        return failNow(io, EINVAL);
      }
      const uint64_t slba = io->offset / e->lbaSize;
      const uint64_t nlb = io->xfer_buflen / e->lbaSize;
      if (io->ddir == fio::kTrim) {
        // Dataset Management, one range (CDW10 NR = 0, 0's based), CDW11 AD: deallocate;
        // the range (NVMe 1.4 Figure 364: context attributes, length in LBAs, SLBA).
        uint8_t* r = e->ranges + size_t{slot} * nvme::DSM_RANGE_SIZE;
        const uint32_t attrs = 0, len = static_cast<uint32_t>(nlb);
        std::memcpy(r, &attrs, 4);
        std::memcpy(r + 4, &len, 4);
        std::memcpy(r + 8, &slba, 8);
        entry.addr = e->rangesIova + size_t{slot} * nvme::DSM_RANGE_SIZE;
        entry.len = nvme::DSM_RANGE_SIZE;
        c.opcode = static_cast<uint8_t>(nvme::IO_DATASET_MANAGEMENT);
        c.rawCdw = true;
        c.slba = static_cast<uint64_t>(nvme::DSM_ATTR_DEALLOCATE) << 32;
        c.data = &entry;
        c.dataCount = 1;
        c.dataBytes = nvme::DSM_RANGE_SIZE;
        break;
      }
      const uint8_t* p = static_cast<const uint8_t*>(io->xfer_buf);
      const Region& b = e->bufMem;
      if (!b.cpu || p < b.cpu || p + io->xfer_buflen > b.cpu + b.bytes) {
        complain("an IO buffer outside the engine's memory (fio's mem= option must stay unset)");
        return failNow(io, EFAULT);
      }
      entry.addr = b.iova + static_cast<uint64_t>(p - b.cpu);
      entry.len = static_cast<uint32_t>(io->xfer_buflen);
      c.opcode = static_cast<uint8_t>(io->ddir == fio::kWrite ? nvme::IO_WRITE : nvme::IO_READ);
      c.slba = slba;
      c.blocks = static_cast<uint32_t>(nlb);
      c.data = &entry;
      c.dataCount = 1;
      break;
    }
    default:
      complain("fio's IO direction %d is not supported", static_cast<int>(io->ddir));
      return failNow(io, EINVAL);
  }
  const nvme::SubmitOutcome o = e->qp->submit(c);
  if (o.result == nvme::SubmitResult::QueueFull) return fio::kQBusy;
  if (o.result != nvme::SubmitResult::Ok) {
    complain("the queue pair refused the command: %s", nvme::submitResultName(o.result));
    return failNow(io, EINVAL);
  }
  e->freeSlots.pop_back();
  e->slots[slot] = io;
  return fio::kQQueued;
}

int engineCommit(fio::ThreadData*) {
  if (tEngine && tEngine->qp) tEngine->qp->ringSubmit();
  return 0;
}

int64_t nowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

int engineGetevents(fio::ThreadData*, unsigned int min, unsigned int max, const timespec* t) {
  Engine* e = tEngine;
  if (!e) return -EIO;
  e->events.clear();
  if (e->gone) return -EIO;
  const int64_t deadline = t ? nowNs() + int64_t{t->tv_sec} * 1000000000 + t->tv_nsec : 0;
  unsigned idle = 0;
  while (true) {
    const uint32_t room = max - static_cast<uint32_t>(e->events.size());
    const uint32_t n = e->qp->poll(e->cpl.data(), room < e->capacity ? room : e->capacity);
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t slot = static_cast<uint32_t>(e->cpl[i].userData);
      fio::IoU* io = e->slots[slot];
      e->slots[slot] = nullptr;
      e->freeSlots.push_back(slot);
      if (!io) continue;
      if (e->cpl[i].status != 0) {
        complain("command at byte offset %llu failed: NVMe status 0x%x (SCT %u, SC 0x%02x)", io->offset, e->cpl[i].status,
                 (e->cpl[i].status >> 8) & 7u, e->cpl[i].status & 0xffu);
        io->error = EIO;
      } else {
        io->error = 0;
        io->resid = 0;
      }
      e->events.push_back(io);
    }
    if (e->events.size() >= min || e->events.size() >= max) break;
    if (t && nowNs() >= deadline) break;
    // Polled queue: yield now and then so the device model's thread gets the core on a
    // machine with fewer cores than busy threads.
    if (n == 0 && ++idle % 64 == 0) {
      sched_yield();
      // Without the daemon its controller is gone and nothing in flight completes: end the
      // job instead of polling for ever.
      if (idle % kGoneCheckEvery == 0 && e->link.peerGone()) return daemonGone(*e);
    }
  }
  return static_cast<int>(e->events.size());
}

fio::IoU* engineEvent(fio::ThreadData*, int i) { return tEngine->events[static_cast<size_t>(i)]; }

__attribute__((constructor)) void fill() {
  fio::Option& s = gOptions[0];
  s.name = "phyr_socket";
  s.lname = "phyr serve socket";
  s.type = fio::kOptStrStore;
  s.off1 = offsetof(EngineOptions, socket);
  s.help = "the Unix socket of a running `phyr serve` (its --socket)";
  s.category = fio::kCategoryEngine;
  s.group = fio::kGroupInvalid;
  fio::Option& n = gOptions[1];
  n.name = "phyr_nsid";
  n.lname = "phyr namespace";
  n.type = fio::kOptInt;
  n.off1 = offsetof(EngineOptions, nsid);
  n.minval = 0;
  n.maxval = 0xfffffffeu;
  n.def = "0";
  n.help = "the namespace to use (0: the first active one)";
  n.category = fio::kCategoryEngine;
  n.group = fio::kGroupInvalid;
  gOps.name = "phyr";
  gOps.version = fio::kIoopsVersion;
  gOps.flags = fio::kFlagDisklessIo | fio::kFlagNoDiskUtil | fio::kFlagMemAlign;
  gOps.init = engineInit;
  gOps.queue = engineQueue;
  gOps.commit = engineCommit;
  gOps.getevents = engineGetevents;
  gOps.event = engineEvent;
  gOps.cleanup = engineCleanup;
  gOps.open_file = engineOpenFile;
  gOps.close_file = engineCloseFile;
  gOps.get_file_size = engineGetFileSize;
  gOps.iomem_alloc = engineIomemAlloc;
  gOps.iomem_free = engineIomemFree;
  gOps.option_struct_size = sizeof(EngineOptions);
  gOps.options = gOptions;
}

}  // namespace

// fio looks the engine up by this name (ioengines.c dlopen_ioengine: "get_ioengine").
extern "C" __attribute__((visibility("default"))) void get_ioengine(fio::IoengineOps** ops) { *ops = &gOps; }
