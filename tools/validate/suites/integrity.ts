// The integrity suite (destructive): data written through the driver comes back exactly,
// block by block, checked by self-describing pattern blocks (pattern.ts) — sequentially
// across the namespace, at random overlapping places, on several queue pairs at once, and
// after a controller reset and a shutdown / re-open. Each case logs its seed, so a failure
// can be reproduced, and names the first damaged blocks and what the damage looks like.
import type { Controller } from '../../../drivers/nvme';
import type { Namespace } from '../../../drivers/nvme';
import type { QueuePair } from '../../../drivers/nvme';
import { NVME } from '../../../spec/nvme';
import { NvmeStatusError } from '../../../drivers/nvme';
import type { DmaBuffer } from '../../../lib/dma/pool';
import { describeError } from '../runner';
import { fillBlocks, prng, verifyBlock, type BlockMismatch } from '../pattern';
import type { CaseOutcome, ValidateCase, ValidateContext } from '../types';
import { driverOf, maxTransferBytes } from './driver-access';
import { chunked, spreadExtents, type Extent } from './extents';
import { runOps, type QueuedOp, type QueueWork } from './qp-io';

/** Bytes each case writes at most (spread across the namespace). */
export const INTEGRITY_BUDGET_BYTES = 8 * 1024 * 1024;
/** Extents the sequential budget is split into. */
const EXTENTS = 8;
/** Commands in flight per queue. */
const DEPTH = 8;

// The run's seed (--seed) when given, so a failure logged with its seed can be replayed;
// otherwise a new one per case.
function newSeed(ctx: ValidateContext): number {
  if (ctx.seed !== undefined) return ctx.seed >>> 0 || 1;
  return (Date.now() * 2654435761 + process.pid) >>> 0 || 1;
}

/** Expected sequence number per LBA written. */
type Written = Map<number, number>;

/** A verification failure: the first few mismatches and how many there were. */
function mismatchOutcome(mismatches: BlockMismatch[], checked: number, sent: string, seed: number): CaseOutcome {
  const kinds = [...new Set(mismatches.map((m) => m.kind))].join(', ');
  return {
    status: 'fail',
    sent,
    expected: 'every block to read back exactly as written (header LBA, sequence and seed, payload, CRC-32)',
    received: `${mismatches.length} of ${checked} block(s) differ (${kinds}); first: ${mismatches[0].message}`,
    detail: [`seed ${seed}`, ...mismatches.slice(1, 5).map((m) => m.message)].join('\n'),
  };
}

/**
 * A command the controller failed (NvmeStatusError from the driver) becomes a failure that
 * names the command and the status; anything else is rethrown to the runner.
 */
export function commandFailure(err: unknown): CaseOutcome {
  if (err instanceof NvmeStatusError) {
    return { status: 'fail', sent: `${err.command.name} nsid=${err.command.nsid ?? '-'} slba=${err.command.lba ?? '-'} blocks=${err.command.blocks ?? '-'}`, expected: 'the command to complete successfully', received: err.message };
  }
  throw err;
}

/** Writes `chunks` (sequence `seq`) through the namespace API, DEPTH at a time. */
async function writeChunks(ns: Namespace, bufs: DmaBuffer[], chunks: readonly Extent[], seqOf: (c: Extent) => number, seed: number, written: Written): Promise<void> {
  for (let i = 0; i < chunks.length; i += bufs.length) {
    const group = chunks.slice(i, i + bufs.length);
    await Promise.all(
      group.map((c, k) => {
        const seq = seqOf(c);
        fillBlocks(bufs[k].bytes, 0, ns.lbaSize, c.lba, c.blocks, seq, seed);
        for (let b = 0; b < c.blocks; b++) written.set(c.lba + b, seq);
        return ns.write(c.lba, bufs[k].toPhyr(0, c.blocks * ns.lbaSize));
      }),
    );
  }
}

/** Reads `chunks` back and checks every block against `written`. */
async function verifyChunks(ns: Namespace, bufs: DmaBuffer[], chunks: readonly Extent[], seed: number, written: Written): Promise<{ mismatches: BlockMismatch[]; checked: number }> {
  const mismatches: BlockMismatch[] = [];
  let checked = 0;
  for (let i = 0; i < chunks.length; i += bufs.length) {
    const group = chunks.slice(i, i + bufs.length);
    await Promise.all(group.map((c, k) => ns.read(c.lba, bufs[k].toPhyr(0, c.blocks * ns.lbaSize))));
    group.forEach((c, k) => {
      for (let b = 0; b < c.blocks; b++) {
        const seq = written.get(c.lba + b);
        if (seq === undefined) continue;
        checked++;
        const bad = verifyBlock(bufs[k].bytes, b * ns.lbaSize, ns.lbaSize, { lba: c.lba + b, sequence: seq, seed });
        if (bad) mismatches.push(bad);
      }
    });
  }
  return { mismatches, checked };
}

interface Plan {
  ctrl: Controller;
  ns: Namespace;
  bufs: DmaBuffer[];
  maxBlocks: number;
  seed: number;
}

/** Allocates the IO buffers of a case and frees them afterwards. */
async function withPlan(ctx: ValidateContext, body: (p: Plan) => Promise<CaseOutcome>): Promise<CaseOutcome> {
  const { ctrl, ns } = driverOf(ctx);
  if (ns.lbaSize < 64) return { status: 'not-applicable', reason: `LBA size ${ns.lbaSize} is too small for pattern blocks` };
  const maxBlocks = Math.max(1, Math.floor(maxTransferBytes(ctrl) / ns.lbaSize));
  const bufs = Array.from({ length: DEPTH }, () => ctrl.pool.alloc(maxBlocks * ns.lbaSize));
  const seed = newSeed(ctx);
  ctx.log(`seed ${seed}, ${ns.lbaSize}-byte blocks, up to ${maxBlocks} block(s) per command, ${DEPTH} in flight`);
  try {
    return await body({ ctrl, ns, bufs, maxBlocks, seed });
  } catch (err) {
    return commandFailure(err);
  } finally {
    for (const b of bufs) b.free();
  }
}

function describeExtents(ns: Namespace, ex: readonly Extent[]): string {
  const shown = ex.slice(0, 4).map((e) => `${e.lba}+${e.blocks}`).join(', ');
  return `Write then Read of ${ex.reduce((s, e) => s + e.blocks, 0)} block(s) on namespace ${ns.nsid} in ${ex.length} extent(s): ${shown}${ex.length > 4 ? ', ...' : ''}`;
}

function budgetBlocks(ns: Namespace): number {
  return Math.max(1, Math.floor(INTEGRITY_BUDGET_BYTES / ns.lbaSize));
}

async function sequentialCase(ctx: ValidateContext): Promise<CaseOutcome> {
  return withPlan(ctx, async ({ ns, bufs, maxBlocks, seed }) => {
    const extents = spreadExtents(ns.blocks, budgetBlocks(ns), EXTENTS);
    const chunks = chunked(extents, maxBlocks);
    const written: Written = new Map();
    await writeChunks(ns, bufs, chunks, () => 1, seed, written);
    const { mismatches, checked } = await verifyChunks(ns, bufs, chunks, seed, written);
    if (mismatches.length) return mismatchOutcome(mismatches, checked, describeExtents(ns, extents), seed);
    return { status: 'pass', detail: `${checked} block(s) in ${extents.length} extent(s) from LBA ${extents[0].lba} to ${extents[extents.length - 1].lba + extents[extents.length - 1].blocks - 1} read back intact` };
  });
}

async function randomCase(ctx: ValidateContext): Promise<CaseOutcome> {
  return withPlan(ctx, async ({ ns, bufs, maxBlocks, seed }) => {
    const rnd = prng(seed);
    const written: Written = new Map();
    const budget = budgetBlocks(ns) / 2;
    // Random extents anywhere in the namespace, overlapping earlier ones on purpose; a
    // group in flight together never overlaps itself (NVMe does not order concurrent
    // commands, NVMe 1.4 §6.3), so the latest sequence per block is well defined.
    const hot = Math.min(ns.blocks, Math.max(maxBlocks * 4, Math.floor(budget / 2)));
    const hotStart = Math.floor(rnd() * (ns.blocks - hot + 1));
    let total = 0;
    let seq = 1;
    const ops: Extent[] = [];
    while (total < budget) {
      const blocks = Math.min(ns.blocks, 1 + Math.floor(rnd() * maxBlocks));
      // Half of the writes land in a small hot region so overwrites happen.
      const inHot = rnd() < 0.5;
      const base = inHot ? hotStart : 0;
      const span = inHot ? hot : ns.blocks;
      const lba = base + Math.floor(rnd() * Math.max(1, span - blocks + 1));
      ops.push({ lba, blocks });
      total += blocks;
    }
    const seqs = new Map<Extent, number>();
    // Group non-overlapping writes.
    for (let i = 0; i < ops.length; ) {
      const group: Extent[] = [];
      while (i < ops.length && group.length < bufs.length && !group.some((g) => g.lba < ops[i].lba + ops[i].blocks && ops[i].lba < g.lba + g.blocks)) {
        seqs.set(ops[i], seq++);
        group.push(ops[i++]);
      }
      await writeChunks(ns, bufs, group, (c) => seqs.get(c)!, seed, written);
    }
    // Read back every written block in a shuffled order.
    const readback = [...ops].sort(() => rnd() - 0.5);
    const { mismatches, checked } = await verifyChunks(ns, bufs, readback, seed, written);
    if (mismatches.length) return mismatchOutcome(mismatches, checked, `${ops.length} random Writes (overlapping, ${seq - 1} sequence numbers) then Reads on namespace ${ns.nsid}`, seed);
    return { status: 'pass', detail: `${ops.length} random writes (${written.size} distinct blocks, overwrites included) read back with their latest data` };
  });
}

async function multiQueueCase(ctx: ValidateContext): Promise<CaseOutcome> {
  const { ctrl, ns } = driverOf(ctx);
  const queues = Math.min(4, ctrl.queuesGranted.sq - 1, ctrl.queuesGranted.cq - 1);
  if (queues < 2) return { status: 'not-applicable', reason: `the controller granted ${ctrl.queuesGranted.sq} IO submission queue(s); several are needed beside the driver's own` };
  const maxBlocks = Math.max(1, Math.floor(maxTransferBytes(ctrl) / ns.lbaSize));
  const seed = newSeed(ctx);
  ctx.log(`seed ${seed}, ${queues} queue pairs, ${DEPTH} commands in flight on each`);
  const qps: QueuePair[] = [];
  const bufs: DmaBuffer[][] = [];
  try {
    for (let q = 0; q < queues; q++) {
      qps.push(await ctrl.createQueuePair({ size: 64 }));
      bufs.push(Array.from({ length: DEPTH }, () => ctrl.pool.alloc(maxBlocks * ns.lbaSize)));
    }
    // Each queue writes its own stripe of extents; then each reads back another queue's stripe.
    const extents = spreadExtents(ns.blocks, budgetBlocks(ns), EXTENTS * queues);
    const stripes = Array.from({ length: queues }, (_, q) => chunked(extents.filter((_, i) => i % queues === q), maxBlocks));
    const failures: string[] = [];
    const mismatches: BlockMismatch[] = [];
    let checked = 0;
    const phase = (write: boolean): QueueWork[] =>
      qps.map((qp, q) => {
        const stripe = stripes[write ? q : (q + 1) % queues];
        // A buffer is taken when its command is submitted and returned when it completes,
        // so no buffer is ever in two commands at once (completions come in any order).
        const free = [...bufs[q]];
        return {
          qp,
          depth: DEPTH,
          ops: stripe.map((c) => {
            const op: QueuedOp = {
              kind: 'io',
              opcode: write ? NVME.IO_WRITE : NVME.IO_READ,
              nsid: ns.nsid,
              lba: c.lba,
              blocks: c.blocks,
              lbaSize: ns.lbaSize,
              bytes: c.blocks * ns.lbaSize,
              before: () => {
                op.buf ??= free.pop();
                if (write && op.buf) fillBlocks(op.buf.bytes, 0, ns.lbaSize, c.lba, c.blocks, q + 1, seed);
              },
              after: (status: number, refused?: string) => {
                const buf = op.buf!;
                op.buf = undefined;
                free.push(buf);
                if (refused || status) {
                  failures.push(`${write ? 'Write' : 'Read'} LBA ${c.lba}+${c.blocks} on queue ${qp.id}: ${refused ?? `status 0x${status.toString(16)}`}`);
                  return;
                }
                if (write) return;
                const writer = (q + 1) % queues;
                for (let b = 0; b < c.blocks; b++) {
                  checked++;
                  const bad = verifyBlock(buf.bytes, b * ns.lbaSize, ns.lbaSize, { lba: c.lba + b, sequence: writer + 1, seed });
                  if (bad) mismatches.push(bad);
                }
              },
            };
            return op;
          }),
        };
      });
    await runOps(phase(true), 60_000);
    if (!failures.length) await runOps(phase(false), 60_000);
    const sent = `${queues} queue pairs (ids ${qps.map((q) => q.id).join(', ')}) each writing ${stripes[0].length}+ command(s) at once, then reading another queue's stripe`;
    if (failures.length) return { status: 'fail', sent, expected: 'every command to complete successfully', received: `${failures.length} command(s) failed; first: ${failures[0]}` };
    if (mismatches.length) return mismatchOutcome(mismatches, checked, sent, seed);
    return { status: 'pass', detail: `${checked} block(s) written on ${queues} queue pairs at once and read back across queues intact` };
  } finally {
    // Deleted on the controller before their buffers go back and the next case starts.
    for (const qp of qps) await qp.close();
    for (const list of bufs) for (const b of list) b.free();
  }
}

/** Writes a spread of extents, flushes, runs `disrupt`, and verifies with the controller it returns. */
async function survivesCase(ctx: ValidateContext, what: string, disrupt: () => Promise<Controller>): Promise<CaseOutcome> {
  const first = driverOf(ctx);
  const maxBlocks = Math.max(1, Math.floor(maxTransferBytes(first.ctrl) / first.ns.lbaSize));
  const seed = newSeed(ctx);
  const written: Written = new Map();
  const extents = spreadExtents(first.ns.blocks, Math.floor(budgetBlocks(first.ns) / 4), EXTENTS);
  const chunks = chunked(extents, maxBlocks);
  ctx.log(`seed ${seed}`);
  let bufs = Array.from({ length: DEPTH }, () => first.ctrl.pool.alloc(maxBlocks * first.ns.lbaSize));
  try {
    await writeChunks(first.ns, bufs, chunks, () => 7, seed, written);
    // Flush commits a volatile write cache (NVMe 1.4 §6.8) so the data must survive.
    await first.ns.flush();
  } catch (err) {
    return commandFailure(err);
  } finally {
    for (const b of bufs) b.free();
  }
  let ctrl: Controller;
  try {
    ctrl = await disrupt();
  } catch (err) {
    return { status: 'fail', sent: what, expected: `the controller to come back after ${what}`, received: describeError(err) };
  }
  const ns = ctrl.namespace(ctx.nsid);
  bufs = Array.from({ length: DEPTH }, () => ctrl.pool.alloc(maxBlocks * ns.lbaSize));
  try {
    const { mismatches, checked } = await verifyChunks(ns, bufs, chunks, seed, written);
    if (mismatches.length) return mismatchOutcome(mismatches, checked, `${describeExtents(ns, extents)}, Flush, ${what}, Read`, seed);
    return { status: 'pass', detail: `${checked} flushed block(s) read back intact after ${what}` };
  } catch (err) {
    return commandFailure(err);
  } finally {
    for (const b of bufs) b.free();
  }
}

/** The integrity cases (all destructive, all through the driver). */
export const integrityCases: ValidateCase[] = [
  {
    id: 'integrity.sequential',
    suite: 'integrity',
    needs: 'driver',
    destructive: true,
    purpose: 'pattern blocks written sequentially across the namespace (first to last LBA) read back intact',
    spec: 'NVMe 1.4 §6.15 (Write), §6.9 (Read)',
    run: sequentialCase,
  },
  {
    id: 'integrity.random',
    suite: 'integrity',
    needs: 'driver',
    destructive: true,
    purpose: 'random, overlapping writes of random sizes read back with the latest data of every block',
    spec: 'NVMe 1.4 §6.15, §6.9',
    run: randomCase,
  },
  {
    id: 'integrity.multi-queue',
    suite: 'integrity',
    needs: 'driver',
    destructive: true,
    purpose: 'several queue pairs writing at once, each stripe read back through another queue, intact',
    spec: 'NVMe 1.4 §4.1 (queues), §6.15, §6.9',
    run: multiQueueCase,
  },
  {
    id: 'integrity.after-reset',
    suite: 'integrity',
    needs: 'driver',
    destructive: true,
    purpose: 'flushed data survives a controller reset (CC.EN 1 -> 0 -> 1)',
    spec: 'NVMe 1.4 §7.3.2 (controller reset), §6.8 (Flush)',
    run: (ctx) => survivesCase(ctx, 'a controller reset', async () => {
      const { ctrl } = driverOf(ctx);
      await ctrl.reset('phyr validate integrity.after-reset');
      return ctrl;
    }),
  },
  {
    id: 'integrity.after-reopen',
    suite: 'integrity',
    needs: 'driver',
    destructive: true,
    purpose: 'flushed data survives a normal shutdown (CC.SHN) and re-initialisation of the controller',
    spec: 'NVMe 1.4 §7.6.2 (shutdown), §7.6.1 (initialization)',
    run: (ctx) => survivesCase(ctx, 'a shutdown and re-open', () => driverOf(ctx).access.reopen()),
  },
];
