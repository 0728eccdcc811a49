// Known deviations of particular devices from the NVMe specification. A case that fails on a
// device whose quirk names that case is reported as a deviation (expected, documented, still
// visible in every report) rather than a failure; a case may also consult ctx.quirks itself
// to avoid a step the device is known to mishandle. Quirks are matched on the PCI vendor and
// device id and on the Identify Controller model and firmware, never on the target kind, so
// the same table serves real hardware, QEMU through VFIO and the embedded controller.
// Quirk ids are the names cases test in ctx.quirks; keep them in step with the cases.
import { compilePattern } from './registry';
import type { DeviceIdentity } from './types';

/** What a quirk matches on; every given field must match. */
export interface QuirkMatch {
  vendorId?: number;
  deviceId?: number;
  /** Identify Controller model number (trimmed). */
  model?: RegExp;
  /** Identify Controller firmware revision (trimmed). */
  firmware?: RegExp;
}

/** One known deviation. */
export interface Quirk {
  /** Stable name, e.g. 'qemu-abort-not-aborted'. Cases see it in ctx.quirks. */
  id: string;
  /** What the device does instead of what the spec says. */
  description: string;
  /** The specification section the device deviates from. */
  spec: string;
  match: QuirkMatch;
  /** Case-id patterns (registry syntax) whose failure this quirk explains. */
  cases: string[];
}

/** QEMU's emulated NVMe controller (PCI 1b36:0010), as seen with QEMU 7.2 in the testbed. */
const QEMU_NVME: QuirkMatch = { vendorId: 0x1b36, deviceId: 0x0010, model: /^QEMU NVMe Ctrl/ };

/** The table. Add a device by adding entries; each names the cases it explains. */
export const QUIRKS: readonly Quirk[] = [
  {
    id: 'qemu-abort-not-aborted',
    description: 'Abort always completes with "command not aborted" (CQE DW0 bit 0 = 1); the target command runs to completion',
    spec: 'NVMe 1.4 §5.1',
    match: QEMU_NVME,
    cases: ['admin.abort*'],
  },
  {
    // The name the raw conformance cases test for (conformance/cases/dptr.ts).
    id: 'silent-dma-fault',
    description: 'A data transfer that faults in the IOMMU is dropped and the command completes successfully (reads lose data, writes store zeros) instead of failing with Data Transfer Error',
    spec: 'NVMe 1.4 §4.6.1.2.1 (Data Transfer Error)',
    match: QEMU_NVME,
    cases: ['dptr.iommu.data-unmapped', 'dptr.iommu.prp-list-unmapped', 'errors.*fault*'],
  },
  {
    id: 'qemu-no-interrupt-coalescing',
    description: 'Feature 08h (Interrupt Coalescing) is not implemented: Set/Get Features answer Invalid Field',
    spec: 'NVMe 1.4 §5.21.1.8',
    match: QEMU_NVME,
    cases: ['admin.features.interrupt-coalescing*', 'admin.*coalesc*'],
  },
  {
    id: 'qemu-prp1-offset-unchecked',
    description: 'PRP1 with bits 1:0 set (not dword aligned) is accepted and the transfer done at that byte offset, instead of PRP Offset Invalid',
    spec: 'NVMe 1.4 §4.3 (PRP entry offset)',
    match: QEMU_NVME,
    cases: ['dptr.prp.prp1-not-dword-aligned'],
  },
  {
    id: 'qemu-dnr-missing',
    description: 'Some errors come without the Do Not Retry bit: Invalid Queue Deletion, Asynchronous Event Request Limit Exceeded, Compare Failure',
    spec: 'NVMe 1.4 §4.6.1 (DNR)',
    match: QEMU_NVME,
    cases: ['admin.delete-queues.checks', 'admin.aer.limit', 'integrity.compare'],
  },
  {
    id: 'qemu-sgl-status-codes',
    description: 'Malformed SGLs get other status codes than the spec names (0Eh for a misplaced Last Segment, 0Dh for a Keyed Data Block) or none: a Data Block length that does not match the transfer and the offset subtype are not checked',
    spec: 'NVMe 1.4 §4.4, Figure 126 (SGL status codes)',
    match: QEMU_NVME,
    cases: ['dptr.sgl.length-mismatch', 'dptr.sgl.segment-descriptor-not-last', 'dptr.sgl.type-invalid', 'dptr.sgl.offset-subtype'],
  },
  {
    id: 'qemu-cq-in-cmb-accepted',
    description: 'Create I/O Completion Queue with the queue in the CMB succeeds although CMBSZ.CQS = 0',
    spec: 'NVMe 1.4 §3.1.13 (CMBSZ.CQS), §4.7',
    match: QEMU_NVME,
    cases: ['admin.cmb.cq-in-cmb-refused'],
  },
  {
    id: 'qemu-log-pages',
    description: 'Get Log Page of an unsupported LID answers Invalid Field in Command instead of Invalid Log Page, and failed commands leave no entry in the Error Information log',
    spec: 'NVMe 1.4 §5.14, §5.14.1.1',
    match: QEMU_NVME,
    cases: ['admin.log.invalid', 'admin.log.error-information'],
  },
  {
    id: 'qemu-bme-off-fatal',
    description: 'With Bus Master Enable clear, a doorbell makes the SQ fetch fail and the controller sets CSTS.CFS, instead of holding the command until bus mastering is enabled again',
    spec: 'PCI 3.0 §6.2.2 (Command register), NVMe 1.4 §3.1.6 (CSTS.CFS)',
    match: QEMU_NVME,
    cases: ['registers.bus-master.gates-dma'],
  },
  {
    id: 'qemu-dsm-range-unchecked',
    description: 'A Dataset Management range past the end of the namespace is skipped and the command succeeds, instead of LBA Out of Range',
    spec: 'NVMe 1.4 §6.7',
    match: QEMU_NVME,
    cases: ['integrity.dsm-deallocate'],
  },
];

/** True when `m` matches the device. */
export function quirkMatches(m: QuirkMatch, device: DeviceIdentity): boolean {
  if (m.vendorId !== undefined && m.vendorId !== device.vendorId) return false;
  if (m.deviceId !== undefined && m.deviceId !== device.deviceId) return false;
  if (m.model && !m.model.test(device.model)) return false;
  if (m.firmware && !m.firmware.test(device.firmware)) return false;
  return true;
}

/** The quirks of a device. */
export function quirksFor(device: DeviceIdentity, table: readonly Quirk[] = QUIRKS): Quirk[] {
  return table.filter((q) => quirkMatches(q.match, device));
}

/** The first of `quirks` that explains a failure of case `caseId`, if any. */
export function quirkForCase(caseId: string, quirks: readonly Quirk[]): Quirk | undefined {
  return quirks.find((q) => q.cases.some((p) => compilePattern(p)(caseId)));
}
