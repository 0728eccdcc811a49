// A BAR of a VFIO device mapped in a process that did not open the device: a served client
// (docs/SERVE.md) receives the daemon's device fd over SCM_RIGHTS with the offset of the
// part of BAR0 it may use (the doorbell page), maps that part and drops the descriptor at
// once. The mapping stays valid without the fd (the kernel holds the device file for it),
// so the client keeps no handle that could reset the device or reach its config space.
import { VfioError } from './errors';
import { vfioNative } from './native';

/** Where another process maps part of a BAR: the device fd's mmap offset and length. */
export interface SharedRegionWindow {
  /** mmap offset in the device fd: the BAR's region offset plus the byte offset in the BAR. */
  offset: number;
  /** Bytes to map (whole pages). */
  length: number;
}

/**
 * Maps `window` of the VFIO device whose fd `receivedFd` came from another process. The
 * fd is checked to be a VFIO PCI device fd; it stays the caller's to close (a duplicate is
 * used and closed here). Throws VfioError PHYR_VFIO_SHARED_REGION naming what failed.
 */
export function mapSharedRegion(receivedFd: number, window: SharedRegionWindow): ArrayBuffer {
  const n = vfioNative();
  let fd: number;
  try {
    fd = n.adoptDeviceFd(receivedFd);
  } catch (err) {
    throw new VfioError('PHYR_VFIO_SHARED_REGION', `the descriptor sent as the controller's is not usable: ${(err as Error).message}`);
  }
  try {
    return n.mmapRegion(fd, window.offset, window.length);
  } catch (err) {
    throw new VfioError('PHYR_VFIO_SHARED_REGION', `cannot map ${window.length} bytes at device offset 0x${window.offset.toString(16)}: ${(err as Error).message}`);
  } finally {
    n.closeFd(fd);
  }
}
