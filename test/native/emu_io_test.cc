// Embedded controller: IO commands, PRP rules, MDTS, backends (manual polling).
#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {
Sqe rw(MiniDriver& d, uint8_t op, uint32_t nsid, uint64_t slba, uint32_t nlb, uint64_t prp1, uint64_t prp2 = 0) {
  Sqe s = d.sqe(op, nsid);
  s.cdw10 = static_cast<uint32_t>(slba);
  s.cdw11 = static_cast<uint32_t>(slba >> 32);
  s.cdw12 = nlb - 1;
  s.dptr1 = prp1;
  s.dptr2 = prp2;
  return s;
}
}  // namespace

TEST(emu_ram_write_read_roundtrip_with_prp_list_chaining) {
  emu::EmuConfig cfg;
  cfg.mdts = 0;  // no limit: 600 pages need a chained PRP list
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 64, 2, 3));
  // Data: 600 pages starting at page 100 with a 512-byte offset in the first page.
  const uint32_t pages = 600;
  uint8_t* src = d.page(100) + 512;
  const uint64_t bytes = static_cast<uint64_t>(pages) * 4096 - 512 * 2;  // ends 512 before a page end
  for (uint64_t i = 0; i < bytes; i++) src[i] = static_cast<uint8_t>(i * 7 + 3);
  // PRP list in pages 10.. (512 entries per page; last slot chains).
  auto buildList = [&](uint8_t* dataStart) {
    uint64_t* list = reinterpret_cast<uint64_t*>(d.page(10));
    uint64_t next = d.iova(dataStart) / 4096 * 4096 + 4096;
    size_t slot = 0;
    size_t listPage = 10;
    for (uint32_t i = 1; i < pages; i++) {
      if (slot == 511 && i < pages - 1) {
        list[511] = d.iova(d.page(++listPage));
        list = reinterpret_cast<uint64_t*>(d.page(listPage));
        slot = 0;
      }
      list[slot++] = next;
      next += 4096;
    }
    return d.iova(d.page(10));
  };
  uint32_t nlb = static_cast<uint32_t>(bytes / 512);
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 1, 1000, nlb, d.iova(src), buildList(src))), 0u);
  uint8_t* dst = d.page(700) + 512;
  std::memset(dst, 0, bytes);
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 1000, nlb, d.iova(dst), buildList(dst))), 0u);
  CHECK(std::memcmp(src, dst, bytes) == 0);
  // Unwritten blocks read as zeros.
  std::memset(d.page(90), 0xAA, 4096);
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 8, d.iova(d.page(90)))), 0u);
  CHECK_EQ(d.page(90)[0] | d.page(90)[4095], 0);
  auto st = d.ctrl->stats();
  CHECK_EQ(st.bytesWritten, bytes);
  CHECK_EQ(st.ioOpcodes[IO_READ], 2u);
}

TEST(emu_io_statuses) {
  emu::EmuConfig cfg;
  cfg.mdts = 1;  // 8 KiB
  cfg.nsBytes = 1 << 20;
  cfg.sgl = emu::SglSupport::Off;
  cfg.namespaces = 2;
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 64, 2, 3));
  uint64_t buf = d.iova(d.page(100));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 3, 0, 1, buf)), sc(SCT_GENERIC, SC_INVALID_NAMESPACE));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 0, 0, 1, buf)), sc(SCT_GENERIC, SC_INVALID_NAMESPACE));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 2047, 2, buf, buf + 4096)), sc(SCT_GENERIC, SC_LBA_OUT_OF_RANGE));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 2048, 1, buf)), sc(SCT_GENERIC, SC_LBA_OUT_OF_RANGE));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 17, buf)), sc(SCT_GENERIC, SC_INVALID_FIELD));  // > MDTS
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 16, buf, buf + 4096)), 0u);
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 1, buf + 2)), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 16, buf, buf + 4096 + 512)), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  CHECK_EQ(d.run(q, d.sqe(0x7E, 1)), sc(SCT_GENERIC, SC_INVALID_OPCODE));
  Sqe fused = rw(d, IO_READ, 1, 0, 1, buf);
  fused.cdw0 |= 1u << 8;
  CHECK_EQ(d.run(q, fused), sc(SCT_GENERIC, SC_INVALID_FIELD));
  Sqe sgl = rw(d, IO_READ, 1, 0, 1, buf);
  sgl.cdw0 |= PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  CHECK_EQ(d.run(q, sgl), sc(SCT_GENERIC, SC_INVALID_FIELD));  // sgl=off
  CHECK_EQ(d.run(q, d.sqe(IO_FLUSH, 0xFFFFFFFF)), 0u);
  CHECK_EQ(d.run(q, d.sqe(IO_FLUSH, 9)), sc(SCT_GENERIC, SC_INVALID_NAMESPACE));
  // PRP list entry misaligned / list unmapped / data unmapped.
  emu::EmuConfig big;
  big.mdts = 0;
  MiniDriver e(big);
  CHECK(e.enable());
  CHECK(e.createIoPair(q, 1, 64, 2, 3));
  uint64_t* list = reinterpret_cast<uint64_t*>(e.page(10));
  list[0] = e.iova(e.page(101));
  list[1] = e.iova(e.page(102)) + 4;
  CHECK_EQ(e.run(q, rw(e, IO_READ, 1, 0, 24, e.iova(e.page(100)), e.iova(list))), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  CHECK_EQ(e.run(q, rw(e, IO_READ, 1, 0, 24, e.iova(e.page(100)), 0x9000000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  list[1] = 0x9100000;
  CHECK_EQ(e.run(q, rw(e, IO_WRITE, 1, 0, 24, e.iova(e.page(100)), e.iova(list))), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  auto log = e.ctrl->faultLog();
  CHECK_EQ(log.size(), 2u);
  CHECK(log.size() == 2 && log[0].site == emu::FaultSite::PrpList && log[1].site == emu::FaultSite::Data && !log[1].write);
  CHECK(log.size() == 2 && log[1].iova == 0x9100000 && log[1].opcode == IO_WRITE && log[1].sqid == 1);
}

TEST(emu_iommu_permissions) {
  MiniDriver d(emu::EmuConfig{});
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  static uint8_t readOnly[4096] __attribute__((aligned(4096)));
  CHECK(d.ctrl->iommu().map(0x20000000, readOnly, sizeof readOnly, true, false).empty());
  // A read command writes host memory: the read-only mapping refuses it.
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 8, 0x20000000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 1, 0, 8, 0x20000000)), 0u);
  CHECK(!d.ctrl->iommu().map(0x20000800, readOnly, 16, true, true).empty());  // overlap
  CHECK(!d.ctrl->iommu().unmap(0x20000000, 2048).empty());                     // split
  CHECK(d.ctrl->iommu().unmap(0x20000000, 4096).empty());
  CHECK(!d.ctrl->iommu().unmap(0x20000000, 4096).empty());  // nothing there
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 1, 0, 8, 0x20000000)), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  CHECK_EQ(d.ctrl->faultCount(), 2u);
  d.ctrl->clearFaults();
  CHECK_EQ(d.ctrl->faultCount(), 0u);
}

TEST(emu_null_backend_reads_zeros) {
  emu::EmuConfig cfg;
  cfg.backend = "null";
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  std::memset(d.page(100), 0x5A, 4096);
  CHECK_EQ(d.run(q, rw(d, IO_WRITE, 1, 0, 8, d.iova(d.page(100)))), 0u);
  CHECK_EQ(d.run(q, rw(d, IO_READ, 1, 0, 8, d.iova(d.page(100)))), 0u);
  CHECK_EQ(d.page(100)[0] | d.page(100)[4095], 0);
}

TEST(emu_sgl_segments_and_bit_bucket) {
  emu::EmuConfig cfg;
  cfg.sgl = emu::SglSupport::ByteAligned;
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  // Write 2 blocks from two data blocks listed in a Last Segment.
  auto* seg = reinterpret_cast<SglDesc*>(d.page(10));
  std::memset(d.page(100), 0x11, 512);
  std::memset(d.page(101), 0x22, 512);
  seg[0] = SglDesc{d.iova(d.page(100)), 512, {}, SGL_TYPE_DATA_BLOCK << 4};
  seg[1] = SglDesc{d.iova(d.page(101)), 512, {}, SGL_TYPE_DATA_BLOCK << 4};
  Sqe w = d.sqe(IO_WRITE, 1);
  w.cdw0 |= PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  w.cdw12 = 1;
  SglDesc last{d.iova(seg), 32, {}, SGL_TYPE_LAST_SEGMENT << 4};
  std::memcpy(&w.dptr1, &last, 16);
  CHECK_EQ(d.run(q, w), 0u);
  // Read block 1 only: block 0 goes to a bit bucket.
  seg[0] = SglDesc{0, 512, {}, SGL_TYPE_BIT_BUCKET << 4};
  seg[1] = SglDesc{d.iova(d.page(102)), 512, {}, SGL_TYPE_DATA_BLOCK << 4};
  Sqe r = w;
  r.cdw0 = IO_READ | PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  CHECK_EQ(d.run(q, r), 0u);
  CHECK_EQ(d.page(102)[0], 0x22u);
  // Bit bucket in a write: SGL Descriptor Type Invalid. Short list: Data SGL Length Invalid.
  CHECK_EQ(d.run(q, w), sc(SCT_GENERIC, SC_SGL_DESCRIPTOR_TYPE_INVALID));
  last.len = 16;
  std::memcpy(&r.dptr1, &last, 16);
  CHECK_EQ(d.run(q, r), sc(SCT_GENERIC, SC_DATA_SGL_LENGTH_INVALID));
}
