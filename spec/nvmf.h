// NVMe over Fabrics constants: the Fabrics command set (NVMe over Fabrics 1.0a, "NVMe-oF")
// and its TCP transport binding (NVMe/TCP Transport Specification 1.0a, "NVMe/TCP"). The
// one source of truth for the fabric target in fabrics/ and anything native that joins
// it later; spec/nvmf.ts is generated from the lists below by spec/generate.js and is not
// committed. test/unit/spec-parity.test.ts checks the twin against the compiled lists.
// Byte offsets are from the start of the structure named in each section comment; all
// multi-byte fields are little-endian.
//
// Add constants as X(NAME, integer literal) (format: the top of spec/generate.js).
#pragma once
#include <cstdint>

// ts-twin: NVMF keys NvmfConstantName -- NVMe over Fabrics: the Fabrics command set, Connect, properties and the discovery log
#define PHYR_NVMF_CONSTANTS(X)                                                         \
  /* The Fabrics command opcode in SQE byte 0; the command type (FCTYPE) in byte 4     \
     (NVMe-oF §2.1, §3) */                                                   \
  X(OPC_FABRICS, 0x7F) X(SQE_FCTYPE, 4)                                                \
  X(FCTYPE_PROPERTY_SET, 0x00) X(FCTYPE_CONNECT, 0x01) X(FCTYPE_PROPERTY_GET, 0x04)    \
  X(FCTYPE_AUTH_SEND, 0x05) X(FCTYPE_AUTH_RECV, 0x06) X(FCTYPE_DISCONNECT, 0x08)       \
  /* Connect command fields, SQE byte offsets (NVMe-oF §3.3, Figure 19) */                     \
  X(CONNECT_RECFMT, 40) X(CONNECT_QID, 42) X(CONNECT_SQSIZE, 44)                       \
  X(CONNECT_CATTR, 46) X(CONNECT_KATO, 48) X(CONNECT_RECFMT_1_0, 0)                    \
  /* Connect data, 1024 bytes (NVMe-oF §3.3, Figure 20) */                                     \
  X(CONNECT_DATA_SIZE, 1024) X(CONNECT_DATA_HOSTID, 0) X(CONNECT_DATA_CNTLID, 16)      \
  X(CONNECT_DATA_SUBNQN, 256) X(CONNECT_DATA_HOSTNQN, 512) X(NQN_SIZE, 256)            \
  X(HOSTID_SIZE, 16)                                                                   \
  /* Controller ID values a host asks for in Connect data (NVMe-oF §3.3): any controller of    \
     the dynamic model */                                                              \
  X(CNTLID_DYNAMIC, 0xFFFF) X(CNTLID_STATIC_ANY, 0xFFFE)                               \
  /* Property Get / Set fields, SQE byte offsets (NVMe-oF §3.4, §3.5): ATTRIB bits 2:0 give    \
     the size (0: 4 bytes, 1: 8 bytes) */                                              \
  X(PROPERTY_ATTRIB, 40) X(PROPERTY_OFFSET, 44) X(PROPERTY_VALUE, 48)                  \
  X(PROPERTY_SIZE_MASK, 0x7) X(PROPERTY_SIZE_4, 0) X(PROPERTY_SIZE_8, 1)               \
  /* Command-specific status codes of Fabrics commands, SCT 1 (NVMe-oF §2.2.1) */     \
  X(SC_CONNECT_INCOMPATIBLE_FORMAT, 0x80) X(SC_CONNECT_CONTROLLER_BUSY, 0x81)          \
  X(SC_CONNECT_INVALID_PARAMETERS, 0x82) X(SC_CONNECT_RESTART_DISCOVERY, 0x83)         \
  X(SC_CONNECT_INVALID_HOST, 0x84) X(SC_INVALID_QUEUE_TYPE, 0x85)                      \
  /* Connect response, CQE dword 0 (NVMe-oF §3.3): on success bits 15:0 hold the   \
     controller ID; on Invalid Parameters, bits 15:0 the byte offset of the bad field  \
     (IPO) and bit 16 set when it lies in the Connect data, clear when in the SQE */   \
  X(CONNECT_IATTR_DATA, 0x10000)                                                       \
  /* The discovery log page (NVMe-oF §5.3): header fields, entry size: its identifier, header and entry sizes */ \
  X(LID_DISCOVERY, 0x70) X(DISC_LOG_HEADER_SIZE, 1024) X(DISC_LOG_ENTRY_SIZE, 1024)    \
  X(DISC_GENCTR, 0) X(DISC_NUMREC, 8) X(DISC_RECFMT, 16)                               \
  /* Discovery log entry fields, byte offsets (NVMe-oF §5.3) */                           \
  X(DISC_TRTYPE, 0) X(DISC_ADRFAM, 1) X(DISC_SUBTYPE, 2) X(DISC_TREQ, 3)               \
  X(DISC_PORTID, 4) X(DISC_CNTLID, 6) X(DISC_ASQSZ, 8) X(DISC_TRSVCID, 32)             \
  X(DISC_SUBNQN, 256) X(DISC_TRADDR, 512) X(DISC_TSAS, 768)                            \
  X(TRTYPE_TCP, 3) X(ADRFAM_IPV4, 1) X(ADRFAM_IPV6, 2)                                 \
  X(SUBTYPE_DISCOVERY_REFERRAL, 1) X(SUBTYPE_NVME, 2) X(SUBTYPE_CURRENT_DISCOVERY, 3)  \
  X(TREQ_NOT_SPECIFIED, 0) X(TREQ_NOT_REQUIRED, 2) X(TSAS_SECTYPE_NONE, 0)             \
  /* Identify Controller fields a fabric controller sets itself (NVMe 1.4 §5.15.2.1,  \
     Figure 247), byte offsets; IOCCSZ and IORCSZ count 16-byte units */               \
  X(ID_CMIC, 76) X(ID_MDTS, 77) X(ID_CNTLID, 78) X(ID_VER, 80) X(ID_OAES, 92)          \
  X(ID_CTRATT, 96) X(ID_CNTRLTYPE, 111) X(ID_OACS, 256) X(ID_AERL, 259) X(ID_LPA, 261) \
  X(ID_ELPE, 262) X(ID_APSTA, 265) X(ID_KAS, 320) X(ID_SQES, 512) X(ID_CQES, 513)     \
  X(ID_MAXCMD, 514) X(ID_NN, 516) X(ID_ONCS, 520) X(ID_FUSES, 522) X(ID_VWC, 525)      \
  X(ID_SGLS, 536) X(ID_SUBNQN, 768) X(ID_IOCCSZ, 1792) X(ID_IORCSZ, 1796)             \
  X(ID_ICDOFF, 1800) X(ID_FCATT, 1802) X(ID_MSDBD, 1803)                               \
  /* CNTRLTYPE values and the SGLS bit for an offset in a Data Block descriptor (the   \
     in-capsule data of a fabric command) */                                           \
  X(CNTRLTYPE_IO, 1) X(CNTRLTYPE_DISCOVERY, 2) X(SGLS_OFFSET, 0x100000)                \
  /* SGL descriptor identifiers a fabric host sends in DPTR (NVMe 1.4 §4.4):         \
     in-capsule data (Data Block, subtype Offset) and host memory the transport reaches \
     (Transport SGL Data Block, subtype Transport Specific) */                         \
  X(SGL_ID_DATA_OFFSET, 0x01) X(SGL_ID_TRANSPORT_DATA, 0x5A)

// ts-twin: NVME_TCP keys NvmeTcpConstantName -- NVMe/TCP: PDU types, header layouts, flags and fatal error codes
#define PHYR_NVME_TCP_CONSTANTS(X)                                                     \
  /* PDU types, common header byte 0 (NVMe/TCP §3.6.1) */               \
  X(PDU_ICREQ, 0x00) X(PDU_ICRESP, 0x01) X(PDU_H2C_TERM_REQ, 0x02)                     \
  X(PDU_C2H_TERM_REQ, 0x03) X(PDU_CAPSULE_CMD, 0x04) X(PDU_CAPSULE_RESP, 0x05)         \
  X(PDU_H2C_DATA, 0x06) X(PDU_C2H_DATA, 0x07) X(PDU_R2T, 0x09)                         \
  /* Common header: type, flags, HLEN, PDO (bytes), PLEN (u32) (NVMe/TCP §3.6.1) */             \
  X(CH_TYPE, 0) X(CH_FLAGS, 1) X(CH_HLEN, 2) X(CH_PDO, 3) X(CH_PLEN, 4)                \
  X(CH_SIZE, 8) X(DIGEST_SIZE, 4)                                                      \
  /* Common header flags (NVMe/TCP §3.6.1, §3.6.2): digests present, last data PDU, success in          \
     C2HData (no response capsule follows) */                                          \
  X(FLAG_HDGSTF, 0x01) X(FLAG_DDGSTF, 0x02) X(FLAG_LAST_PDU, 0x04)                     \
  X(FLAG_SUCCESS, 0x08)                                                                \
  /* Header lengths per PDU type (NVMe/TCP §3.6.2) */                                           \
  X(HLEN_ICREQ, 128) X(HLEN_ICRESP, 128) X(HLEN_TERM_REQ, 24)                          \
  X(HLEN_CAPSULE_CMD, 72) X(HLEN_CAPSULE_RESP, 24) X(HLEN_DATA, 24) X(HLEN_R2T, 24)    \
  /* ICReq / ICResp fields (NVMe/TCP §3.6.2.2, §3.6.2.3): PFV, HPDA or CPDA (dwords, 0's based), \
     DGST (bit 0 header digest, bit 1 data digest), MAXR2T (0's based) or MAXH2CDATA */ \
  X(IC_PFV, 8) X(IC_PDA, 10) X(IC_DGST, 11) X(IC_MAX, 12) X(PFV_1_0, 0)                \
  X(DGST_HEADER, 0x1) X(DGST_DATA, 0x2) X(PDA_MAX, 31) X(MIN_MAXH2CDATA, 4096)         \
  /* H2CData, C2HData and R2T fields (NVMe/TCP §3.6.2): CCCID, TTAG, offset, length */ \
  X(DATA_CCCID, 8) X(DATA_TTAG, 10) X(DATA_OFFSET, 12) X(DATA_LENGTH, 16)              \
  /* H2CTermReq / C2HTermReq fields (NVMe/TCP §3.6.2.4, §3.6.2.5): FES (u16), FEI (u32) */                    \
  X(TERM_FES, 8) X(TERM_FEI, 10) X(TERM_MAX_DATA, 128)                                 \
  /* Fatal error status values (NVMe/TCP §3.6.2.4) */                                \
  X(FES_INVALID_PDU_HEADER, 0x01) X(FES_PDU_SEQUENCE_ERROR, 0x02)                      \
  X(FES_HEADER_DIGEST_ERROR, 0x03) X(FES_DATA_OUT_OF_RANGE, 0x04)                      \
  X(FES_DATA_LIMIT_EXCEEDED, 0x05) X(FES_UNSUPPORTED_PARAMETER, 0x06)                  \
  /* The ports IANA assigned (NVMe/TCP §4): NVMe/TCP and its discovery service */             \
  X(PORT_NVME, 4420) X(PORT_DISCOVERY, 8009)
