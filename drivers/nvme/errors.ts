// Typed errors of the driver. Every failure names what was wrong and what to do; NVMe
// status codes carry the specification's names (NVMe 1.4 §4.6.1.2).
import { PhyrError } from '../../lib/errors';
import { NVME } from '../../spec/nvme';

const N = NVME;

const GENERIC: Record<number, string> = {
  [N.SC_SUCCESS]: 'Successful Completion',
  [N.SC_INVALID_OPCODE]: 'Invalid Command Opcode',
  [N.SC_INVALID_FIELD]: 'Invalid Field in Command',
  [N.SC_CID_CONFLICT]: 'Command ID Conflict',
  [N.SC_DATA_TRANSFER_ERROR]: 'Data Transfer Error',
  [N.SC_ABORTED_POWER_LOSS]: 'Commands Aborted due to Power Loss Notification',
  [N.SC_INTERNAL_ERROR]: 'Internal Error',
  [N.SC_ABORTED_BY_REQUEST]: 'Command Abort Requested',
  [N.SC_ABORTED_SQ_DELETION]: 'Command Aborted due to SQ Deletion',
  [N.SC_ABORTED_FUSED_FAIL]: 'Command Aborted due to Failed Fused Command',
  [N.SC_ABORTED_FUSED_MISSING]: 'Command Aborted due to Missing Fused Command',
  [N.SC_INVALID_NAMESPACE]: 'Invalid Namespace or Format',
  [N.SC_COMMAND_SEQUENCE_ERROR]: 'Command Sequence Error',
  [N.SC_INVALID_SGL_SEGMENT_DESCRIPTOR]: 'Invalid SGL Segment Descriptor',
  [N.SC_INVALID_SGL_DESCRIPTOR_COUNT]: 'Invalid Number of SGL Descriptors',
  [N.SC_DATA_SGL_LENGTH_INVALID]: 'Data SGL Length Invalid',
  [N.SC_METADATA_SGL_LENGTH_INVALID]: 'Metadata SGL Length Invalid',
  [N.SC_SGL_DESCRIPTOR_TYPE_INVALID]: 'SGL Descriptor Type Invalid',
  [N.SC_INVALID_CMB_USE]: 'Invalid Use of Controller Memory Buffer',
  [N.SC_PRP_OFFSET_INVALID]: 'PRP Offset Invalid',
  [N.SC_ATOMIC_WRITE_UNIT_EXCEEDED]: 'Atomic Write Unit Exceeded',
  [N.SC_OPERATION_DENIED]: 'Operation Denied',
  [N.SC_SGL_OFFSET_INVALID]: 'SGL Offset Invalid',
  [N.SC_LBA_OUT_OF_RANGE]: 'LBA Out of Range',
  [N.SC_CAPACITY_EXCEEDED]: 'Capacity Exceeded',
  [N.SC_NAMESPACE_NOT_READY]: 'Namespace Not Ready',
};

const COMMAND_SPECIFIC: Record<number, string> = {
  [N.SC_COMPLETION_QUEUE_INVALID]: 'Completion Queue Invalid',
  [N.SC_INVALID_QUEUE_IDENTIFIER]: 'Invalid Queue Identifier',
  [N.SC_INVALID_QUEUE_SIZE]: 'Invalid Queue Size',
  [N.SC_ABORT_COMMAND_LIMIT_EXCEEDED]: 'Abort Command Limit Exceeded',
  [N.SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED]: 'Asynchronous Event Request Limit Exceeded',
  [N.SC_INVALID_FIRMWARE_SLOT]: 'Invalid Firmware Slot',
  [N.SC_INVALID_INTERRUPT_VECTOR]: 'Invalid Interrupt Vector',
  [N.SC_INVALID_LOG_PAGE]: 'Invalid Log Page',
  [N.SC_INVALID_FORMAT]: 'Invalid Format',
  [N.SC_INVALID_QUEUE_DELETION]: 'Invalid Queue Deletion',
  [N.SC_FEATURE_NOT_SAVEABLE]: 'Feature Identifier Not Saveable',
  [N.SC_CONFLICTING_ATTRIBUTES]: 'Conflicting Attributes',
  [N.SC_COMPARE_FAILURE]: 'Compare Failure',
};

const MEDIA: Record<number, string> = {
  [N.SC_WRITE_FAULT]: 'Write Fault',
  [N.SC_UNRECOVERED_READ_ERROR]: 'Unrecovered Read Error',
  // Compare Failure is a media and data integrity status, 85h (NVMe 1.4 §4.6.1.2.3).
  [N.SC_COMPARE_FAILURE]: 'Compare Failure',
};

const SCT_NAMES: Record<number, string> = {
  [N.SCT_GENERIC]: 'Generic Command Status',
  [N.SCT_COMMAND_SPECIFIC]: 'Command Specific Status',
  [N.SCT_MEDIA]: 'Media and Data Integrity Errors',
  [N.SCT_PATH]: 'Path Related Status',
  [N.SCT_VENDOR]: 'Vendor Specific',
};

/** The fields of a CQE status (15-bit field of DW3 bits 31:17). */
export interface NvmeStatus {
  /** Status Code Type. */
  sct: number;
  /** Status Code. */
  sc: number;
  /** Command Retry Delay (index into CRDT1..3, 0 = none). */
  crd: number;
  /** More: the Error Information log has more detail. */
  more: boolean;
  /** Do Not Retry. */
  dnr: boolean;
}

/** Splits the 15-bit status field. */
export function decodeStatus(status: number): NvmeStatus {
  return {
    sc: status & NVME.STATUS_SC_MASK,
    sct: (status >> NVME.STATUS_SCT_SHIFT) & NVME.STATUS_SCT_MASK,
    crd: (status >> NVME.STATUS_CRD_SHIFT) & NVME.STATUS_CRD_MASK,
    more: (status & NVME.STATUS_MORE) !== 0,
    dnr: (status & NVME.STATUS_DNR) !== 0,
  };
}

/** The specification's name of a status, e.g. "LBA Out of Range". */
export function statusName(sct: number, sc: number): string {
  const table = sct === N.SCT_GENERIC ? GENERIC : sct === N.SCT_COMMAND_SPECIFIC ? COMMAND_SPECIFIC : sct === N.SCT_MEDIA ? MEDIA : undefined;
  const name = table?.[sc];
  if (name) return name;
  const type = SCT_NAMES[sct] ?? `Status Code Type ${sct}`;
  return `${type} 0x${sc.toString(16).padStart(2, '0')}`;
}

const OPCODE_NAMES: Record<string, string> = {
  [`a${N.ADMIN_DELETE_SQ}`]: 'Delete I/O Submission Queue',
  [`a${N.ADMIN_CREATE_SQ}`]: 'Create I/O Submission Queue',
  [`a${N.ADMIN_GET_LOG_PAGE}`]: 'Get Log Page',
  [`a${N.ADMIN_DELETE_CQ}`]: 'Delete I/O Completion Queue',
  [`a${N.ADMIN_CREATE_CQ}`]: 'Create I/O Completion Queue',
  [`a${N.ADMIN_IDENTIFY}`]: 'Identify',
  [`a${N.ADMIN_ABORT}`]: 'Abort',
  [`a${N.ADMIN_SET_FEATURES}`]: 'Set Features',
  [`a${N.ADMIN_GET_FEATURES}`]: 'Get Features',
  [`a${N.ADMIN_ASYNC_EVENT_REQUEST}`]: 'Asynchronous Event Request',
  [`a${N.ADMIN_FORMAT_NVM}`]: 'Format NVM',
  [`i${N.IO_FLUSH}`]: 'Flush',
  [`i${N.IO_WRITE}`]: 'Write',
  [`i${N.IO_READ}`]: 'Read',
  [`i${N.IO_WRITE_UNCORRECTABLE}`]: 'Write Uncorrectable',
  [`i${N.IO_COMPARE}`]: 'Compare',
  [`i${N.IO_WRITE_ZEROES}`]: 'Write Zeroes',
  [`i${N.IO_DATASET_MANAGEMENT}`]: 'Dataset Management',
  [`i${N.IO_VERIFY}`]: 'Verify',
};

// Per-opcode lookup tables built once, so naming a command costs no string work per IO.
const ADMIN_NAMES: string[] = [];
const IO_NAMES: string[] = [];
for (let op = 0; op < 256; op++) {
  ADMIN_NAMES.push(OPCODE_NAMES[`a${op}`] ?? `admin opcode 0x${op.toString(16).padStart(2, '0')}`);
  IO_NAMES.push(OPCODE_NAMES[`i${op}`] ?? `I/O opcode 0x${op.toString(16).padStart(2, '0')}`);
}

/** Name of an opcode ("Read", "Identify"). */
export function opcodeName(admin: boolean, opcode: number): string {
  return (admin ? ADMIN_NAMES : IO_NAMES)[opcode & 0xff];
}

/** What a failed command was. */
export interface CommandInfo {
  /** Admin (true) or I/O command set. */
  admin: boolean;
  opcode: number;
  /** "Read", "Identify", ... */
  name: string;
  /** Namespace, when the command has one. */
  nsid?: number;
  /** First LBA and block count, for LBA commands. */
  lba?: number;
  blocks?: number;
}

function describe(c: CommandInfo): string {
  let s = c.name;
  if (c.nsid) s += ` on namespace ${c.nsid}`;
  if (c.lba !== undefined && c.blocks) s += ` (LBA ${c.lba}, ${c.blocks} block${c.blocks === 1 ? '' : 's'})`;
  return s;
}

/** The controller completed a command with an error status. */
export class NvmeStatusError extends PhyrError implements NvmeStatus {
  readonly sct: number;
  readonly sc: number;
  readonly crd: number;
  readonly more: boolean;
  readonly dnr: boolean;
  /** The spec's name of the status, e.g. "LBA Out of Range". */
  readonly statusName: string;
  /** The 15-bit status field as received. */
  readonly status: number;
  constructor(
    status: number,
    /** The command that failed. */
    readonly command: CommandInfo,
  ) {
    const d = decodeStatus(status);
    const name = statusName(d.sct, d.sc);
    super(
      'PHYR_NVME_STATUS',
      `${describe(command)} failed: ${name} (SCT ${d.sct}, SC 0x${d.sc.toString(16).padStart(2, '0')}${d.dnr ? ', DNR' : ''}${d.crd ? `, CRD ${d.crd}` : ''})`,
    );
    this.status = status;
    this.sct = d.sct;
    this.sc = d.sc;
    this.crd = d.crd;
    this.more = d.more;
    this.dnr = d.dnr;
    this.statusName = name;
  }
  /** The namespace of the command, if any. */
  get nsid(): number | undefined {
    return this.command.nsid;
  }
}

/**
 * A command did not complete within its timeout. The driver sent an Abort and, when the
 * controller did not abort it, reset the controller; either way the command is over.
 */
export class NvmeTimeoutError extends PhyrError {
  constructor(
    readonly command: CommandInfo,
    readonly timeoutMs: number,
    /** How the driver ended it: 'aborted' (the Abort succeeded) or 'reset'. */
    readonly endedBy: 'aborted' | 'reset' = 'reset',
  ) {
    super(
      'PHYR_NVME_TIMEOUT',
      `${describe(command)} did not complete within ${timeoutMs} ms; ${endedBy === 'aborted' ? 'the controller aborted it (Abort)' : 'the controller was reset'}; it may or may not have executed: retry it`,
    );
  }
}

/**
 * Recovery gave up: the reset attempts failed, or faults kept recurring past the reset
 * budget (OpenOptions.recovery). Every pending and later command fails with this error;
 * close() still works. `cause` is what made the last recovery necessary or fail.
 */
export class ControllerDeadError extends PhyrError {
  constructor(
    /** What the driver was recovering from, e.g. "controller fatal status (CSTS.CFS)". */
    readonly reason: string,
    /** Why it gave up, e.g. "3 reset attempts failed". */
    readonly verdict: string,
    /** The last error seen, if any. */
    override readonly cause?: Error,
  ) {
    super(
      'PHYR_CONTROLLER_DEAD',
      `the controller is dead: ${reason}; ${verdict}${cause ? ` (last: ${cause.message})` : ''}; close it and open it again (check the device)`,
    );
  }
}

/** A bad argument to a public entry point of the controller (options, namespace id, ...). */
export class InvalidArgumentError extends PhyrError {
  constructor(message: string) {
    super('PHYR_INVALID_ARGUMENT', message);
  }
}

/** Describes a value for an error message without dumping it. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : `an object (${(v as object).constructor?.name ?? 'null prototype'})`;
  return typeof v;
}

/** A command was in flight when the controller was reset; it may or may not have executed. */
export class ControllerResetError extends PhyrError {
  constructor(
    readonly command: CommandInfo,
    readonly why: string,
  ) {
    super('PHYR_CONTROLLER_RESET', `${describe(command)} was cancelled by a controller reset (${why}); retry it`);
  }
}

/** The controller reported Controller Fatal Status (CSTS.CFS) or failed to come ready. */
export class ControllerFatalError extends PhyrError {
  constructor(detail: string) {
    super('PHYR_CONTROLLER_FATAL', `controller fatal: ${detail}`);
  }
}

/** The device stopped answering (registers read all-ones, or the function was released). */
export class DeviceGoneError extends PhyrError {
  constructor(detail: string) {
    super('PHYR_DEVICE_GONE', `the device is gone: ${detail}; check that it is still bound to vfio-pci, then open it again`);
  }
}

/** The controller was closed. */
export class ControllerClosedError extends PhyrError {
  constructor(what: string) {
    super('PHYR_CONTROLLER_CLOSED', `${what}: the controller is closed; open it again with phyr.open()`);
  }
}

/** The controller is being reset; the request was not submitted. */
export class ControllerResettingError extends PhyrError {
  constructor(what: string) {
    super('PHYR_CONTROLLER_RESETTING', `${what}: the controller is being reset; retry after controller.reset() settles`);
  }
}

/** Bad input to an IO call, caught before anything was submitted. */
export class InvalidIoError extends PhyrError {
  constructor(message: string) {
    super('PHYR_INVALID_IO', message);
  }
}

/** The data cannot be described by PRP or SGL and cannot be bounced (the reason says why). */
export class DataPointerError extends PhyrError {
  constructor(
    /** Stable reason name from the data-pointer policy, e.g. 'RejectBouncePeer'. */
    readonly reason: string,
    text: string,
  ) {
    super('PHYR_DATA_POINTER', `cannot build a data pointer: ${text}`);
  }
}
