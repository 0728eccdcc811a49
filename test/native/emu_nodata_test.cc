// The nodata backend: Read and Write move no data (a read leaves the host buffer as it
// was), yet the device stays exactly as strict about the data pointer as with any other
// backend: every PRP and SGL rule, every IOMMU translation and permission (manual polling).
#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {
Sqe rw(MiniDriver& d, uint8_t op, uint64_t slba, uint32_t nlb, uint64_t prp1, uint64_t prp2 = 0) {
  Sqe s = d.sqe(op, 1);
  s.cdw10 = static_cast<uint32_t>(slba);
  s.cdw11 = static_cast<uint32_t>(slba >> 32);
  s.cdw12 = nlb - 1;
  s.dptr1 = prp1;
  s.dptr2 = prp2;
  return s;
}

emu::EmuConfig nodata() {
  emu::EmuConfig cfg;
  cfg.backend = "nodata";
  cfg.nsBytes = 1 << 20;
  cfg.mdts = 2;  // 16 KiB
  cfg.sgl = emu::SglSupport::ByteAligned;
  return cfg;
}

bool allBytes(const uint8_t* p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return false;
  return true;
}
}  // namespace

TEST(emu_nodata_backend_moves_no_data) {
  MiniDriver d(nodata());
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  // A write's data is never read into a store; a read leaves its buffer as it was (not
  // zeros, which is what backend=null returns), through a PRP list too.
  std::memset(d.page(100), 0x5A, 4096);
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 0, 8, d.iova(d.page(100)))), 0u);
  std::memset(d.page(101), 0xC3, 4 * 4096);
  uint64_t* list = reinterpret_cast<uint64_t*>(d.page(10));
  list[0] = d.iova(d.page(102));
  list[1] = d.iova(d.page(103));
  list[2] = d.iova(d.page(104));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 32, d.iova(d.page(101)), d.iova(list))), 0u);
  CHECK(allBytes(d.page(101), 4 * 4096, 0xC3));
  auto st = d.ctrl->stats();
  CHECK_EQ(st.bytesRead, 16384u);
  CHECK_EQ(st.bytesWritten, 4096u);
  CHECK_EQ(d.ctrl->faultCount(), 0u);
}

TEST(emu_nodata_backend_keeps_every_data_pointer_rule) {
  MiniDriver d(nodata());
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 64, 2, 3));
  uint64_t buf = d.iova(d.page(100));
  // Range and size first, as with any backend.
  CHECK_EQ(d.run(q, rw(d, IO_READ, 2048, 1, buf)), sc(SCT_GENERIC, SC_LBA_OUT_OF_RANGE));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 33, buf)), sc(SCT_GENERIC, SC_INVALID_FIELD));  // > MDTS
  // PRP rules (4.3).
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 1, buf + 2)), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 16, buf, buf + 4096 + 512)), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  uint64_t* list = reinterpret_cast<uint64_t*>(d.page(10));
  list[0] = d.iova(d.page(101));
  list[1] = d.iova(d.page(102)) + 4;
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 24, buf, d.iova(list))), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  // The IOMMU: unmapped data, an unmapped list, a read into a read-only mapping.
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 8, 0x9000000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 0, 8, 0x9000000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 24, buf, 0x9100000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  static uint8_t readOnly[4096] __attribute__((aligned(4096)));
  CHECK(d.ctrl->iommu().map(0x20000000, readOnly, sizeof readOnly, true, false).empty());
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 8, 0x20000000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 0, 8, 0x20000000)), 0u);
  auto log = d.ctrl->faultLog();
  CHECK_EQ(log.size(), 4u);
  CHECK(log.size() == 4 && log[0].site == emu::FaultSite::Data && log[0].write && log[1].site == emu::FaultSite::Data &&
        !log[1].write && log[2].site == emu::FaultSite::PrpList && log[3].iova == 0x20000000);
  // SGL rules (4.4): a data block shorter than the transfer, a bit bucket in a write.
  Sqe sgl = rw(d, IO_READ, 0, 8, 0);
  sgl.cdw0 |= PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  SglDesc block{buf, 2048, {}, static_cast<uint8_t>(SGL_TYPE_DATA_BLOCK << 4)};
  std::memcpy(&sgl.dptr1, &block, sizeof block);
  CHECK_EQ(d.run(q, sgl), sc(SCT_GENERIC, SC_DATA_SGL_LENGTH_INVALID));
  SglDesc bucket{0, 4096, {}, static_cast<uint8_t>(SGL_TYPE_BIT_BUCKET << 4)};
  Sqe w = rw(d, IO_WRITE, 0, 8, 0);
  w.cdw0 |= PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  std::memcpy(&w.dptr1, &bucket, sizeof bucket);
  CHECK_EQ(d.run(q, w), sc(SCT_GENERIC, SC_SGL_DESCRIPTOR_TYPE_INVALID));
  block.len = 4096;
  std::memcpy(&sgl.dptr1, &block, sizeof block);
  CHECK_EQ(d.run(q, sgl), 0u);
}

// Identify Namespace DLFEAT (5.15.2): null and ram read deallocated blocks as zeros and say
// so; nodata returns no read value at all, so it must not promise one.
TEST(emu_nodata_backend_promises_no_deallocated_read_value) {
  for (const char* backend : {"nodata", "null", "ram"}) {
    emu::EmuConfig cfg = nodata();
    cfg.backend = backend;
    MiniDriver d(cfg);
    CHECK(d.enable());
    uint8_t* buf = d.page(50);
    Sqe s = d.sqe(ADMIN_IDENTIFY, 1);
    s.dptr1 = d.iova(buf);
    s.cdw10 = CNS_NAMESPACE;
    CHECK_EQ(d.admin1(s), 0u);
    const uint32_t expect = std::string(backend) == "nodata" ? 0u : static_cast<uint32_t>(DLFEAT_READ_ZEROES);
    CHECK_EQ(buf[33] & DLFEAT_READ_MASK, expect);
    CHECK_EQ((buf[33] >> 3) & 1, 1);  // Write Zeroes takes DEAC on every backend
  }
}
