// Adapts the driver (drivers/nvme) to what the benchmark runner needs: namespaces, queue
// pairs of a chosen size, DMA buffers for the data, and the target's description. The
// benchmark reaches the device only through the driver's public API.
import * as fs from 'fs';
import { open, type Controller } from '../../drivers/nvme';
import { normaliseBdf, targetKind } from '../../lib/pci/open';
import { PhyrFlags } from '../../lib/phyr';
import { BenchConfigError } from './errors';
import type { JobSpec } from './job';
import type { BenchBuffer, BenchDevice, BenchQueue } from './runner';

/** Facts about the target for the report. */
export interface TargetFacts {
  description: string;
  iommuFaults(): number;
}

/** An open target ready for the runner. */
export interface OpenBenchDevice extends BenchDevice {
  readonly controller: Controller;
  readonly facts: TargetFacts;
  close(): Promise<void>;
}

interface EmuExtras {
  kind: 'emu';
  faultCount(): number;
}

/** Describes the target the way the report prints it (an emulated run must never pass for a disk). */
export function describeTarget(ctrl: Controller): string {
  const id = ctrl.identify;
  if (ctrl.fn.kind === 'emu') return `the embedded emulated controller (software, not a disk): ${id.mn.trim()} sn ${id.sn.trim()}`;
  return `NVMe controller ${ctrl.fn.name}: ${id.mn.trim()} sn ${id.sn.trim()} fw ${id.fr.trim()}`;
}

/** Opens `target` for the given jobs (their --dptr and --mem must agree with what it offers). */
export async function openBenchDevice(target: string, jobs: JobSpec[]): Promise<OpenBenchDevice> {
  const dptrs = new Set(jobs.map((j) => j.dptr));
  if (dptrs.has('sgl')) {
    throw new BenchConfigError('--dptr=sgl is not available yet: the driver chooses SGL per command by its policy (--dptr=auto) and offers no way to force it for a PRP-able buffer; use --dptr=auto or --dptr=prp', 'PHYR_BENCH_UNSUPPORTED_OPTION');
  }
  if (dptrs.has('prp') && dptrs.has('auto')) throw new BenchConfigError('jobs of one run must agree on --dptr (prp or auto): the data-pointer policy is chosen when the controller is opened');
  for (const j of jobs) {
    if (j.mem.kind !== 'pool') {
      throw new BenchConfigError(`job '${j.name}': --mem=${j.mem.kind === 'p2p' ? `p2p:${j.mem.bdf}` : 'cmb'} is not available yet: the driver does not expose ${j.mem.kind === 'cmb' ? 'the controller memory buffer' : 'peer BAR memory'} as DMA buffers; use --mem=pool`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
    }
  }
  if (targetKind(target) === 'vfio') {
    const bdf = normaliseBdf(target);
    if (!fs.existsSync(`/sys/bus/pci/devices/${bdf}`)) {
      throw new BenchConfigError(`there is no PCI device ${bdf} on this machine; \`phyr list\` shows the NVMe controllers (or use the embedded controller: emu)`, 'PHYR_BENCH_NO_TARGET');
    }
  }
  const ctrl = await open(target, { sgl: !dptrs.has('prp') });
  const fn = ctrl.fn as typeof ctrl.fn & Partial<EmuExtras>;
  const flags = ctrl.pool.usingHugepages ? PhyrFlags.HUGEPAGE : 0;
  return {
    controller: ctrl,
    facts: {
      description: describeTarget(ctrl),
      iommuFaults: () => (typeof fn.faultCount === 'function' ? fn.faultCount() : 0),
    },
    namespace(nsid) {
      const ns = ctrl.namespace(nsid);
      return { nsid, lbaSize: ns.lbaSize, blocks: ns.blocks };
    },
    maxQueueSize: () => ctrl.cap.maxQueueEntries,
    async createQueue(size): Promise<BenchQueue> {
      const qp = await ctrl.createQueuePair({ size });
      return { native: qp.native, capacity: qp.capacity, close: () => qp.close() };
    },
    allocBuffer(bytes): BenchBuffer {
      const b = ctrl.pool.alloc(bytes, { align: 4096 });
      return { bytes: b.bytes, iova: b.iova, flags, free: () => b.free() };
    },
    close: () => ctrl.close(),
  };
}
