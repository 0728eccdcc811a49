// The VFIO room's slice of the native addon (addon/vfio/vfio_napi.cc). Every function
// validates its arguments and throws an Error carrying `errno`, `code` and `syscall`.
import { addonRoom } from '../native';

/** Region info from VFIO_DEVICE_GET_REGION_INFO. */
export interface NativeRegionInfo {
  index: number;
  flags: number;
  readable: boolean;
  writable: boolean;
  /** The region may be mmap'd (wholly, or the `sparse` areas only). */
  mmap: boolean;
  size: number;
  /** File offset of the region in the device fd. */
  offset: number;
  /** The mmap-able areas when the kernel reports a sparse-mmap capability, else null. */
  sparse: { offset: number; size: number }[] | null;
  /** The kernel allows mmap of the MSI-X table area (interrupt remapping present). */
  msixMappable: boolean;
}

/** The native VFIO functions. */
export interface VfioNative {
  openPath(path: string): number;
  closeFd(fd: number): void;
  containerCaps(containerFd: number): { apiVersion: number; type1: boolean; type1v2: boolean };
  setIommu(containerFd: number, type: number): void;
  iommuInfo(containerFd: number): { minPageSize: number; ranges: { start: number; end: number }[]; dmaAvailable: number };
  groupStatus(groupFd: number): { viable: boolean; containerSet: boolean };
  groupSetContainer(groupFd: number, containerFd: number): void;
  groupUnsetContainer(groupFd: number): void;
  groupDeviceFd(groupFd: number, name: string): number;
  /** A registered duplicate of a VFIO PCI device fd received from another process (checked to be one). */
  adoptDeviceFd(fd: number): number;
  deviceInfo(deviceFd: number): { flags: number; numRegions: number; numIrqs: number; canReset: boolean; isPci: boolean };
  regionInfo(deviceFd: number, index: number): NativeRegionInfo;
  irqInfo(deviceFd: number, index: number): { flags: number; count: number };
  reset(deviceFd: number): void;
  setIrqEventfds(deviceFd: number, index: number, start: number, eventfds: number[]): void;
  /** Returns the number of bytes mapped (whole 4 KiB pages). */
  mapDma(containerFd: number, memory: ArrayBuffer, offset: number, length: number, iova: number, read: boolean, write: boolean): number;
  /** Returns the number of bytes unmapped. */
  unmapDma(containerFd: number, iova: number, length: number): number;
  mmapRegion(deviceFd: number, offset: number, size: number): ArrayBuffer;
  unmapBuffer(buffer: ArrayBuffer): void;
  configRead(deviceFd: number, regionOffset: number, offset: number, size: number): number;
  configWrite(deviceFd: number, regionOffset: number, offset: number, size: number, value: number): void;
  eventfd(): number;
  readEventfd(fd: number): number;
}

let cached: VfioNative | undefined;
/** The native functions (the addon is loaded on first use). */
export function vfioNative(): VfioNative {
  return (cached ??= addonRoom<VfioNative>('vfio'));
}

/** An error thrown by the native layer. */
export interface NativeSysError extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}
