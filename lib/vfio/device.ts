// A PCI function opened through VFIO: the real-hardware implementation of PciFunction.
// Open order: the device's IOMMU group is attached to a container (set up with a type1
// IOMMU on the first group), the device fd is taken from the group, the device is reset
// when VFIO offers a reset, memory space and bus mastering are enabled in the command
// register, and the device is checked to answer (config space and BAR0 not all-ones).
import { PCI } from '../../spec/pci';
import type { DmaAccess, IovaRange, PciFunction } from '../pci/function';
import { barReadsAllOnes } from './alive';
import { VfioContainer } from './container';
import { deviceGone, memoryDisabled, VfioError } from './errors';
import { preflight } from './preflight';
import { vfioNative, type NativeRegionInfo, type NativeSysError } from './native';

/** linux/vfio.h: region and IRQ indices of a vfio-pci device. */
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
const BAR_COUNT = 6;

/** How to open a device. */
export interface VfioOpenOptions {
  /** Open into this container (one IOMMU domain with the devices already in it). */
  container?: VfioContainer;
  /** Open into the same container as this function (peer-to-peer). */
  peerOf?: VfioFunction;
  /** Reset the device on open when VFIO offers a reset (default true). */
  reset?: boolean;
  /** Bytes of IOVA space reserved for this device's iovaRanges() (default 64 GiB, less if the space is smaller). */
  iovaWindow?: number;
}

/** What open found out, for reports. */
export interface VfioDeviceReport {
  bdf: string;
  iommuGroup: number;
  backend: 'type1';
  iommuType: string | null;
  canReset: boolean;
  /** 'done', 'unsupported', 'skipped' or the error text. */
  reset: string;
  msixVectors: number;
  regions: NativeRegionInfo[];
}

/** A vfio-pci device behind the PciFunction interface. */
export class VfioFunction implements PciFunction {
  readonly kind = 'vfio' as const;
  readonly name: string;
  readonly container: VfioContainer;
  readonly iommuGroup: number;
  readonly report: VfioDeviceReport;
  private readonly deviceFd: number;
  private readonly regions: NativeRegionInfo[];
  private readonly configOffset: number;
  private readonly bars = new Map<number, ArrayBuffer>();
  private readonly mappings = new Map<number, number>(); // iova -> length
  private msixFds: number[] = [];
  private window: IovaRange | null = null;
  private closed = false;

  constructor(bdf: string, options: VfioOpenOptions = {}) {
    this.name = bdf;
    const dev = preflight(bdf);
    this.iommuGroup = dev.iommuGroup;
    this.container = options.container ?? options.peerOf?.container ?? new VfioContainer({ closeWhenEmpty: true });
    const n = vfioNative();
    const groupFd = this.container.attachGroup(this.iommuGroup);
    try {
      this.deviceFd = n.groupDeviceFd(groupFd, bdf);
    } catch (err) {
      this.container.releaseGroup(this.iommuGroup);
      throw new VfioError('PHYR_VFIO_DEVICE', `cannot get ${bdf} from its VFIO group: ${(err as Error).message}`);
    }
    try {
      const info = n.deviceInfo(this.deviceFd);
      this.regions = [];
      for (let i = 0; i < BAR_COUNT; i++) this.regions.push(n.regionInfo(this.deviceFd, i));
      this.configOffset = n.regionInfo(this.deviceFd, VFIO_PCI_CONFIG_REGION_INDEX).offset;
      let reset = info.canReset ? 'done' : 'unsupported';
      if (info.canReset && options.reset === false) reset = 'skipped';
      else if (info.canReset) {
        try {
          n.reset(this.deviceFd);
        } catch (err) {
          reset = (err as Error).message;
        }
      }
      this.checkConfigAlive();
      const cmd = this.configRead(PCI.CFG_COMMAND, 2);
      this.configWrite(PCI.CFG_COMMAND, 2, cmd | PCI.COMMAND_MEMORY | PCI.COMMAND_BUS_MASTER | PCI.COMMAND_INTX_DISABLE);
      this.report = {
        bdf,
        iommuGroup: this.iommuGroup,
        backend: 'type1',
        iommuType: this.container.iommuType,
        canReset: info.canReset,
        reset,
        msixVectors: n.irqInfo(this.deviceFd, VFIO_PCI_MSIX_IRQ_INDEX).count,
        regions: this.regions,
      };
      this.window = this.reserveWindow(options.iovaWindow ?? 64 * 2 ** 30);
    } catch (err) {
      n.closeFd(this.deviceFd);
      this.container.releaseGroup(this.iommuGroup);
      throw err;
    }
  }

  private reserveWindow(want: number): IovaRange {
    for (let size = want; size >= 2 ** 24; size /= 4) {
      try {
        const start = this.container.allocIova(size, 2 ** 21);
        return { start, end: start + size - 1 };
      } catch (err) {
        if ((err as VfioError).code !== 'PHYR_VFIO_IOVA_EXHAUSTED') throw err;
      }
    }
    return { start: this.container.allocIova(2 ** 24), end: 0 }; // throws IOVA exhausted
  }

  bar(index: number): ArrayBuffer {
    this.assertOpen();
    const have = this.bars.get(index);
    if (have) return have;
    const r = this.region(index);
    if (r.size === 0) throw new VfioError('PHYR_VFIO_NO_BAR', `${this.name} has no BAR ${index}`);
    if (!r.mmap) throw new VfioError('PHYR_VFIO_NO_MMAP', `${this.name} BAR ${index} cannot be mmap'd through VFIO`);
    let buf: ArrayBuffer;
    try {
      buf = vfioNative().mmapRegion(this.deviceFd, r.offset, r.size);
    } catch (err) {
      const areas = r.sparse?.map((a) => `0x${a.offset.toString(16)}+0x${a.size.toString(16)}`).join(', ');
      throw new VfioError('PHYR_VFIO_MMAP', `mmap of ${this.name} BAR ${index} failed: ${(err as Error).message}${areas ? ` (only ${areas} may be mapped)` : ''}`);
    }
    this.bars.set(index, buf);
    return buf;
  }

  /**
   * What another process needs to map bytes [start, start + length) of BAR `index` (whole
   * pages): this function's device fd, to send (never to close: it stays this function's),
   * and the mmap offset and length in it. phyr serve hands a client its doorbell page so.
   */
  shareBar(index: number, start: number, length: number): { fd: number; offset: number; length: number } {
    this.assertOpen();
    const r = this.region(index);
    const page = 4096;
    if (!r.mmap) throw new VfioError('PHYR_VFIO_NO_MMAP', `${this.name} BAR ${index} cannot be mmap'd through VFIO`);
    if (start % page !== 0 || length <= 0 || length % page !== 0 || start + length > r.size) {
      throw new RangeError(`BAR ${index} bytes [0x${start.toString(16)}, +0x${length.toString(16)}) must be whole 4 KiB pages inside its 0x${r.size.toString(16)} bytes`);
    }
    return { fd: this.deviceFd, offset: r.offset + start, length };
  }

  barSize(index: number): number {
    return this.region(index).size;
  }

  /** Region info of BAR `index` (flags, size, sparse-mmap areas). */
  region(index: number): NativeRegionInfo {
    if (!Number.isInteger(index) || index < 0 || index >= BAR_COUNT) throw new RangeError(`BAR index ${index} must be 0..5`);
    return this.regions[index];
  }

  configRead(offset: number, size: 1 | 2 | 4): number {
    this.assertOpen();
    return vfioNative().configRead(this.deviceFd, this.configOffset, offset, size);
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.assertOpen();
    vfioNative().configWrite(this.deviceFd, this.configOffset, offset, size, value);
  }

  iovaRanges(): IovaRange[] {
    return this.window ? [{ ...this.window }] : [];
  }

  dmaMap(memory: ArrayBuffer, offset: number, length: number, iova: number, access: DmaAccess): void {
    this.assertOpen();
    if (this.mappings.has(iova)) throw new VfioError('PHYR_VFIO_MAP_OVERLAP', `IOVA 0x${iova.toString(16)} is already mapped by ${this.name}`);
    this.container.map(memory, offset, length, iova, access);
    this.mappings.set(iova, length);
  }

  dmaUnmap(iova: number, length: number): void {
    this.assertOpen();
    if (this.mappings.get(iova) !== length) throw new VfioError('PHYR_VFIO_NOT_MAPPED', `${this.name} has no mapping of ${length} bytes at IOVA 0x${iova.toString(16)}`);
    this.container.unmap(iova, length);
    this.mappings.delete(iova);
  }

  enableMsix(count: number): number[] {
    this.assertOpen();
    const max = this.report.msixVectors;
    if (!Number.isInteger(count) || count < 0 || count > max) throw new RangeError(`MSI-X vector count ${count} must be 0..${max} (what ${this.name} offers)`);
    const n = vfioNative();
    const fds: number[] = [];
    try {
      for (let i = 0; i < count; i++) fds.push(n.eventfd());
      // Disable first: the kernel does not let an enabled MSI-X index grow in place.
      if (this.msixFds.length) n.setIrqEventfds(this.deviceFd, VFIO_PCI_MSIX_IRQ_INDEX, 0, []);
      if (count) n.setIrqEventfds(this.deviceFd, VFIO_PCI_MSIX_IRQ_INDEX, 0, fds);
    } catch (err) {
      for (const fd of fds) n.closeFd(fd);
      throw err;
    }
    for (const fd of this.msixFds) n.closeFd(fd);
    this.msixFds = fds;
    return [...fds];
  }

  /**
   * Throws PHYR_DEVICE_GONE when config space or BAR0 reads all-ones, and
   * PHYR_DEVICE_DISABLED when memory decoding is off (VFIO then revokes the BAR mapping:
   * touching it would raise SIGBUS, so the command register is checked first).
   */
  checkAlive(): void {
    this.checkConfigAlive();
    const cmd = this.configRead(PCI.CFG_COMMAND, 2);
    if (!(cmd & PCI.COMMAND_MEMORY)) throw memoryDisabled(this.name, cmd);
    if (this.barSize(0) >= 8 && barReadsAllOnes(this.bar(0))) throw deviceGone(this.name, 'BAR0');
  }

  private checkConfigAlive(): void {
    if (this.configRead(PCI.CFG_VENDOR_ID, 4) === 0xffffffff) throw deviceGone(this.name, 'config space');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const n = vfioNative();
    const errors: unknown[] = [];
    const attempt = (f: () => void): void => {
      try {
        f();
      } catch (err) {
        errors.push(err);
      }
    };
    if (this.msixFds.length) attempt(() => n.setIrqEventfds(this.deviceFd, VFIO_PCI_MSIX_IRQ_INDEX, 0, []));
    for (const fd of this.msixFds) attempt(() => n.closeFd(fd));
    this.msixFds = [];
    for (const [iova, length] of this.mappings) attempt(() => this.container.unmap(iova, length));
    this.mappings.clear();
    if (this.window) attempt(() => this.container.freeIova(this.window!.start, this.window!.end - this.window!.start + 1));
    for (const buf of this.bars.values()) attempt(() => n.unmapBuffer(buf));
    this.bars.clear();
    attempt(() => n.closeFd(this.deviceFd));
    attempt(() => this.container.releaseGroup(this.iommuGroup));
    if (errors.length) throw errors[0];
  }

  private assertOpen(): void {
    if (this.closed) throw new VfioError('PHYR_VFIO_CLOSED', `${this.name} is closed`);
  }
}

/** Is this error a native errno error with `code`? */
export const isErrno = (err: unknown, code: string): boolean => (err as NativeSysError)?.code === code;
