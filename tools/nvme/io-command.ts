// One raw NVM command on a queue pair of its own (the batch API), for io-passthru: the
// SQE as given, its data through one pool buffer, the completion reaped by polling.
import { CPL, CPL_STATUS_MASK, NvmeStatusError, opcodeName, type Controller } from '../../drivers/nvme';
import { PhyrError } from '../../lib/errors';

/** DW0 of the completion and the data buffer's bytes afterwards. */
export interface IoCommandResult {
  dw0: number;
  data: Uint8Array;
}

/** Runs `sqe` (an NVM command set SQE) with `bytes` of data (sent from `input` when given); rejects with the NVMe status. */
export async function runIoCommand(ctrl: Controller, sqe: Uint8Array, bytes: number, input: Uint8Array | undefined, timeoutMs: number): Promise<IoCommandResult> {
  const qp = await ctrl.createQueuePair({ size: 2 });
  const buf = bytes ? ctrl.pool.alloc(bytes) : undefined;
  try {
    if (buf && input) buf.bytes.set(input.subarray(0, bytes));
    if (buf) qp.setEntry(0, buf.iova, bytes);
    if (qp.submitRaw(sqe, 0, 0, buf ? 1 : 0, bytes) < 0) throw new Error('the passthru queue is full');
    const info = { admin: false, opcode: sqe[0], name: opcodeName(false, sqe[0]), nsid: new DataView(sqe.buffer, sqe.byteOffset).getUint32(4, true) };
    const deadline = Date.now() + timeoutMs;
    while (qp.reap() === 0) {
      if (Date.now() > deadline) throw new PhyrError('PHYR_NVME_PASSTHRU_TIMEOUT', `${info.name} did not complete within ${timeoutMs} ms; its queue is deleted on the way out`);
      await new Promise((r) => setImmediate(r));
    }
    const status = qp.completions[CPL.STATUS_FLAGS] & CPL_STATUS_MASK;
    if (status !== 0) throw new NvmeStatusError(status, info);
    return { dw0: qp.completions[CPL.DW0] >>> 0, data: buf ? new Uint8Array(buf.bytes) : new Uint8Array(0) };
  } finally {
    await qp.close();
    buf?.free();
  }
}
