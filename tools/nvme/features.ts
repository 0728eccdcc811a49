// Feature identifiers (NVMe 1.4 §5.21.1) under nvme-cli's names, and the length of the
// data buffer each one moves (libnvme's nvme_get_feature_length): the table get-feature and
// set-feature share.
import { NVME } from '../../spec/nvme';

/** nvme-cli's name of each feature it knows. */
export const FEATURE_NAMES: ReadonlyMap<number, string> = new Map([
  [NVME.FEAT_ARBITRATION, 'Arbitration'],
  [NVME.FEAT_POWER_MANAGEMENT, 'Power Management'],
  [NVME.FEAT_LBA_RANGE_TYPE, 'LBA Range Type'],
  [NVME.FEAT_TEMPERATURE_THRESHOLD, 'Temperature Threshold'],
  [NVME.FEAT_ERROR_RECOVERY, 'Error Recovery'],
  [NVME.FEAT_VOLATILE_WRITE_CACHE, 'Volatile Write Cache'],
  [NVME.FEAT_NUMBER_OF_QUEUES, 'Number of Queues'],
  [NVME.FEAT_INTERRUPT_COALESCING, 'Interrupt Coalescing'],
  [NVME.FEAT_INTERRUPT_VECTOR_CONFIG, 'Interrupt Vector Configuration'],
  [NVME.FEAT_WRITE_ATOMICITY, 'Write Atomicity Normal'],
  [NVME.FEAT_ASYNC_EVENT_CONFIG, 'Async Event Configuration'],
  [NVME.FEAT_AUTONOMOUS_POWER_STATE, 'Autonomous Power State Transition'],
  [NVME.FEAT_HOST_MEMORY_BUFFER, 'Host Memory Buffer'],
  [NVME.FEAT_TIMESTAMP, 'Timestamp'],
  [NVME.FEAT_KEEP_ALIVE_TIMER, 'Keep Alive Timer'],
  [NVME.FEAT_HOST_THERMAL_MANAGEMENT, 'Host Controlled Thermal Management'],
  [NVME.FEAT_NON_OPERATIONAL_POWER_STATE, 'Non-Operational Power State Config'],
  [NVME.FEAT_READ_RECOVERY_LEVEL, 'Read Recovery Level'],
  [NVME.FEAT_PLM_CONFIG, 'Predictable Latency Mode Config'],
  [NVME.FEAT_PLM_WINDOW, 'Predictable Latency Mode Window'],
  [NVME.FEAT_LBA_STATUS_INTERVAL, 'LBA Status Interval'],
  [NVME.FEAT_HOST_BEHAVIOR, 'Host Behavior'],
  [NVME.FEAT_SANITIZE, 'Sanitize'],
  [NVME.FEAT_ENDURANCE_EVENT_CONFIG, 'Endurance Event Group Configuration'],
  [NVME.FEAT_IO_COMMAND_SET_PROFILE, 'I/O Command Set Profile'],
  [NVME.FEAT_SPINUP_CONTROL, 'Spinup Control'],
  [NVME.FEAT_ENHANCED_CTRL_METADATA, 'Enhanced Controller Metadata'],
  [NVME.FEAT_CTRL_METADATA, 'Controller Metadata'],
  [NVME.FEAT_NS_METADATA, 'Namespace Metadata'],
  [NVME.FEAT_SOFTWARE_PROGRESS, 'Software Progress'],
  [NVME.FEAT_HOST_IDENTIFIER, 'Host Identifier'],
  [NVME.FEAT_RESERVATION_MASK, 'Reservation Notification Mask'],
  [NVME.FEAT_RESERVATION_PERSISTENCE, 'Reservation Persistence'],
  [NVME.FEAT_NS_WRITE_PROTECT, 'Namespace Write Protect'],
  [NVME.FEAT_FDP, 'Flexible Direct Placement'],
  [NVME.FEAT_FDP_EVENTS, 'Flexible Direct Placement Events'],
]);

/** nvme-cli's feature name ("Unknown" for the rest). */
export function featureName(fid: number): string {
  return FEATURE_NAMES.get(fid) ?? 'Unknown';
}

// Data structure sizes (§5.21.1): LBA Range Type 64 entries of 64 bytes, Autonomous Power
// State Transition 32 entries of 8, Predictable Latency Mode Config 512, Timestamp 8, Host
// Behavior 512, Host Memory Buffer attributes 4096.
const DATA_BYTES: ReadonlyMap<number, number> = new Map([
  [NVME.FEAT_LBA_RANGE_TYPE, 4096],
  [NVME.FEAT_AUTONOMOUS_POWER_STATE, 256],
  [NVME.FEAT_PLM_CONFIG, 512],
  [NVME.FEAT_TIMESTAMP, 8],
  [NVME.FEAT_HOST_BEHAVIOR, 512],
  [NVME.FEAT_HOST_MEMORY_BUFFER, 4096],
]);

/** Bytes of data Get Features moves for `fid` (0: the value is in DW0 only). Host Identifier: 16 with EXHID (CDW11 bit 0), else 8. */
export function featureDataBytes(fid: number, cdw11: number): number {
  if (fid === NVME.FEAT_HOST_IDENTIFIER) return cdw11 & 1 ? 16 : 8;
  return DATA_BYTES.get(fid) ?? 0;
}

/** nvme-cli's names of the SEL values. */
export function selectName(sel: number): string {
  return ['Current', 'Default', 'Saved', 'Supported capabilities'][sel] ?? (sel === 8 ? 'Changed' : 'Reserved');
}
