// Admin command SQEs (NVMe 1.4 §5), built as 64-byte arrays for the raw submission path.
// Data pointers are filled in natively from the command's phyr entries (always PRP).
import { NVME } from '../../spec/nvme';

/** Fields of an admin SQE besides the data pointer. */
export interface AdminFields {
  nsid?: number;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  cdw15?: number;
}

/** A 64-byte SQE with opcode and command dwords (CID is set natively). */
export function adminSqe(opcode: number, f: AdminFields = {}): Uint8Array {
  const sqe = new Uint8Array(NVME.SQE_SIZE);
  const w = new Uint32Array(sqe.buffer);
  w[0] = opcode;
  w[1] = f.nsid ?? 0;
  w[10] = f.cdw10 ?? 0;
  w[11] = f.cdw11 ?? 0;
  w[12] = f.cdw12 ?? 0;
  w[13] = f.cdw13 ?? 0;
  w[14] = f.cdw14 ?? 0;
  w[15] = f.cdw15 ?? 0;
  return sqe;
}

/** Identify (§5.15): CNS in CDW10 bits 7:0. */
export function identifySqe(cns: number, nsid = 0): Uint8Array {
  return adminSqe(NVME.ADMIN_IDENTIFY, { nsid, cdw10: cns });
}

/** Set Features Number of Queues (§5.21.1.7): 0's based counts, NSQR 15:0, NCQR 31:16. */
export function setNumberOfQueuesSqe(sq: number, cq: number): Uint8Array {
  return adminSqe(NVME.ADMIN_SET_FEATURES, { cdw10: NVME.FEAT_NUMBER_OF_QUEUES, cdw11: ((sq - 1) & 0xffff) | (((cq - 1) & 0xffff) << 16) });
}

/** Create I/O Completion Queue (§5.3): physically contiguous, optional interrupt vector. */
export function createCqSqe(qid: number, size: number, vector: number): Uint8Array {
  const ien = vector >= 0 ? 2 : 0;
  return adminSqe(NVME.ADMIN_CREATE_CQ, { cdw10: (qid | ((size - 1) << 16)) >>> 0, cdw11: (1 | ien | (Math.max(vector, 0) << 16)) >>> 0 });
}

/** Create I/O Submission Queue (§5.4): physically contiguous, bound to CQ `cqid`. */
export function createSqSqe(qid: number, size: number, cqid: number): Uint8Array {
  return adminSqe(NVME.ADMIN_CREATE_SQ, { cdw10: (qid | ((size - 1) << 16)) >>> 0, cdw11: (1 | (cqid << 16)) >>> 0 });
}

/**
 * Doorbell Buffer Config (NVMe 2.0 §5.8; 1.4 §5.7): PRP1 is the shadow doorbell buffer,
 * PRP2 the EventIdx buffer, each one memory page — not a PRP pair of one transfer, so
 * they are written here and the command is sent without data.
 */
export function doorbellBufferConfigSqe(shadowIova: number, eventIdxIova: number): Uint8Array {
  const sqe = adminSqe(NVME.ADMIN_DOORBELL_BUFFER_CONFIG);
  const w = new Uint32Array(sqe.buffer);
  const DPTR_WORD = 6; // SQE dwords 6-9: PRP1, PRP2 (§4.2)
  [shadowIova, eventIdxIova].forEach((iova, i) => {
    w[DPTR_WORD + 2 * i] = iova >>> 0;
    w[DPTR_WORD + 2 * i + 1] = Math.floor(iova / 0x1_0000_0000);
  });
  return sqe;
}

/** Delete I/O Submission / Completion Queue (§5.5, §5.6). */
export function deleteQueueSqe(sq: boolean, qid: number): Uint8Array {
  return adminSqe(sq ? NVME.ADMIN_DELETE_SQ : NVME.ADMIN_DELETE_CQ, { cdw10: qid });
}

/** Abort (§5.1): SQID 15:0, CID 31:16. */
export function abortSqe(sqid: number, cid: number): Uint8Array {
  return adminSqe(NVME.ADMIN_ABORT, { cdw10: (sqid | (cid << 16)) >>> 0 });
}
