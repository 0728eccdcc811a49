// The VFIO legacy container: one IOMMU domain (type1v2) that holds one or more IOMMU
// groups. Devices opened into the same container share IOVAs, which is what lets one
// controller DMA into another's BAR (peer-to-peer). The container owns the IOVA space:
// each device gets its own window of it (its iovaRanges), and extra mappings such as a
// peer's BAR take their IOVA from what is left.
import * as fs from 'fs';
import type { DmaAccess, IovaRange } from '../pci/function';
import { devPath } from '../sysfs/root';
import { iommuGroupMembers, pciMmioRanges, readPciDevice } from '../sysfs/pci';
import type { DmaBackend } from './backend';
import { groupBusy, groupNotViable, iovaExhausted, noVfio, permissionDenied, VfioError } from './errors';
import { requireVfio } from './preflight';
import { RangeAllocator, subtractRanges } from '../dma/iova';
import { vfioNative, type NativeSysError } from './native';

const VFIO_TYPE1_IOMMU = 1;
const VFIO_TYPE1V2_IOMMU = 3;
/** The MSI doorbell window x86 reserves (the kernel reports it too; kept as a fallback). */
const X86_MSI_WINDOW: IovaRange = { start: 0xfee00000, end: 0xfeefffff };

/** Opens a VFIO node, turning errno into advice. */
export function openVfioNode(path: string): number {
  try {
    return vfioNative().openPath(path);
  } catch (err) {
    const code = (err as NativeSysError).code;
    if (code === 'EACCES' || code === 'EPERM') throw permissionDenied(path);
    if (code === 'EBUSY') throw groupBusy(path);
    if (code === 'ENOENT' && path === devPath('vfio', 'vfio')) throw noVfio();
    throw new VfioError('PHYR_VFIO_OPEN', `cannot open ${path}: ${(err as Error).message}`);
  }
}

interface AttachedGroup {
  fd: number;
  users: number;
}

/** A VFIO container with a type1 IOMMU. */
export class VfioContainer implements DmaBackend {
  readonly kind = 'type1' as const;
  /** 'type1v2' normally; 'type1' on kernels without v2. */
  iommuType: 'type1v2' | 'type1' | null = null;
  readonly fd: number;
  private readonly groups = new Map<number, AttachedGroup>();
  private allocator: RangeAllocator | null = null;
  private ranges: IovaRange[] = [];
  private closed = false;
  /** Smallest IOMMU page size (every mapping is aligned to it). */
  minPageSize = 4096;

  private readonly closeWhenEmpty: boolean;

  /** `closeWhenEmpty`: close the container when its last group is released (implicit containers). */
  constructor(options: { closeWhenEmpty?: boolean } = {}) {
    this.closeWhenEmpty = options.closeWhenEmpty ?? false;
    requireVfio();
    this.fd = openVfioNode(devPath('vfio', 'vfio'));
    try {
      const caps = vfioNative().containerCaps(this.fd);
      if (caps.apiVersion !== 0) throw new VfioError('PHYR_VFIO_API', `unknown VFIO API version ${caps.apiVersion} (phyr speaks version 0)`);
      if (!caps.type1v2 && !caps.type1) throw new VfioError('PHYR_VFIO_API', 'this kernel offers no type1 IOMMU for VFIO: load vfio_iommu_type1');
      this.iommuType = caps.type1v2 ? 'type1v2' : 'type1';
    } catch (err) {
      vfioNative().closeFd(this.fd);
      throw err;
    }
  }

  /** The IOMMU group numbers attached. */
  groupNumbers(): number[] {
    return [...this.groups.keys()];
  }

  /** Attaches IOMMU group `group` (idempotent per group; counted) and returns its fd. */
  attachGroup(group: number): number {
    this.assertOpen();
    const have = this.groups.get(group);
    if (have) {
      have.users++;
      return have.fd;
    }
    const path = devPath('vfio', String(group));
    if (!fs.existsSync(path)) {
      throw new VfioError('PHYR_VFIO_NO_GROUP', `${path} does not exist: bind the group's devices to vfio-pci first (\`phyr setup --bind BDF\`)`);
    }
    const fd = openVfioNode(path);
    try {
      const st = vfioNative().groupStatus(fd);
      if (!st.viable) {
        const others = iommuGroupMembers(group)
          .map((bdf) => ({ bdf, driver: readPciDevice(bdf)?.driver ?? null }))
          .filter((d) => d.driver !== null && d.driver !== 'vfio-pci' && d.driver !== 'pcieport');
        throw groupNotViable(group, others);
      }
      vfioNative().groupSetContainer(fd, this.fd);
      if (this.groups.size === 0) this.setIommu();
    } catch (err) {
      vfioNative().closeFd(fd);
      throw err;
    }
    this.groups.set(group, { fd, users: 1 });
    return fd;
  }

  /** Drops one user of `group`; the last one detaches it and closes its fd. */
  releaseGroup(group: number): void {
    const g = this.groups.get(group);
    if (!g || --g.users > 0) return;
    this.groups.delete(group);
    try {
      vfioNative().groupUnsetContainer(g.fd);
    } catch (err) {
      // EINVAL: the group is no longer in a container. The kernel detaches it itself once
      // its last device is gone (a hot unplug that waited for this close), which is the
      // state this call asks for, so it is not an error of the close.
      // EBUSY: a device of the group is still open elsewhere — another process maps part
      // of its BAR (a phyr serve client's doorbell page, docs/SERVE.md). The kernel
      // detaches the group when that last mapping goes; this process is done with it.
      const code = (err as { code?: string }).code;
      if (code !== 'EINVAL' && code !== 'EBUSY') throw err;
    } finally {
      vfioNative().closeFd(g.fd);
      if (this.groups.size === 0 && this.closeWhenEmpty && !this.closed) {
        this.closed = true;
        vfioNative().closeFd(this.fd);
      }
    }
  }

  private setIommu(): void {
    vfioNative().setIommu(this.fd, this.iommuType === 'type1v2' ? VFIO_TYPE1V2_IOMMU : VFIO_TYPE1_IOMMU);
    const info = vfioNative().iommuInfo(this.fd);
    this.minPageSize = info.minPageSize || 4096;
    // Kernels before 5.4 report no IOVA ranges: assume a 39-bit space without the MSI window.
    const reported = info.ranges.length ? info.ranges : [{ start: 0, end: 2 ** 39 - 1 }];
    const reserved = [X86_MSI_WINDOW, ...pciMmioRanges(), { start: 0, end: 0xfffff }];
    this.ranges = subtractRanges(reported, reserved);
    this.allocator = new RangeAllocator(this.ranges);
  }

  /** The usable IOVA ranges of the container (reported ranges minus MSI and PCI MMIO). */
  iovaRanges(): IovaRange[] {
    return this.ranges.map((r) => ({ ...r }));
  }

  /** Takes `size` bytes of IOVA space (aligned) out of the container's free space. */
  allocIova(size: number, align = 2 ** 21): number {
    this.assertOpen();
    if (!this.allocator) throw new VfioError('PHYR_VFIO_STATE', 'the container has no group yet, so no IOMMU is set');
    const start = this.allocator.tryAlloc(size, align);
    if (start < 0) throw iovaExhausted(size, this.allocator.largestFree());
    return start;
  }

  /** Returns IOVA space taken by allocIova (the whole allocation: `size` is checked). */
  freeIova(iova: number, size: number): void {
    this.allocator?.release(iova, size);
  }

  map(memory: ArrayBuffer, offset: number, length: number, iova: number, access: DmaAccess): void {
    this.assertOpen();
    if (!this.allocator) throw new VfioError('PHYR_VFIO_STATE', 'the container has no group yet, so no IOMMU is set');
    try {
      vfioNative().mapDma(this.fd, memory, offset, length, iova, access.read, access.write);
    } catch (err) {
      const e = err as NativeSysError;
      if (e.code === 'ENOSPC') throw new VfioError('PHYR_VFIO_MAP_LIMIT', 'the IOMMU refused another mapping (ENOSPC: the per-container mapping limit, vfio_iommu_type1 dma_entry_limit, is reached)');
      if (e.code === 'EEXIST') throw new VfioError('PHYR_VFIO_MAP_OVERLAP', `IOVA 0x${iova.toString(16)}+${length} overlaps an existing mapping`);
      if (e.code === 'ENOMEM') throw new VfioError('PHYR_VFIO_MAP_LOCK', 'the IOMMU could not pin the memory (ENOMEM): raise the locked-memory limit (ulimit -l) or run as root');
      throw err;
    }
  }

  unmap(iova: number, length: number): void {
    this.assertOpen();
    vfioNative().unmapDma(this.fd, iova, length);
  }

  /** Closes the container (its groups must have been released). Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const g of [...this.groups.keys()]) {
      const entry = this.groups.get(g);
      if (entry) entry.users = 1;
      this.releaseGroup(g);
    }
    this.closed = true;
    vfioNative().closeFd(this.fd);
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new VfioError('PHYR_VFIO_CLOSED', 'the VFIO container is closed');
  }
}
