#include "bench/native/emu_cost_bench.h"

#include <time.h>

#include <cstdlib>
#include <cstring>

#include "emu/native/controller.h"
#include "spec/pci.h"

namespace phyr::bench {
using namespace phyr::emu;
using namespace phyr::nvme;

namespace {
uint64_t now(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
void st32(uint8_t* bar, uint32_t off, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(bar + off), v, __ATOMIC_RELEASE); }
uint32_t ld32(const uint8_t* p) { return __atomic_load_n(reinterpret_cast<const uint32_t*>(p), __ATOMIC_ACQUIRE); }
}  // namespace

CostBenchResult runCostBench(const CostBenchOptions& o) {
  CostBenchResult r;
  const uint32_t qsize = 1024;
  if (o.batch < 1 || o.batch >= qsize || o.blockBytes < 512 || o.blockBytes % 512 || o.blockBytes > 131072 ||
      (o.opcode != IO_READ && o.opcode != IO_WRITE && o.opcode != IO_FLUSH)) {
    r.error = "batch must be 1..1023, blockBytes a multiple of 512 up to 128 KiB, opcode read/write/flush";
    return r;
  }
  EmuConfig cfg;
  cfg.backend = o.backend;
  cfg.queues = 1;
  cfg.qsize = qsize;
  cfg.mdts = 0;
  std::string err;
  auto ctrl = Controller::create(cfg, nullptr, &err);
  if (!ctrl) {
    r.error = err;
    return r;
  }
  // Memory: admin SQ/CQ, IO SQ (64 KiB), IO CQ (16 KiB), one data buffer + PRP list.
  const size_t memSize = 8 * 4096 + 65536 + 16384 + 131072 + 4096;
  uint8_t* mem = static_cast<uint8_t*>(std::aligned_alloc(4096, memSize));
  std::memset(mem, 0, memSize);
  const uint64_t base = 0x100000;
  ctrl->iommu().map(base, mem, memSize, true, true);
  uint8_t* bar = ctrl->barMemory(0).get();
  uint8_t *asq = mem, *acq = mem + 4096, *sq = mem + 8 * 4096, *cq = sq + 65536, *data = cq + 16384, *list = data + 131072;
  auto iova = [&](const uint8_t* p) { return base + static_cast<uint64_t>(p - mem); };
  for (uint32_t i = 0; i < 32; i++) reinterpret_cast<uint64_t*>(list)[i] = iova(data) + 4096ull * (i + 1);
  ctrl->configWrite(phyr::pci::CFG_COMMAND, 2, phyr::pci::COMMAND_MEMORY | phyr::pci::COMMAND_BUS_MASTER);
  st32(bar, REG_AQA, 7 | 7u << 16);
  __atomic_store_n(reinterpret_cast<uint64_t*>(bar + REG_ASQ), iova(asq), __ATOMIC_RELEASE);
  __atomic_store_n(reinterpret_cast<uint64_t*>(bar + REG_ACQ), iova(acq), __ATOMIC_RELEASE);
  st32(bar, REG_CC, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT);
  ctrl->pollOnce();
  // Create IO CQ 1 and SQ 1 with two admin commands.
  Sqe* a = reinterpret_cast<Sqe*>(asq);
  a[0] = Sqe{};
  a[0].cdw0 = ADMIN_CREATE_CQ;
  a[0].dptr1 = iova(cq);
  a[0].cdw10 = 1 | (qsize - 1) << 16;
  a[0].cdw11 = 1;
  a[1] = Sqe{};
  a[1].cdw0 = ADMIN_CREATE_SQ | 1u << 16;
  a[1].dptr1 = iova(sq);
  a[1].cdw10 = 1 | (qsize - 1) << 16;
  a[1].cdw11 = 1 | 1u << 16;
  st32(bar, doorbellOffsetSq(0, 0), 2);
  ctrl->pollOnce();
  const Cqe* ac = reinterpret_cast<const Cqe*>(acq);
  if ((ac[0].dw3 >> CQE_SC_SHIFT) || (ac[1].dw3 >> CQE_SC_SHIFT)) {
    r.error = "queue creation failed";
    std::free(mem);
    return r;
  }
  // The SQE template: blockBytes at LBA 0, PRP1 + PRP2 (data page or list) as needed.
  Sqe t{};
  t.cdw0 = o.opcode;
  t.nsid = 1;
  t.dptr1 = iova(data);
  t.dptr2 = o.blockBytes <= 4096 ? 0 : o.blockBytes <= 8192 ? iova(data) + 4096 : iova(list);
  t.cdw12 = o.opcode == IO_FLUSH ? 0 : o.blockBytes / 512 - 1;
  if (o.opcode == IO_FLUSH) t.dptr1 = t.dptr2 = 0;
  uint32_t tail = 0, head = 0;
  bool phase = true;
  uint64_t deviceNs = 0, deviceCpuNs = 0, done = 0;
  const uint64_t start = now();
  Sqe* s = reinterpret_cast<Sqe*>(sq);
  while (done < o.commands) {
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(o.batch, o.commands - done));
    for (uint32_t i = 0; i < n; i++) {
      s[tail] = t;
      s[tail].cdw0 = t.cdw0 | static_cast<uint32_t>(tail) << 16;
      tail = tail + 1 == qsize ? 0 : tail + 1;
    }
    st32(bar, doorbellOffsetSq(1, 0), tail);
    uint64_t t0 = now(), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    ctrl->pollOnce();
    while (ctrl->pollOnce()) {
    }
    deviceNs += now() - t0;
    deviceCpuNs += now(CLOCK_THREAD_CPUTIME_ID) - c0;
    // Reap (acquire on the phase dword) and ring the CQ head once per batch.
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t* e = cq + 16ull * head;
      if (((ld32(e + 12) >> CQE_PHASE_BIT) & 1) != (phase ? 1u : 0u) || (ld32(e + 12) >> CQE_SC_SHIFT) != 0) {
        r.error = "a command did not complete with success";
        std::free(mem);
        return r;
      }
      head = head + 1 == qsize ? 0 : head + 1;
      if (head == 0) phase = !phase;
    }
    st32(bar, doorbellOffsetCq(1, 0), head);
    done += n;
  }
  r.commands = done;
  r.totalNsPerCommand = static_cast<double>(now() - start) / static_cast<double>(done);
  r.deviceNsPerCommand = static_cast<double>(deviceNs) / static_cast<double>(done);
  r.deviceCpuNsPerCommand = static_cast<double>(deviceCpuNs) / static_cast<double>(done);
  ctrl.reset();
  std::free(mem);
  return r;
}

}  // namespace phyr::bench
