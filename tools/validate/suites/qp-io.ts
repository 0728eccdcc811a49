// Driving the driver's batch queue pairs (controller.createQueuePair) from validate cases:
// several queue pairs at once for the integrity suite, and single commands whose fields
// the driver's Namespace API would refuse to send (out-of-range LBAs, unknown namespaces,
// reserved opcodes) for the errors suite. Commands go through the driver's data plane:
// request slots, one native submit per batch, completions reaped from the shared array.
import { CPL, CPL_STATUS_MASK, CPL_WORDS, REQ, REQ_WORDS, RESULT_CODE_MASK, SubmitResult } from '../../../drivers/nvme';
import type { QueuePair } from '../../../drivers/nvme';
import type { DmaBuffer } from '../../../lib/dma/pool';

/** One command for runOps. */
export interface QueuedOp {
  /** 'io': an LBA command (setIo); 'raw': CDW10/11 given raw (setRaw). */
  kind: 'io' | 'raw';
  opcode: number;
  nsid: number;
  lba?: number;
  blocks?: number;
  lbaSize?: number;
  cdw10?: number;
  cdw11?: number;
  /** Data buffer (its first `bytes` bytes), or none. */
  buf?: DmaBuffer;
  bytes?: number;
  /** Called before submission (e.g. to fill the buffer). */
  before?(): void;
  /** Called with the 15-bit status (or a submission refusal) when the command ends. */
  after(status: number, refused?: string): void;
}

/** One queue pair's list of commands. */
export interface QueueWork {
  qp: QueuePair;
  ops: QueuedOp[];
  /** Commands in flight at most (default 8). */
  depth?: number;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const REFUSALS: Record<number, string> = {
  [SubmitResult.QUEUE_FULL]: 'queue full',
  [SubmitResult.NEED_LIST_PAGES]: 'needs more list pages',
  [SubmitResult.BOUNCE]: 'needs a bounce buffer',
  [SubmitResult.REJECT]: 'rejected by the data plane',
  [SubmitResult.INVALID]: 'invalid request',
  [SubmitResult.EXCLUSIVE]: 'queue pair busy',
};

/**
 * Runs every queue's commands, all queues at once, each with up to `depth` in flight.
 * Resolves when all completed; rejects when `timeoutMs` passes first.
 */
export async function runOps(work: readonly QueueWork[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state = work.map((w) => ({ w, next: 0, inflight: new Map<number, QueuedOp>(), depth: Math.max(1, Math.min(w.depth ?? 8, w.qp.slots, w.qp.capacity)) }));
  for (;;) {
    let pending = 0;
    for (const s of state) {
      const { qp } = s.w;
      // Fill free slots: request slot i uses arena entry i.
      let n = 0;
      const batch: QueuedOp[] = [];
      while (s.next < s.w.ops.length && s.inflight.size + n < s.depth) {
        const op = s.w.ops[s.next];
        const tag = s.next;
        op.before?.();
        const count = op.buf ? 1 : 0;
        if (op.buf) qp.setEntry(n, op.buf.iova, op.bytes ?? op.buf.size);
        if (op.kind === 'io') qp.setIo(n, op.opcode, op.nsid, op.lba ?? 0, op.blocks ?? 0, op.lbaSize ?? 512, n, count, tag);
        else qp.setRaw(n, op.opcode, op.nsid, op.cdw10 ?? 0, op.cdw11 ?? 0, n, count, op.bytes ?? 0, tag);
        batch.push(op);
        s.next++;
        n++;
      }
      if (n) {
        const processed = qp.submitBatch(0, n);
        for (let i = 0; i < n; i++) {
          const result = qp.requests[i * REQ_WORDS + REQ.RESULT] & RESULT_CODE_MASK;
          const tag = qp.requests[i * REQ_WORDS + REQ.TAG];
          if (i < processed && result === SubmitResult.OK) s.inflight.set(tag, batch[i]);
          else if (i >= processed || result === SubmitResult.QUEUE_FULL) s.next = Math.min(s.next, tag); // retried on the next pass
          else batch[i].after(-1, REFUSALS[result] ?? `submission result ${result}`);
        }
      }
      const got = qp.reap();
      for (let i = 0; i < got; i++) {
        const w = i * CPL_WORDS;
        const tag = qp.completions[w + CPL.TAG];
        const op = s.inflight.get(tag);
        if (!op) continue;
        s.inflight.delete(tag);
        op.after(qp.completions[w + CPL.STATUS_FLAGS] & CPL_STATUS_MASK);
      }
      pending += s.inflight.size + (s.w.ops.length - s.next);
    }
    if (!pending) return;
    if (Date.now() > deadline) throw new Error(`queue pair IO did not finish within ${timeoutMs} ms (${pending} command(s) outstanding)`);
    await tick();
  }
}

/** Runs one command on `qp` and returns its status (−1 with the reason when the data plane refused it). */
export async function runOne(qp: QueuePair, op: Omit<QueuedOp, 'after'>, timeoutMs: number): Promise<{ status: number; refused?: string }> {
  let result: { status: number; refused?: string } = { status: -1, refused: 'never completed' };
  await runOps([{ qp, ops: [{ ...op, after: (status, refused) => (result = { status, refused }) }], depth: 1 }], timeoutMs);
  return result;
}
