// The emulated controller's creation parameters, parsed from the target string by
// emu/target.ts and checked again natively (config.cc: validateConfig).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "emu/native/faults.h"
#include "spec/nvme.h"

namespace phyr::emu {

enum class SglSupport : uint8_t { Off = 0, ByteAligned = 1, DwordAligned = 2 };

struct EmuConfig {
  std::string backend = "ram";  // nodata | null | ram | file
  std::string path;             // backend=file only
  uint32_t namespaces = 1;      // ns=
  uint32_t lbads = 9;           // log2 of the LBA size: 9 or 12
  uint64_t nsBytes = 1ull << 30;  // size= (capacity of each namespace)
  uint32_t queues = 64;         // queues= IO queue pairs the controller offers
  uint32_t vectors = 0;         // vectors= MSI-X table size; 0: queues + 1 (one per queue)
  uint32_t msixTableSize() const { return vectors ? vectors : queues + 1; }
  uint32_t qsize = 1024;        // qsize= largest queue (entries); CAP.MQES = qsize - 1
  uint32_t mdts = 7;            // mdts= (2^mdts pages of 4 KiB; 0 = no limit)
  SglSupport sgl = SglSupport::Off;
  uint64_t cmbBytes = 0;        // cmb=
  // cmbsz= the CMBSZ support bits published and enforced (3.1.13): SQS, CQS, LISTS, RDS, WDS.
  uint32_t cmbSupport = nvme::CMBSZ_SQS | nvme::CMBSZ_LISTS | nvme::CMBSZ_RDS | nvme::CMBSZ_WDS;
  // dbbuf= Doorbell Buffer Config offered (OACS bit 8) and implemented: shadow doorbells.
  bool dbbuf = false;
  // shared= BAR0 in a memfd another process can map (phyr serve); else private memory.
  bool sharedBar = false;
  std::string serial = "PHYREMU0001";
  TimingModel timing;
  std::vector<FaultRule> faults;  // faults= (creation-time rules)
};

// Empty when valid, else what is wrong.
std::string validateConfig(const EmuConfig& c);

}  // namespace phyr::emu
