// Adapts the driver (drivers/nvme) to what the benchmark runner needs: namespaces, queue
// pairs of a chosen size, DMA buffers for the data, and the target's description. The
// benchmark reaches the device only through the driver's public API.
import * as fs from 'fs';
import { CmbUnavailableError, type Controller } from '../../drivers/nvme';
import { open } from '../../targets/open';
import { RangeAllocator } from '../../lib/dma';
import type { EmuFunction } from '../../emu';
import type { PciFunction } from '../../lib/pci/function';
import { openVfio, type VfioFunction } from '../../lib/vfio';
import { normaliseBdf, targetKind } from '../../targets';
import { PhyrFlags } from '../../lib/phyr';
import { BenchConfigError, BenchOptionError } from './errors';
import { modeTraits, type JobSpec } from './job';
import { slotBytesOf } from './plan';
import { openNullDevice } from './null-device';
import type { BenchTarget } from './target';
import { groupJobs, type BenchBuffer, type BenchQueue } from './runner';

export type { BenchTarget, TargetFacts } from './target';

const PAGE = 4096;

/** An open device (a controller behind the target). */
export interface OpenBenchDevice extends BenchTarget {
  readonly controller: Controller;
}

/**
 * Opens any bench target: `null[:...]` without a controller (bench/cli/null-device.ts),
 * anything else as a device (openBenchDevice).
 */
export async function openBenchTarget(target: string, jobs: JobSpec[], options: { shadowDoorbells?: boolean } = {}): Promise<BenchTarget> {
  if (targetKind(target) === 'null') return openNullDevice(target, jobs);
  return openBenchDevice(target, jobs, options);
}

interface EmuExtras {
  kind: 'emu';
  faultCount(): number;
}

/** Describes the target the way the report prints it (an emulated run must never pass for a disk). */
export function describeTarget(ctrl: Controller): string {
  const id = ctrl.identify;
  if (ctrl.fn.kind === 'emu') return `the embedded emulated controller (software, not a disk): ${id.mn.trim()} sn ${id.sn.trim()}`;
  return `NVMe controller ${ctrl.fn.name}: ${id.mn.trim()} sn ${id.sn.trim()} fw ${id.fr.trim()}${ctrl.shadowDoorbells ? ', shadow doorbells' : ''}`;
}

/** Bytes the data buffers of `jobs` take at once (one group of jobs runs at a time). */
function deviceMemoryNeed(jobs: JobSpec[], kind: 'cmb' | 'p2p'): number {
  let most = 0;
  for (const group of groupJobs(jobs)) {
    let sum = 0;
    for (const j of group) {
      if (j.mem.kind !== kind) continue;
      sum += j.numjobs * j.iodepth * slotBytesOf(j);
    }
    most = Math.max(most, sum);
  }
  return most;
}

/** Device memory (a CMB or a peer's BAR) carved into job buffers. */
interface DeviceMemoryArena {
  iova: number;
  size: number;
  flags: number;
  space: RangeAllocator;
  what: string;
}

function arenaBuffer(a: DeviceMemoryArena, bytes: number): BenchBuffer {
  const offset = a.space.tryAlloc(Math.ceil(bytes / PAGE) * PAGE, PAGE);
  if (offset < 0) throw new BenchConfigError(`${a.what} (${a.size} bytes) has no room left for another ${bytes}-byte job buffer; lower --iodepth, --bs or --numjobs`);
  return { bytes: null, iova: a.iova + offset, flags: a.flags, free: () => a.space.release(offset) };
}

/** Opens `target` for the given jobs (their --dptr and --mem must agree with what it offers). */
export async function openBenchDevice(target: string, jobs: JobSpec[], options: { shadowDoorbells?: boolean } = {}): Promise<OpenBenchDevice> {
  if (targetKind(target) === 'null') throw new BenchConfigError(`'${target}' has no controller to open; open it with openBenchTarget`, 'PHYR_BENCH_BAD_TARGET');
  const p2pPeers = new Set(jobs.flatMap((j) => (j.mem.kind === 'p2p' ? [`${j.mem.bdf},bar=${j.mem.bar}`] : [])));
  if (p2pPeers.size > 1) throw new BenchConfigError(`jobs of one run must share one peer for --mem=p2p (got ${[...p2pPeers].join(' and ')})`);
  if (targetKind(target) === 'vfio') {
    const bdf = normaliseBdf(target);
    if (!fs.existsSync(`/sys/bus/pci/devices/${bdf}`)) {
      throw new BenchConfigError(`there is no PCI device ${bdf} on this machine; \`phyr list\` shows the NVMe controllers (or use the embedded controller: emu)`, 'PHYR_BENCH_NO_TARGET');
    }
  }
  const ctrl = await open(target, { shadowDoorbells: options.shadowDoorbells ?? true });
  const cleanups: Array<() => void> = [];
  try {
    const fn = ctrl.fn as typeof ctrl.fn & Partial<EmuExtras>;
    if (fn.kind === 'emu') refuseVerifyWithoutData(fn as EmuFunction, jobs);
    if (jobs.some((j) => j.dptr === 'sgl') && ctrl.queueCapsFor('sgl').sglSupport === 0) {
      throw new BenchConfigError(`--dptr=sgl needs a controller with SGL support and ${describeTarget(ctrl)} reports none; use --dptr=auto or --dptr=prp${fn.kind === 'emu' ? ' (or give the embedded controller SGL: emu:sgl=on)' : ''}`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
    }
    const arenas: Partial<Record<'cmb' | 'p2p', DeviceMemoryArena>> = {};
    const cmbNeed = deviceMemoryNeed(jobs, 'cmb');
    if (cmbNeed > 0) arenas.cmb = await openCmbArena(ctrl, jobs, cmbNeed);
    const p2p = jobs.find((j) => j.mem.kind === 'p2p')?.mem;
    if (p2p?.kind === 'p2p') arenas.p2p = openPeerArena(ctrl, p2p, deviceMemoryNeed(jobs, 'p2p'), cleanups);
    const flags = ctrl.pool.usingHugepages ? PhyrFlags.HUGEPAGE : 0;
    return {
      controller: ctrl,
      facts: {
        description: describeTarget(ctrl),
        iommuFaults: () => (typeof fn.faultCount === 'function' ? fn.faultCount() : 0),
      },
      namespace(nsid) {
        // A namespace the controller does not have is a bad --nsid (exit 2), found before IO.
        if (!ctrl.namespaces().some((n) => n.nsid === nsid)) {
          throw new BenchOptionError('nsid', String(nsid), `namespace ${nsid} is not active on this controller (active: ${ctrl.namespaces().map((n) => n.nsid).join(', ') || 'none'})`);
        }
        const ns = ctrl.namespace(nsid);
        return { nsid, lbaSize: ns.lbaSize, blocks: ns.blocks };
      },
      maxQueueSize: () => ctrl.cap.maxQueueEntries,
      registers: () => ctrl.fn.bar(0),
      async createQueue(size, dptr): Promise<BenchQueue> {
        const qp = await ctrl.createQueuePair({ size, dptr });
        return { native: qp.native, capacity: qp.capacity, close: () => qp.close() };
      },
      allocBuffer(bytes, mem): BenchBuffer {
        if (mem.kind !== 'pool') return arenaBuffer(arenas[mem.kind] as DeviceMemoryArena, bytes);
        const b = ctrl.pool.alloc(bytes, { align: PAGE });
        return { bytes: b.bytes, iova: b.iova, flags, free: () => b.free() };
      },
      async close() {
        try {
          await ctrl.close();
        } finally {
          for (const c of cleanups.reverse()) c();
        }
      },
    };
  } catch (e) {
    await ctrl.close().catch(() => undefined);
    for (const c of cleanups.reverse()) c();
    throw e;
  }
}

// emu:backend=nodata moves no data: a read leaves the buffer as it was, so a verify
// header read back would be whatever that buffer last held, and a check would pass or fail
// by accident. verify=null checks nothing and may run.
function refuseVerifyWithoutData(fn: EmuFunction, jobs: JobSpec[]): void {
  if (fn.options.backend !== 'nodata') return;
  const j = jobs.find((x) => x.verify !== 'none' && x.verify !== 'null');
  if (!j) return;
  throw new BenchConfigError(
    `job '${j.name}': --verify=${j.verify} cannot check data on emu:backend=nodata, which moves no data (a read leaves the host buffer as it was, so every check would read back whatever the buffer last held); ` +
      'verify on emu:backend=ram (or file:PATH), or drop --verify to measure without data movement',
    'PHYR_BENCH_UNSUPPORTED_OPTION',
  );
}

// --mem=cmb: the target's own controller memory buffer; reads need CMBSZ.RDS, writes WDS.
async function openCmbArena(ctrl: Controller, jobs: JobSpec[], need: number): Promise<DeviceMemoryArena> {
  let cmb;
  try {
    cmb = await ctrl.enableCmb();
  } catch (e) {
    if (!(e instanceof CmbUnavailableError)) throw e;
    throw new BenchConfigError(`--mem=cmb: ${e.message}; use --mem=pool${ctrl.fn.kind === 'emu' ? ' (or give the embedded controller one: emu:cmb=64M)' : ''}`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
  }
  for (const j of jobs) {
    if (j.mem.kind !== 'cmb') continue;
    const { reads, writes } = modeTraits(j.rw);
    if (reads && !cmb.readData) throw new BenchConfigError(`job '${j.name}': the CMB does not take read data (CMBSZ.RDS = 0); use --mem=pool`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
    if (writes && !cmb.writeData) throw new BenchConfigError(`job '${j.name}': the CMB does not take write data (CMBSZ.WDS = 0); use --mem=pool`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
  }
  if (need > cmb.size) {
    throw new BenchConfigError(`--mem=cmb: the jobs need ${need} bytes of buffers at once (numjobs x iodepth x bs) but the CMB holds ${cmb.size}; lower --iodepth, --bs or --numjobs`);
  }
  return { iova: cmb.iova, size: cmb.size, flags: PhyrFlags.CMB, space: new RangeAllocator([{ start: 0, end: cmb.size - 1 }]), what: 'the CMB' };
}

// --mem=p2p:BDF[,bar=N]: a window of another device's BAR, mapped into the target's IOMMU
// domain. On the embedded controller the peer is a second embedded controller with a CMB
// (p2p:emu), attached to the same IOMMU table.
function openPeerArena(ctrl: Controller, mem: { bdf: string; bar: number }, need: number, cleanups: Array<() => void>): DeviceMemoryArena {
  let peer: PciFunction;
  let bar = mem.bar;
  if (mem.bdf === 'emu') {
    if (ctrl.fn.kind !== 'emu') throw new BenchConfigError('--mem=p2p:emu needs the embedded controller as the target; give the peer\'s PCI address instead');
    const size = Math.min(2 ** 30, Math.max(2 ** 20, Math.ceil(need / 2 ** 20) * 2 ** 20));
    peer = (ctrl.fn as EmuFunction).attachPeer(`emu:backend=null,size=16M,cmb=${size}`);
    bar = 2;
  } else {
    if (ctrl.fn.kind !== 'vfio') throw new BenchConfigError(`--mem=p2p:${mem.bdf} needs a VFIO target in the same IOMMU domain; with the embedded controller use --mem=p2p:emu`);
    if (!fs.existsSync(`/sys/bus/pci/devices/${mem.bdf}`)) throw new BenchConfigError(`--mem=p2p: there is no PCI device ${mem.bdf} on this machine`, 'PHYR_BENCH_NO_TARGET');
    peer = openVfio(mem.bdf, { peerOf: ctrl.fn as VfioFunction, reset: false });
  }
  cleanups.push(() => peer.close());
  const size = peer.barSize(bar);
  if (size === 0) throw new BenchConfigError(`--mem=p2p:${mem.bdf}: the peer has no BAR ${bar}; name one with ,bar=N`);
  if (need > size) throw new BenchConfigError(`--mem=p2p:${mem.bdf}: the jobs need ${need} bytes of buffers at once but BAR ${bar} holds ${size}; lower --iodepth, --bs or --numjobs`);
  const window = ctrl.pool.mapDeviceMemory(peer.bar(bar), 0, size, PhyrFlags.PEER_TO_PEER);
  cleanups.push(() => {
    try {
      window.release();
    } catch {
      // the controller's pool was closed first and unmapped it
    }
  });
  return { iova: window.iova, size, flags: PhyrFlags.PEER_TO_PEER, space: new RangeAllocator([{ start: 0, end: size - 1 }]), what: `BAR ${bar} of ${peer.name}` };
}
