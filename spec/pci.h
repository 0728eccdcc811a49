// PCI configuration space: the offsets, command and status bits, capability IDs and the
// MSI-X capability and table layout that phyr uses (PCI Local Bus 3.0 §6, PCIe 3.0 §7).
// The one source of truth for every room: C++ includes this header; spec/pci.ts (the `PCI`
// object) is generated from the list below by spec/generate.js at build time and is not
// committed. test/unit/spec-parity.test.ts checks the twin against the compiled list, and
// the spec-literals tier (test/layout/check-spec-literals.js) fails when one of these is
// written as a number elsewhere.
//
// Add constants as X(NAME, integer literal) (the format is described at the top of
// spec/generate.js); never define them elsewhere.
#pragma once
#include <cstdint>

// ts-twin: PCI keys PciConstantName -- PCI config-space offsets, register bits, capability IDs and the MSI-X layout
#define PHYR_PCI_CONSTANTS(X)                                                          \
  /* Type 0 header, byte offsets (PCI 3.0 §6.1) */                                      \
  X(CFG_VENDOR_ID, 0x00) X(CFG_DEVICE_ID, 0x02) X(CFG_COMMAND, 0x04)                   \
  X(CFG_STATUS, 0x06) X(CFG_CLASS_REVISION, 0x08) X(CFG_BAR0, 0x10) X(CFG_BAR2, 0x18)  \
  X(CFG_SUBSYSTEM_VENDOR_ID, 0x2C) X(CFG_SUBSYSTEM_ID, 0x2E)                           \
  X(CFG_CAPABILITY_LIST, 0x34) X(CFG_SPACE_SIZE, 4096)                                 \
  /* Command register bits (PCI 3.0 §6.2.2) */                                          \
  X(COMMAND_MEMORY, 0x2) X(COMMAND_BUS_MASTER, 0x4) X(COMMAND_INTX_DISABLE, 0x400)     \
  /* Status register bits (PCI 3.0 §6.2.3) */                                           \
  X(STATUS_CAP_LIST, 0x10)                                                             \
  /* Memory BAR type bits (PCI 3.0 §6.2.5.1) */                                         \
  X(BAR_MEM_64, 0x4) X(BAR_PREFETCHABLE, 0x8)                                          \
  /* Class code of an NVM Express controller: mass storage, NVM, NVMe (base 01h, sub     \
     08h, interface 02h) */                                                            \
  X(CLASS_NVME, 0x010802)                                                              \
  /* Capability list (PCI 3.0 §6.7): pointers are dword aligned */                      \
  X(CAP_PTR_MASK, 0xFC) X(CAP_ID, 0x0) X(CAP_NEXT, 0x1) X(CAP_ID_MSIX, 0x11)            \
  /* MSI-X capability, offsets from its start (PCI 3.0 §6.8.2) */                       \
  X(MSIX_CTRL, 0x2) X(MSIX_TABLE, 0x4) X(MSIX_PBA, 0x8)                                \
  X(MSIX_CTRL_TABLE_SIZE_MASK, 0x7FF) X(MSIX_CTRL_FUNCTION_MASK, 0x4000)               \
  X(MSIX_CTRL_ENABLE, 0x8000) X(MSIX_BIR_MASK, 0x7)                                    \
  /* MSI-X table entry (PCI 3.0 §6.8.2.6-9) */                                          \
  X(MSIX_ENTRY_SIZE, 16) X(MSIX_ENTRY_VECTOR_CTRL, 12) X(MSIX_VECTOR_MASKED, 0x1)

namespace phyr::pci {
#define PHYR_PCI_CONSTANT(name, value) constexpr uint32_t name = (value);
PHYR_PCI_CONSTANTS(PHYR_PCI_CONSTANT)
#undef PHYR_PCI_CONSTANT
}  // namespace phyr::pci
