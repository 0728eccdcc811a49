// The native check of the creation parameters (the same limits emu/target.ts applies).
#include "emu/native/config.h"

namespace phyr::emu {

std::string validateConfig(const EmuConfig& c) {
  if (c.backend != "nodata" && c.backend != "null" && c.backend != "ram" && c.backend != "file")
    return "backend must be nodata, null, ram or file:PATH";
  if (c.backend == "file" && c.path.empty()) return "backend=file needs a path (file:PATH)";
  if (c.namespaces < 1 || c.namespaces > 1024) return "ns must be 1..1024";
  if (c.lbads != 9 && c.lbads != 12) return "lbads must be 9 or 12";
  if (c.nsBytes < (1ull << c.lbads) || c.nsBytes % (1ull << c.lbads) != 0)
    return "size must be a non-zero multiple of the LBA size (" + std::to_string(1u << c.lbads) + " bytes)";
  if (c.nsBytes > (1ull << 46) || c.nsBytes * c.namespaces > (1ull << 46)) return "ns x size must not exceed 64 TiB";
  if (c.queues < 1 || c.queues > 1024) return "queues must be 1..1024";
  if (c.qsize < 2 || c.qsize > 65536) return "qsize must be 2..65536";
  if (c.mdts > 15) return "mdts must be 0..15";
  if (c.cmbBytes % 4096 != 0 || c.cmbBytes > (1ull << 30)) return "cmb must be a multiple of 4 KiB, at most 1G";
  constexpr uint32_t kCmbSupportBits = nvme::CMBSZ_SQS | nvme::CMBSZ_CQS | nvme::CMBSZ_LISTS | nvme::CMBSZ_RDS | nvme::CMBSZ_WDS;
  if (c.cmbSupport & ~kCmbSupportBits) return "cmbsz may set only the SQS, CQS, LISTS, RDS and WDS bits";
  for (const FaultRule& r : c.faults) {
    if (r.kind == FaultKind::Corrupt && r.byte >= (1u << c.lbads))
      return "fault corrupt: byte=" + std::to_string(r.byte) + " must be below the LBA size (" +
             std::to_string(1u << c.lbads) + " bytes)";
  }
  return {};
}

}  // namespace phyr::emu
