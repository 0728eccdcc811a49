// Embedded controller: admin commands and their statuses (manual polling).
#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {
uint16_t identify(MiniDriver& d, uint32_t cns, uint32_t nsid, uint8_t* buf) {
  Sqe s = d.sqe(ADMIN_IDENTIFY, nsid);
  s.cdw10 = cns;
  s.dptr1 = d.iova(buf);
  return d.admin1(s);
}
}  // namespace

TEST(emu_identify_controller_and_namespace) {
  emu::EmuConfig cfg;
  cfg.namespaces = 3;
  cfg.lbads = 12;
  cfg.nsBytes = 1 << 24;
  cfg.mdts = 5;
  MiniDriver d(cfg);
  CHECK(d.enable());
  uint8_t* buf = d.page(20);
  CHECK_EQ(identify(d, CNS_CONTROLLER, 0, buf), 0u);
  CHECK_EQ(buf[77], 5u);
  CHECK_EQ(buf[512], 0x66u);
  CHECK_EQ(buf[513], 0x44u);
  uint32_t nn;
  std::memcpy(&nn, buf + 516, 4);
  CHECK_EQ(nn, 3u);
  CHECK_EQ(identify(d, CNS_NAMESPACE, 2, buf), 0u);
  uint64_t nsze;
  std::memcpy(&nsze, buf, 8);
  CHECK_EQ(nsze, (1u << 24) / 4096);
  CHECK_EQ(buf[26], 1u);  // FLBAS: format 1
  CHECK_EQ(buf[128 + 4 + 2], 12u);
  CHECK_EQ(identify(d, CNS_NAMESPACE, 4, buf), sc(SCT_GENERIC, SC_INVALID_NAMESPACE));
  CHECK_EQ(identify(d, CNS_NAMESPACE, 0, buf), sc(SCT_GENERIC, SC_INVALID_NAMESPACE));
  CHECK_EQ(identify(d, CNS_ACTIVE_NS_LIST, 1, buf), 0u);
  uint32_t ids[3];
  std::memcpy(ids, buf, 12);
  CHECK_EQ(ids[0], 2u);
  CHECK_EQ(ids[1], 3u);
  CHECK_EQ(ids[2], 0u);
  CHECK_EQ(identify(d, CNS_ACTIVE_NS_LIST, 0xFFFFFFFE, buf), sc(SCT_GENERIC, SC_INVALID_NAMESPACE));
  CHECK_EQ(identify(d, CNS_NS_DESCRIPTORS, 1, buf), 0u);
  CHECK_EQ(buf[0], NIDT_EUI64);
  CHECK_EQ(buf[1], 8u);
  CHECK_EQ(buf[12], NIDT_UUID);
  CHECK_EQ(buf[13], 16u);
  CHECK_EQ(identify(d, 0x55, 0, buf), sc(SCT_GENERIC, SC_INVALID_FIELD));
  // Identify data through a page-crossing PRP pair.
  uint8_t* split = d.page(30) + 2048;
  Sqe s = d.sqe(ADMIN_IDENTIFY);
  s.cdw10 = CNS_CONTROLLER;
  s.dptr1 = d.iova(split);
  s.dptr2 = d.iova(d.page(40));
  CHECK_EQ(d.admin1(s), 0u);
  CHECK_EQ(split[512], 0x66u);
  // PRP2 not page aligned.
  s.dptr2 = d.iova(d.page(40)) + 8;
  CHECK_EQ(d.admin1(s), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  // Unmapped data pointer: Data Transfer Error and a logged fault.
  s.dptr1 = 0x7000000;
  CHECK_EQ(d.admin1(s), sc(SCT_GENERIC, SC_DATA_TRANSFER_ERROR));
  CHECK_EQ(d.ctrl->faultCount(), 1u);
  auto log = d.ctrl->faultLog();
  CHECK(log.size() == 1 && log[0].site == emu::FaultSite::Data && log[0].opcode == ADMIN_IDENTIFY && log[0].write);
  CHECK_EQ(d.admin1(d.sqe(0x7F)), sc(SCT_GENERIC, SC_INVALID_OPCODE));
}

TEST(emu_features_number_of_queues) {
  emu::EmuConfig cfg;
  cfg.queues = 8;
  MiniDriver d(cfg);
  CHECK(d.enable());
  Sqe s = d.sqe(ADMIN_SET_FEATURES);
  s.cdw10 = FEAT_NUMBER_OF_QUEUES;
  s.cdw11 = 15 | 2u << 16;  // 16 SQs, 3 CQs requested
  Cqe c{};
  CHECK_EQ(d.admin1(s, &c), 0u);
  CHECK_EQ(c.dw0, 7u | 2u << 16);
  s.cdw11 = 0xFFFF;
  CHECK_EQ(d.admin1(s), sc(SCT_GENERIC, SC_INVALID_FIELD));
  Sqe g = d.sqe(ADMIN_GET_FEATURES);
  g.cdw10 = FEAT_NUMBER_OF_QUEUES;
  CHECK_EQ(d.admin1(g, &c), 0u);
  CHECK_EQ(c.dw0, 7u | 2u << 16);
  s.cdw10 = FEAT_VOLATILE_WRITE_CACHE;
  s.cdw11 = 0;
  CHECK_EQ(d.admin1(s), 0u);
  g.cdw10 = FEAT_VOLATILE_WRITE_CACHE;
  CHECK_EQ(d.admin1(g, &c), 0u);
  CHECK_EQ(c.dw0, 0u);
  s.cdw10 = FEAT_VOLATILE_WRITE_CACHE | 1u << 31;  // save: not saveable
  CHECK_EQ(d.admin1(s), sc(SCT_COMMAND_SPECIFIC, SC_FEATURE_NOT_SAVEABLE));
  g.cdw10 = 0x7E;
  CHECK_EQ(d.admin1(g), sc(SCT_GENERIC, SC_INVALID_FIELD));
  // Queue ids beyond the allocated 3 CQs are refused; after IO queues exist the feature
  // can no longer change.
  MiniQueue q;
  CHECK(!d.createIoPair(q, 4, 16, 50, 51));
  CHECK(d.createIoPair(q, 3, 16, 50, 51));
  s.cdw10 = FEAT_NUMBER_OF_QUEUES;
  s.cdw11 = 1;
  CHECK_EQ(d.admin1(s), sc(SCT_GENERIC, SC_COMMAND_SEQUENCE_ERROR));
}

TEST(emu_create_delete_queue_statuses) {
  emu::EmuConfig cfg;
  cfg.queues = 4;
  cfg.qsize = 64;
  MiniDriver d(cfg);
  CHECK(d.enable());
  auto createCq = [&](uint32_t qid, uint32_t entries, uint32_t flags, uint64_t base, uint32_t iv = 0) {
    Sqe s = d.sqe(ADMIN_CREATE_CQ);
    s.dptr1 = base;
    s.cdw10 = qid | (entries - 1) << 16;
    s.cdw11 = flags | iv << 16;
    return d.admin1(s);
  };
  auto createSq = [&](uint32_t qid, uint32_t entries, uint32_t flags, uint32_t cqid, uint64_t base) {
    Sqe s = d.sqe(ADMIN_CREATE_SQ);
    s.dptr1 = base;
    s.cdw10 = qid | (entries - 1) << 16;
    s.cdw11 = flags | cqid << 16;
    return d.admin1(s);
  };
  auto del = [&](uint8_t op, uint32_t qid) {
    Sqe s = d.sqe(op);
    s.cdw10 = qid;
    return d.admin1(s);
  };
  uint64_t cqBase = d.iova(d.page(60)), sqBase = d.iova(d.page(61));
  CHECK_EQ(createCq(0, 16, 1, cqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
  CHECK_EQ(createCq(5, 16, 1, cqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
  CHECK_EQ(createCq(1, 65, 1, cqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_SIZE));
  CHECK_EQ(createCq(1, 1, 1, cqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_SIZE));
  CHECK_EQ(createCq(1, 16, 1 | 2, cqBase, 5), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_INTERRUPT_VECTOR));
  CHECK_EQ(createCq(1, 16, 0, cqBase), sc(SCT_GENERIC, SC_INVALID_FIELD));
  CHECK_EQ(createCq(1, 16, 1, cqBase + 512), sc(SCT_GENERIC, SC_PRP_OFFSET_INVALID));
  CHECK_EQ(createCq(1, 16, 1, cqBase), 0u);
  CHECK_EQ(createCq(1, 16, 1, cqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
  CHECK_EQ(createSq(1, 16, 1, 2, sqBase), sc(SCT_COMMAND_SPECIFIC, SC_COMPLETION_QUEUE_INVALID));
  CHECK_EQ(createSq(1, 16, 1, 0, sqBase), sc(SCT_COMMAND_SPECIFIC, SC_COMPLETION_QUEUE_INVALID));
  CHECK_EQ(createSq(0, 16, 1, 1, sqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
  CHECK_EQ(createSq(1, 100, 1, 1, sqBase), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_SIZE));
  CHECK_EQ(createSq(1, 16, 0, 1, sqBase), sc(SCT_GENERIC, SC_INVALID_FIELD));
  CHECK_EQ(createSq(1, 16, 1, 1, sqBase), 0u);
  CHECK_EQ(del(ADMIN_DELETE_CQ, 1), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_DELETION));
  CHECK_EQ(del(ADMIN_DELETE_SQ, 2), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
  CHECK_EQ(del(ADMIN_DELETE_SQ, 0), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
  CHECK_EQ(del(ADMIN_DELETE_SQ, 1), 0u);
  CHECK_EQ(del(ADMIN_DELETE_CQ, 1), 0u);
  CHECK_EQ(del(ADMIN_DELETE_CQ, 1), sc(SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_IDENTIFIER));
}
