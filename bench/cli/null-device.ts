// The device-less bench target (`phyr bench null`): no controller, no DMA pool, no
// registers. Each job thread gets the driver's real queue pair over a loopback controller
// (bench/native/loopback.h) and plain memory for its buffers; the runner sees the same
// BenchDevice interface as for a real target and calls no controller API.
import { BenchConfigError, BenchOptionError } from './errors';
import type { JobSpec } from './job';
import { benchNative } from './native';
import { describeNullTarget, NULL_TARGET_MAX_QUEUE, NULL_TARGET_MAX_TRANSFER, parseNullTarget } from './null-target';
import type { BenchBuffer, BenchQueue } from './runner';
import type { BenchTarget } from './target';

const PAGE = 4096;
// Device addresses the driver writes into PRPs and SGLs: page-aligned, never dereferenced
// (the loopback reads no data pointer), and apart from each other per buffer.
const ADDRESS_BASE = 2 ** 40;

/**
 * Refuses what cannot mean anything without a device: data read back (any --verify: the
 * loopback stores nothing, so nothing written can be checked) and device memory
 * (--mem=cmb, --mem=p2p: there is no controller and no peer).
 */
export function refuseOnNullTarget(jobs: JobSpec[]): void {
  for (const j of jobs) {
    if (j.verify !== 'none') {
      throw new BenchConfigError(
        `job '${j.name}': --verify=${j.verify} cannot mean anything on the null target: it has no device and stores nothing, so no data can be read back or checked; ` +
          'drop --verify to measure the driver and the engine, or verify on emu:backend=ram (or a real device)',
        'PHYR_BENCH_UNSUPPORTED_OPTION',
      );
    }
    if (j.mem.kind !== 'pool') {
      const what = j.mem.kind === 'cmb' ? 'a controller memory buffer' : "a peer device's BAR";
      throw new BenchConfigError(`job '${j.name}': --mem=${j.mem.kind === 'p2p' ? `p2p:${j.mem.bdf}` : 'cmb'} needs ${what}, and the null target has no controller; use --mem=pool`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
    }
  }
}

/** Opens the null target for `jobs` (throws a BenchConfigError for a bad target or a job it cannot run). */
export function openNullDevice(target: string, jobs: JobSpec[]): BenchTarget {
  const o = parseNullTarget(target);
  refuseOnNullTarget(jobs);
  const native = benchNative();
  let nextAddress = ADDRESS_BASE;
  const open = new Set<{ close(): void }>();
  return {
    facts: { description: describeNullTarget(o), iommuFaults: () => null, noDevice: true },
    namespace(nsid) {
      if (nsid !== 1) throw new BenchOptionError('nsid', String(nsid), 'the null target has one namespace, 1');
      return { nsid, lbaSize: o.lbaSize, blocks: o.bytes / o.lbaSize };
    },
    maxQueueSize: () => NULL_TARGET_MAX_QUEUE,
    registers: () => null,
    createQueue(size, dptr): BenchQueue {
      // The loopback claims byte-aligned SGL support (it reads no data pointer), so auto,
      // prp and sgl each make the driver build what it would on a device offering both.
      const q = new native.LoopbackQueue({ qsize: size, sglSupport: dptr === 'prp' ? 0 : 1, preferSgl: dptr === 'sgl', maxTransfer: NULL_TARGET_MAX_TRANSFER });
      open.add(q);
      return {
        native: q,
        capacity: q.capacity,
        close: () => {
          q.close();
          open.delete(q);
        },
      };
    },
    allocBuffer(bytes): BenchBuffer {
      // Plain memory: the engine writes trim ranges (and write patterns) there; no device reads it.
      const span = Math.ceil(bytes / PAGE) * PAGE;
      const iova = nextAddress;
      nextAddress += span + PAGE;
      return { bytes: new Uint8Array(span), iova, flags: 0, free: () => undefined };
    },
    async close() {
      for (const q of open) q.close();
      open.clear();
    },
  };
}
