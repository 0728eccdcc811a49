// The device-cost loop runs and every command completes (figures come from bench/).
#include "check.h"
#include "bench/native/emu_cost_bench.h"
#include "spec/nvme.h"

using namespace phyr;

TEST(emu_cost_bench_runs_reads_writes_flushes) {
  for (uint8_t op : {uint8_t(nvme::IO_READ), uint8_t(nvme::IO_WRITE), uint8_t(nvme::IO_FLUSH)}) {
    bench::CostBenchOptions o;
    o.commands = 5000;
    o.batch = 100;
    o.opcode = op;
    o.blockBytes = 16384;
    auto r = bench::runCostBench(o);
    CHECK(r.error.empty());
    CHECK_EQ(r.commands, 5000u);
    CHECK(r.deviceNsPerCommand > 0);
  }
  bench::CostBenchOptions bad;
  bad.batch = 0;
  CHECK(!bench::runCostBench(bad).error.empty());
}
