#include <chrono>
#include <cstdio>
#include <vector>
// Reproducer: decide() is O(entries x children). Build from the repository root:
//   g++ -O2 -std=c++20 -Iaddon/include -Idrivers/nvme/native test/fuzz/findings/decide_quadratic.cc \
//     drivers/nvme/native/dptr_policy.cc drivers/nvme/native/prp.cc drivers/nvme/native/sgl.cc -o /tmp/dq && /tmp/dq
#include "dptr_policy.h"
using namespace phyr::nvme;
int main() {
  for (uint32_t n : {1000u, 10000u, 100000u}) {
    std::vector<phyr::PhyrEntry> v(n);
    for (uint32_t i = 0; i < n; i++) v[i] = {0x100000000ull + 2ull * 4096 * i + 512, 3584, 0};  // PRP-breaking every entry
    DptrRequest r; r.data = PhyrSlice{v.data(), n, 0, 3584ull * n / 512 * 512}; r.lbaSize = 512;
    DptrCaps c; c.maxTransfer = 65536ull * 512;
    auto t0 = std::chrono::steady_clock::now();
    DptrDecision d = decide(r, c);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%u entries: %s %u children, %.1f ms\n", n, dptrFormatName(d.format), d.children, ms);
  }
}
