// NVMe specification constants: the one source of truth for every room, C++ and
// TypeScript. The C++ side includes this header; spec/nvme.ts (the `NVME` object) is
// generated from the list below by spec/generate.js at build time and is not committed.
// test/unit/spec-parity.test.ts checks the generated twin against the list the compiled
// addon exports, i.e. that the generator read what the compiler read; the spec-literals
// tier (test/layout/check-spec-literals.js) fails when an opcode, status or register
// offset is written as a number elsewhere. Section numbers refer to NVMe Base 1.4.
//
// Add constants to the list as X(NAME, integer literal) (the format spec/generate.js
// accepts is described at its top); never define them elsewhere.
#pragma once
#include <cstdint>

// ts-twin: NVME keys NvmeConstantName -- NVMe register offsets, field positions, opcodes and status codes
#define PHYR_NVME_CONSTANTS(X)                                                         \
  /* Controller registers, BAR0 offsets (3.1) */                                       \
  X(REG_CAP, 0x00) X(REG_VS, 0x08) X(REG_INTMS, 0x0C) X(REG_INTMC, 0x10)               \
  X(REG_CC, 0x14) X(REG_CSTS, 0x1C) X(REG_NSSR, 0x20) X(REG_AQA, 0x24)                 \
  X(REG_ASQ, 0x28) X(REG_ACQ, 0x30) X(REG_CMBLOC, 0x38) X(REG_CMBSZ, 0x3C)             \
  X(REG_BPINFO, 0x40) X(REG_CMBMSC, 0x50) X(REG_CMBSTS, 0x58) X(REG_DOORBELLS, 0x1000) \
  X(REG_BPRSEL, 0x44) X(REG_BPMBL, 0x48) X(REG_CRTO, 0x68) X(REG_PMRCAP, 0xE00)        \
  X(REG_PMRCTL, 0xE04) X(REG_PMRSTS, 0xE08) X(REG_PMREBS, 0xE0C) X(REG_PMRSWTP, 0xE10) \
  X(REG_PMRMSCL, 0xE14) X(REG_PMRMSCU, 0xE18)                                          \
  /* CAP fields (3.1.1): bit shifts and masks */                                       \
  X(CAP_MQES_MASK, 0xFFFF) X(CAP_CQR_SHIFT, 16) X(CAP_TO_SHIFT, 24)                    \
  X(CAP_DSTRD_SHIFT, 32) X(CAP_NSSRS_SHIFT, 36) X(CAP_CSS_SHIFT, 37)                   \
  X(CAP_MPSMIN_SHIFT, 48) X(CAP_MPSMAX_SHIFT, 52) X(CAP_CMBS_SHIFT, 57)                \
  X(CAP_TO_UNIT_MS, 500) X(CAP_CSS_NVM, 0x1)                                           \
  /* CC fields (3.1.5) */                                                              \
  X(CC_EN, 0x1) X(CC_CSS_SHIFT, 4) X(CC_MPS_SHIFT, 7) X(CC_AMS_SHIFT, 11)              \
  X(CC_SHN_SHIFT, 14) X(CC_SHN_NORMAL, 0x1) X(CC_SHN_ABRUPT, 0x2)                      \
  X(CC_IOSQES_SHIFT, 16) X(CC_IOCQES_SHIFT, 20) X(IOSQES, 6) X(IOCQES, 4)              \
  /* CSTS fields (3.1.6) */                                                            \
  X(CSTS_RDY, 0x1) X(CSTS_CFS, 0x2) X(CSTS_SHST_SHIFT, 2) X(CSTS_SHST_MASK, 0xC)       \
  X(SHST_NORMAL, 0x0) X(SHST_OCCURRING, 0x1) X(SHST_COMPLETE, 0x2)                     \
  /* AQA (3.1.8) */                                                                    \
  X(AQA_ACQS_SHIFT, 16) X(AQA_SIZE_MASK, 0xFFF)                                        \
  /* CMB registers (3.1.12, 3.1.13, 3.1.16) */                                         \
  X(CMBLOC_BIR_MASK, 0x7) X(CMBLOC_OFST_SHIFT, 12) X(CMBSZ_SQS, 0x1)                   \
  X(CMBSZ_CQS, 0x2) X(CMBSZ_LISTS, 0x4) X(CMBSZ_RDS, 0x8) X(CMBSZ_WDS, 0x10)           \
  X(CMBSZ_SZU_SHIFT, 8) X(CMBSZ_SZ_SHIFT, 12) X(CMBMSC_CRE, 0x1) X(CMBMSC_CMSE, 0x2)   \
  X(CMBSTS_CBAI, 0x1)                                                                  \
  /* Queue entries (4.2, 4.6) */                                                       \
  X(SQE_SIZE, 64) X(CQE_SIZE, 16) X(ADMIN_QID, 0)                                      \
  /* PSDT values, CDW0 bits 15:14 (4.2) */                                             \
  X(PSDT_PRP, 0x0) X(PSDT_SGL_MPTR_CONTIG, 0x1) X(PSDT_SGL_MPTR_SGL, 0x2)              \
  X(PSDT_SHIFT, 14)                                                                    \
  /* SGL descriptor types, identifier byte bits 7:4 (4.4) */                           \
  X(SGL_TYPE_DATA_BLOCK, 0x0) X(SGL_TYPE_BIT_BUCKET, 0x1) X(SGL_TYPE_SEGMENT, 0x2)     \
  X(SGL_TYPE_LAST_SEGMENT, 0x3) X(SGL_TYPE_KEYED_DATA_BLOCK, 0x4)                      \
  X(SGL_TYPE_TRANSPORT_DATA_BLOCK, 0x5) X(SGL_SUBTYPE_ADDRESS, 0x0)                    \
  X(SGL_SUBTYPE_OFFSET, 0x1) X(SGL_DESC_SIZE, 16)                                      \
  /* Identify Controller SGLS support field, byte 536 (5.15.2.1) */                    \
  X(SGLS_SUPPORT_MASK, 0x3) X(SGLS_BYTE_ALIGNED, 0x1) X(SGLS_DWORD_ALIGNED, 0x2)       \
  X(SGLS_KEYED, 0x4) X(SGLS_BIT_BUCKET, 0x10000)                                       \
  /* Admin opcodes (5) */                                                              \
  X(ADMIN_DELETE_SQ, 0x00) X(ADMIN_CREATE_SQ, 0x01) X(ADMIN_GET_LOG_PAGE, 0x02)        \
  X(ADMIN_DELETE_CQ, 0x04) X(ADMIN_CREATE_CQ, 0x05) X(ADMIN_IDENTIFY, 0x06)            \
  X(ADMIN_ABORT, 0x08) X(ADMIN_SET_FEATURES, 0x09) X(ADMIN_GET_FEATURES, 0x0A)         \
  X(ADMIN_ASYNC_EVENT_REQUEST, 0x0C) X(ADMIN_KEEP_ALIVE, 0x18) X(ADMIN_FORMAT_NVM, 0x80)                         \
  X(ADMIN_DOORBELL_BUFFER_CONFIG, 0x7C)                                                 \
  /* NVM command set opcodes (6) */                                                    \
  X(IO_FLUSH, 0x00) X(IO_WRITE, 0x01) X(IO_READ, 0x02) X(IO_WRITE_UNCORRECTABLE, 0x04) \
  X(IO_COMPARE, 0x05) X(IO_WRITE_ZEROES, 0x08) X(IO_DATASET_MANAGEMENT, 0x09)          \
  X(IO_VERIFY, 0x0C)                                                                   \
  /* Read/Write CDW12 bit 30: Force Unit Access (6.9, 6.15) */                         \
  X(RW_CDW12_FUA, 0x40000000)                                                          \
  /* Dataset Management: CDW11 Attribute - Deallocate (AD, bit 2); 16-byte ranges (6.7) */ \
  X(DSM_ATTR_DEALLOCATE, 0x4) X(DSM_RANGE_SIZE, 16)                                    \
  /* Identify CNS values (5.15) */                                                     \
  X(CNS_NAMESPACE, 0x00) X(CNS_CONTROLLER, 0x01) X(CNS_ACTIVE_NS_LIST, 0x02)           \
  X(CNS_NS_DESCRIPTORS, 0x03) X(IDENTIFY_DATA_SIZE, 4096)                              \
  /* Namespace identification descriptor types (5.15.2.3) */                           \
  X(NIDT_EUI64, 0x1) X(NIDT_NGUID, 0x2) X(NIDT_UUID, 0x3) X(NIDT_CSI, 0x4)             \
  /* Identify Controller ONCS bits and Identify Namespace DLFEAT read values (5.15.2) */ \
  X(ONCS_COMPARE, 0x1) X(ONCS_DSM, 0x4) X(ONCS_WRITE_ZEROES, 0x8)                      \
  X(OACS_DOORBELL_BUFFER_CONFIG, 0x100)                                                 \
  X(DLFEAT_READ_MASK, 0x7) X(DLFEAT_READ_ZEROES, 0x1) X(DLFEAT_READ_ONES, 0x2)         \
  /* Feature identifiers (5.21.1) */                                                   \
  X(FEAT_ARBITRATION, 0x01) X(FEAT_POWER_MANAGEMENT, 0x02)                             \
  X(FEAT_VOLATILE_WRITE_CACHE, 0x06) X(FEAT_NUMBER_OF_QUEUES, 0x07)                    \
  X(FEAT_INTERRUPT_COALESCING, 0x08) X(FEAT_ASYNC_EVENT_CONFIG, 0x0B)                  \
  X(FEAT_LBA_RANGE_TYPE, 0x03) X(FEAT_TEMPERATURE_THRESHOLD, 0x04)                     \
  X(FEAT_ERROR_RECOVERY, 0x05) X(FEAT_INTERRUPT_VECTOR_CONFIG, 0x09)                   \
  X(FEAT_WRITE_ATOMICITY, 0x0A) X(FEAT_AUTONOMOUS_POWER_STATE, 0x0C)                   \
  X(FEAT_HOST_MEMORY_BUFFER, 0x0D) X(FEAT_TIMESTAMP, 0x0E) X(FEAT_KEEP_ALIVE_TIMER, 0x0F) \
  X(FEAT_HOST_THERMAL_MANAGEMENT, 0x10) X(FEAT_NON_OPERATIONAL_POWER_STATE, 0x11)      \
  X(FEAT_READ_RECOVERY_LEVEL, 0x12) X(FEAT_PLM_CONFIG, 0x13) X(FEAT_PLM_WINDOW, 0x14)  \
  X(FEAT_LBA_STATUS_INTERVAL, 0x15) X(FEAT_HOST_BEHAVIOR, 0x16) X(FEAT_SANITIZE, 0x17) \
  X(FEAT_ENDURANCE_EVENT_CONFIG, 0x18) X(FEAT_IO_COMMAND_SET_PROFILE, 0x19)            \
  X(FEAT_SPINUP_CONTROL, 0x1A) X(FEAT_FDP, 0x1D) X(FEAT_FDP_EVENTS, 0x1E)              \
  X(FEAT_ENHANCED_CTRL_METADATA, 0x7D) X(FEAT_CTRL_METADATA, 0x7E)                     \
  X(FEAT_NS_METADATA, 0x7F) X(FEAT_SOFTWARE_PROGRESS, 0x80) X(FEAT_HOST_IDENTIFIER, 0x81) \
  X(FEAT_RESERVATION_MASK, 0x82) X(FEAT_RESERVATION_PERSISTENCE, 0x83)                 \
  X(FEAT_NS_WRITE_PROTECT, 0x84)                                                       \
  /* Get Features with SEL 3, supported capabilities: DW0 bits (5.13)  */            \
  X(FEAT_CAP_SAVEABLE, 0x1) X(FEAT_CAP_PER_NAMESPACE, 0x2) X(FEAT_CAP_CHANGEABLE, 0x4) \
  /* Log page identifiers (5.14.1) */                                                  \
  X(LOG_ERROR, 0x01) X(LOG_SMART, 0x02) X(LOG_FIRMWARE_SLOT, 0x03)                     \
  /* Status code types (4.6.1.2) */                                                    \
  X(SCT_GENERIC, 0x0) X(SCT_COMMAND_SPECIFIC, 0x1) X(SCT_MEDIA, 0x2)                   \
  X(SCT_PATH, 0x3) X(SCT_VENDOR, 0x7)                                                  \
  /* Generic command status (4.6.1.2.1) */                                             \
  X(SC_SUCCESS, 0x00) X(SC_INVALID_OPCODE, 0x01) X(SC_INVALID_FIELD, 0x02)             \
  X(SC_CID_CONFLICT, 0x03) X(SC_DATA_TRANSFER_ERROR, 0x04)                             \
  X(SC_ABORTED_POWER_LOSS, 0x05) X(SC_INTERNAL_ERROR, 0x06)                            \
  X(SC_ABORTED_BY_REQUEST, 0x07) X(SC_ABORTED_SQ_DELETION, 0x08)                       \
  X(SC_ABORTED_FUSED_FAIL, 0x09) X(SC_ABORTED_FUSED_MISSING, 0x0A)                     \
  X(SC_INVALID_NAMESPACE, 0x0B) X(SC_COMMAND_SEQUENCE_ERROR, 0x0C)                     \
  X(SC_INVALID_SGL_SEGMENT_DESCRIPTOR, 0x0D) X(SC_INVALID_SGL_DESCRIPTOR_COUNT, 0x0E)  \
  X(SC_DATA_SGL_LENGTH_INVALID, 0x0F) X(SC_METADATA_SGL_LENGTH_INVALID, 0x10)          \
  X(SC_SGL_DESCRIPTOR_TYPE_INVALID, 0x11) X(SC_INVALID_CMB_USE, 0x12)                  \
  X(SC_PRP_OFFSET_INVALID, 0x13) X(SC_ATOMIC_WRITE_UNIT_EXCEEDED, 0x14)                \
  X(SC_OPERATION_DENIED, 0x15) X(SC_SGL_OFFSET_INVALID, 0x16) X(SC_TRANSIENT_TRANSPORT_ERROR, 0x22)                          \
  X(SC_LBA_OUT_OF_RANGE, 0x80) X(SC_CAPACITY_EXCEEDED, 0x81)                           \
  X(SC_NAMESPACE_NOT_READY, 0x82)                                                      \
  /* Command specific status (4.6.1.2.2, 5.x) */                                       \
  X(SC_COMPLETION_QUEUE_INVALID, 0x00) X(SC_INVALID_QUEUE_IDENTIFIER, 0x01)            \
  X(SC_INVALID_QUEUE_SIZE, 0x02) X(SC_ABORT_COMMAND_LIMIT_EXCEEDED, 0x03)              \
  X(SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, 0x05) X(SC_INVALID_FIRMWARE_SLOT, 0x06)     \
  X(SC_INVALID_INTERRUPT_VECTOR, 0x08) X(SC_INVALID_LOG_PAGE, 0x09)                    \
  X(SC_INVALID_FORMAT, 0x0A) X(SC_INVALID_QUEUE_DELETION, 0x0C)                        \
  X(SC_FEATURE_NOT_SAVEABLE, 0x0D) X(SC_CONFLICTING_ATTRIBUTES, 0x80)                  \
  X(SC_COMPARE_FAILURE, 0x85)                                                          \
  /* Media and data integrity errors (4.6.1.2.3) */                                    \
  X(SC_WRITE_FAULT, 0x80) X(SC_UNRECOVERED_READ_ERROR, 0x81)                           \
  /* CQE DW3 status field layout (4.6.1): bits above the 16-bit CID */                 \
  X(CQE_PHASE_BIT, 16) X(CQE_SC_SHIFT, 17) X(CQE_SCT_SHIFT, 25) X(CQE_CRD_SHIFT, 28)   \
  X(CQE_MORE_BIT, 30) X(CQE_DNR_BIT, 31)                                               \
  /* The 15-bit status field as a value (DW3 31:17 shifted down): SC 7:0, SCT 10:8,     \
     CRD 12:11, More 13, DNR 14 (4.6.1) */                                             \
  X(STATUS_SC_MASK, 0xFF) X(STATUS_SCT_SHIFT, 8) X(STATUS_SCT_MASK, 0x7)               \
  X(STATUS_CRD_SHIFT, 11) X(STATUS_CRD_MASK, 0x3) X(STATUS_MORE, 0x2000)               \
  X(STATUS_DNR, 0x4000)

namespace phyr::nvme {
#define PHYR_NVME_CONSTANT(name, value) constexpr uint64_t name = (value);
PHYR_NVME_CONSTANTS(PHYR_NVME_CONSTANT)
#undef PHYR_NVME_CONSTANT

// Submission queue entry (4.2), 64 bytes.
struct Sqe {
  uint32_t cdw0;  // opcode 7:0, fuse 9:8, psdt 15:14, cid 31:16
  uint32_t nsid;
  uint32_t cdw2, cdw3;
  uint64_t mptr;
  uint64_t dptr1;  // PRP1, or bytes 0..7 of SGL1
  uint64_t dptr2;  // PRP2, or bytes 8..15 of SGL1
  uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
static_assert(sizeof(Sqe) == 64, "SQE is 64 bytes");

// Completion queue entry (4.6), 16 bytes. dw3 = cid 15:0, phase 16, status 31:17.
struct Cqe {
  uint32_t dw0, dw1;
  uint16_t sqHead, sqId;
  uint32_t dw3;
};
static_assert(sizeof(Cqe) == 16, "CQE is 16 bytes");

// SGL descriptor (4.4), 16 bytes.
struct SglDesc {
  uint64_t addr;
  uint32_t len;
  uint8_t reserved[3];
  uint8_t id;  // type 7:4, subtype 3:0
};
static_assert(sizeof(SglDesc) == 16, "SGL descriptor is 16 bytes");

// 15-bit status field as stored in CQE DW3 bits 31:17: SC 7:0, SCT 10:8, CRD 12:11,
// More 13, DNR 14.
constexpr uint16_t makeStatus(uint8_t sct, uint8_t sc, bool dnr) {
  return static_cast<uint16_t>(sc | (sct & STATUS_SCT_MASK) << STATUS_SCT_SHIFT | (dnr ? STATUS_DNR : 0u));
}

inline uint32_t doorbellOffsetSq(uint32_t qid, uint32_t dstrd) {
  return static_cast<uint32_t>(REG_DOORBELLS) + (2 * qid) * (4u << dstrd);
}
inline uint32_t doorbellOffsetCq(uint32_t qid, uint32_t dstrd) {
  return static_cast<uint32_t>(REG_DOORBELLS) + (2 * qid + 1) * (4u << dstrd);
}
}  // namespace phyr::nvme
