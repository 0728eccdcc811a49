// The PCI-function interface: everything the driver may touch of a device, and nothing
// more. Two implementations stand behind it: the kernel's VFIO (real hardware, or QEMU's
// NVMe in a VM) and the embedded emulated controller. Because the driver sees only these
// four channels — BAR memory, config space, IOMMU map/unmap, interrupt eventfds — a
// driver bug shows up the same way on both.

/** DMA access a mapping grants to the device. */
export interface DmaAccess {
  /** The device may read the memory (host-to-device transfers). */
  read: boolean;
  /** The device may write the memory (device-to-host transfers). */
  write: boolean;
}

/** A contiguous range of device addresses the IOMMU accepts, [start, end] inclusive. */
export interface IovaRange {
  start: number;
  end: number;
}

/** One PCI function reached through an IOMMU. */
export interface PciFunction {
  /** 'emu' for the embedded controller, else the PCI address (e.g. 0000:01:00.0). */
  readonly name: string;
  /** Which implementation stands behind the interface. */
  readonly kind: 'emu' | 'vfio';
  /**
   * BAR `index` mapped into this process. Registers must be accessed through lib/mmio
   * (aligned 32/64-bit loads and stores with explicit ordering), never through a DataView.
   */
  bar(index: number): ArrayBuffer;
  /** Size in bytes of BAR `index`, or 0 when the BAR is absent. */
  barSize(index: number): number;
  /** Reads `size` (1, 2 or 4) bytes of config space at `offset`. */
  configRead(offset: number, size: 1 | 2 | 4): number;
  /** Writes `size` (1, 2 or 4) bytes of config space at `offset`. */
  configWrite(offset: number, size: 1 | 2 | 4, value: number): void;
  /** The device-address ranges the IOMMU accepts (reserved ranges already removed). */
  iovaRanges(): IovaRange[];
  /**
   * Maps `length` bytes of `memory` starting at `offset` at device address `iova`.
   * `memory` must stay alive while mapped (the caller keeps a reference). The host address
   * of byte `offset` and `iova` must have the same offset within a 4 KiB page; VFIO maps
   * the whole pages covering the range, the emulated IOMMU exactly the bytes given.
   */
  dmaMap(memory: ArrayBuffer, offset: number, length: number, iova: number, access: DmaAccess): void;
  /** Removes the mapping [iova, iova + length) made by dmaMap. */
  dmaUnmap(iova: number, length: number): void;
  /**
   * Wires `count` MSI-X vectors to new eventfds and returns their file descriptors
   * (vector i -> fds[i]). Calling it again replaces the previous set.
   */
  enableMsix(count: number): number[];
  /** Releases the function: unmaps everything it mapped, closes fds. Idempotent. */
  close(): void;
}
