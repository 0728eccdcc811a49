// Embedded controller: injected silent data corruption (corrupt rule), manual polling.
#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {
Sqe blocks(MiniDriver& d, uint8_t op, uint64_t slba, uint32_t nlb, uint64_t prp1, uint64_t prp2 = 0) {
  Sqe s = d.sqe(op, 1);
  s.cdw10 = static_cast<uint32_t>(slba);
  s.cdw12 = nlb - 1;
  s.dptr1 = prp1;
  s.dptr2 = prp2;
  return s;
}

emu::FaultRule corrupt(uint64_t lba, uint32_t byte) {
  emu::FaultRule r;
  r.kind = emu::FaultKind::Corrupt;
  r.lba = lba;
  r.byte = byte;
  return r;
}

// Offsets at which [a, a + n) and [b, b + n) differ.
std::vector<size_t> diffs(const uint8_t* a, const uint8_t* b, size_t n) {
  std::vector<size_t> out;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) out.push_back(i);
  return out;
}
}  // namespace

TEST(emu_corrupt_read_prp_sgl_bit_bucket_compare) {
  emu::EmuConfig cfg;
  cfg.sgl = emu::SglSupport::ByteAligned;
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  uint8_t* src = d.page(100);
  for (int i = 0; i < 2048; i++) src[i] = static_cast<uint8_t>(i * 13 + 5);
  CHECK_EQ(d.run(q, blocks(d, IO_WRITE, 20, 4, d.iova(src))), 0u);

  // PRP read of LBAs 20..23 starting 3 KiB into a page: LBA 22 lies in the PRP2 page.
  d.ctrl->inject(corrupt(22, 100));
  uint8_t* dst = d.page(110) + 3072;
  CHECK_EQ(d.run(q, blocks(d, IO_READ, 20, 4, d.iova(dst), d.iova(d.page(111)))), 0u);
  auto diff = diffs(dst, src, 2048);
  CHECK_EQ(diff.size(), 1u);
  CHECK_EQ(diff.empty() ? 0 : diff[0], 2u * 512 + 100);
  CHECK_EQ(dst[1124], static_cast<uint8_t>(src[1124] ^ 0xFF));
  CHECK_EQ(d.ctrl->stats().corruptedReads, 1u);

  // Compare is not affected (Read only), and the stored block is intact.
  CHECK_EQ(d.run(q, blocks(d, IO_COMPARE, 20, 4, d.iova(src))), 0u);

  // SGL read of LBAs 22..23 with LBA 22 in a bit bucket: nothing corrupted, nothing counted.
  auto* seg = reinterpret_cast<SglDesc*>(d.page(10));
  seg[0] = SglDesc{0, 512, {}, SGL_TYPE_BIT_BUCKET << 4};
  seg[1] = SglDesc{d.iova(d.page(120)), 512, {}, SGL_TYPE_DATA_BLOCK << 4};
  Sqe r = blocks(d, IO_READ, 22, 2, 0);
  r.cdw0 |= PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  SglDesc last{d.iova(seg), 32, {}, SGL_TYPE_LAST_SEGMENT << 4};
  std::memcpy(&r.dptr1, &last, 16);
  CHECK_EQ(d.run(q, r), 0u);
  CHECK(diffs(d.page(120), src + 1536, 512).empty());
  CHECK_EQ(d.ctrl->stats().corruptedReads, 1u);

  // SGL read of LBA 22 in two data blocks split inside the block: the byte lands in the second.
  seg[0] = SglDesc{d.iova(d.page(121)), 64, {}, SGL_TYPE_DATA_BLOCK << 4};
  seg[1] = SglDesc{d.iova(d.page(122) + 8), 448, {}, SGL_TYPE_DATA_BLOCK << 4};
  Sqe one = blocks(d, IO_READ, 22, 1, 0);
  one.cdw0 |= PSDT_SGL_MPTR_CONTIG << PSDT_SHIFT;
  std::memcpy(&one.dptr1, &last, 16);
  CHECK_EQ(d.run(q, one), 0u);
  CHECK(diffs(d.page(121), src + 1024, 64).empty());
  auto diff2 = diffs(d.page(122) + 8, src + 1024 + 64, 448);
  CHECK_EQ(diff2.size(), 1u);
  CHECK_EQ(diff2.empty() ? 0 : diff2[0], 100u - 64);
  CHECK_EQ(d.ctrl->stats().corruptedReads, 2u);

  // Clear: the same PRP read is clean.
  emu::FaultRule clear;
  clear.kind = emu::FaultKind::Clear;
  d.ctrl->inject(clear);
  std::memset(dst, 0, 2048);
  CHECK_EQ(d.run(q, blocks(d, IO_READ, 20, 4, d.iova(dst), d.iova(d.page(111)))), 0u);
  CHECK(diffs(dst, src, 2048).empty());
  CHECK_EQ(d.ctrl->stats().corruptedReads, 2u);
  CHECK_EQ(d.ctrl->stats().errors, 0u);
  CHECK_EQ(d.ctrl->faultCount(), 0u);
}

TEST(emu_corrupt_rule_byte_must_fit_the_block) {
  emu::EmuConfig cfg;
  cfg.faults.push_back(corrupt(1, 512));
  std::string err;
  CHECK(emu::Controller::create(cfg, nullptr, &err) == nullptr);
  CHECK(err.find("byte=512 must be below the LBA size (512 bytes)") != std::string::npos);
  cfg.lbads = 12;
  CHECK(emu::Controller::create(cfg, nullptr, &err) != nullptr);
}

// remove:after=N (manual polling): N-1 IO commands complete; the Nth is in flight as the
// device disappears and never completes; the BAR then reads all ones and doorbells rung
// afterwards fetch nothing. A 'clear' does not bring the device back.
TEST(emu_remove_after_n_commands) {
  emu::EmuConfig cfg;
  emu::FaultRule remove;
  remove.kind = emu::FaultKind::Remove;
  remove.after = 3;
  cfg.faults.push_back(remove);
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  for (int i = 0; i < 2; i++) CHECK_EQ(d.run(q, blocks(d, IO_WRITE, i, 1, d.iova(d.page(100)))), 0u);
  CHECK(!d.ctrl->removed());
  CHECK_EQ(d.read32(REG_VS), 0x00010400u);
  d.submit(q, blocks(d, IO_WRITE, 2, 1, d.iova(d.page(100))));
  CHECK(d.waitFor([&] { return d.ctrl->removed(); }, 1000));
  auto noCqe = [&](uint32_t slot) {
    auto* e = reinterpret_cast<Cqe*>(q.cq + CQE_SIZE * slot);
    return __atomic_load_n(&e->dw3, __ATOMIC_ACQUIRE) == 0;
  };
  for (int i = 0; i < 1000; i++) d.step();
  CHECK(noCqe(2));  // the third never completes
  CHECK_EQ(d.read32(REG_CSTS), ~0u);
  CHECK_EQ(d.ctrl->configRead(0, 4), ~0u);
  emu::FaultRule clear;
  clear.kind = emu::FaultKind::Clear;
  d.ctrl->inject(clear);
  const uint64_t fetched = d.ctrl->stats().commands;
  d.submit(q, blocks(d, IO_READ, 0, 1, d.iova(d.page(101))));
  for (int i = 0; i < 1000; i++) d.step();
  CHECK(noCqe(3));
  CHECK_EQ(d.ctrl->stats().commands, fetched);
  CHECK_EQ(d.ctrl->stats().ioCommands, 3u);
  CHECK_EQ(d.read32(REG_CSTS), ~0u);
}

// faults=remove at creation: the function is absent from the start; enabling it fails.
TEST(emu_remove_at_creation) {
  emu::EmuConfig cfg;
  emu::FaultRule remove;
  remove.kind = emu::FaultKind::Remove;
  cfg.faults.push_back(remove);
  MiniDriver d(cfg);
  CHECK(d.ctrl->removed());
  CHECK_EQ(d.read64(REG_CAP), ~0ull);
  CHECK_EQ(d.ctrl->configRead(0, 2), 0xFFFFu);
  d.write32(REG_CC, CC_EN);
  d.ctrl->pollOnce();
  CHECK_EQ(d.read32(REG_CC), ~0u);
  CHECK_EQ(d.ctrl->stats().commands, 0u);
}
