// Command and response capsules of NVMe over Fabrics: the fields of a 64-byte SQE a fabric
// target reads, the one SGL descriptor a fabric host puts in DPTR, and the 16-byte CQE it
// answers with (NVMe-oF §2.1, §2.2; NVMe 1.4 §4.2, §4.4, §4.6).
import { NVME } from '../spec/nvme';
import { NVMF } from '../spec/nvmf';

/** A status the target answers with: SCT and SC, with DNR set unless `retry`. */
export interface FabricStatus {
  sct: number;
  sc: number;
  retry?: boolean;
}

/** Thrown by a backend to complete the command with this status. */
export class FabricStatusError extends Error {
  constructor(
    readonly sct: number,
    readonly sc: number,
  ) {
    super(`status SCT ${sct} SC ${sc}`);
    this.name = 'FabricStatusError';
  }
}

export const SUCCESS: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_SUCCESS };
export const invalidField: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_INVALID_FIELD };
export const invalidOpcode: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_INVALID_OPCODE };
export const commandSequenceError: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_COMMAND_SEQUENCE_ERROR };

/** The 15-bit status field (NVMe 1.4 §4.6.1): SC 7:0, SCT 10:8, DNR 14. */
export function statusField(s: FabricStatus): number {
  if (s.sct === NVME.SCT_GENERIC && s.sc === NVME.SC_SUCCESS) return 0;
  return (s.sc & NVME.STATUS_SC_MASK) | ((s.sct & NVME.STATUS_SCT_MASK) << NVME.STATUS_SCT_SHIFT) | (s.retry ? 0 : NVME.STATUS_DNR);
}

/** The fields of a command capsule's SQE a target uses. */
export interface FabricCommand {
  sqe: Buffer;
  opcode: number;
  cid: number;
  nsid: number;
  /** FCTYPE when opcode is the Fabrics opcode, else -1. */
  fctype: number;
  sgl: SglDescriptor;
}

/** DPTR as one SGL descriptor (NVMe 1.4 §4.4): a fabric host sends exactly one. */
export interface SglDescriptor {
  /** Byte 15: type 7:4, subtype 3:0. */
  id: number;
  address: number;
  length: number;
}

export const dword = (sqe: Buffer, n: number): number => sqe.readUInt32LE(n * 4);

/** A little-endian u64 as a number (exact below 2^53), read without a BigInt: this runs
 *  once per command. */
export const u64le = (b: Buffer, at: number): number => b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 2 ** 32;

export function parseCommand(sqe: Buffer): FabricCommand {
  const opcode = sqe[0];
  const dptr = 24;
  return {
    sqe,
    opcode,
    cid: sqe.readUInt16LE(2),
    nsid: sqe.readUInt32LE(4),
    fctype: opcode === NVMF.OPC_FABRICS ? sqe[NVMF.SQE_FCTYPE] : -1,
    sgl: { id: sqe[dptr + 15], address: u64le(sqe, dptr), length: sqe.readUInt32LE(dptr + 8) },
  };
}

/** Which way a command moves data: opcode (or FCTYPE) bits 1:0 (NVMe 1.4 §5 Figure 139,
 *  NVMe-oF §3): 01b host to controller, 10b controller to host, 00b none. */
export function dataDirection(cmd: FabricCommand): 'none' | 'in' | 'out' | 'both' {
  const code = (cmd.fctype >= 0 ? cmd.fctype : cmd.opcode) & 0x3;
  return code === 1 ? 'in' : code === 2 ? 'out' : code === 3 ? 'both' : 'none';
}

/** A response capsule's CQE (NVMe 1.4 §4.6): DW0, DW1, SQHD, SQID, CID, status. The phase
 *  bit has no meaning on a fabric and is 0 (NVMe-oF §2.2). */
export function completion(cmd: { cid: number }, status: FabricStatus, sqhd: number, sqid: number, dw0 = 0, dw1 = 0): Buffer {
  const cqe = Buffer.alloc(NVME.CQE_SIZE);
  cqe.writeUInt32LE(dw0 >>> 0, 0);
  cqe.writeUInt32LE(dw1 >>> 0, 4);
  cqe.writeUInt16LE(sqhd, 8);
  cqe.writeUInt16LE(sqid, 10);
  cqe.writeUInt16LE(cmd.cid, 12);
  cqe.writeUInt16LE(statusField(status) << 1, 14);
  return cqe;
}
