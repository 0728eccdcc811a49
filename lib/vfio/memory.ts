// Process memory for DMA at the VFIO layer: 2 MiB hugepages (MAP_HUGETLB) or locked 4 KiB
// pages, as external ArrayBuffers that stay at one address until unmapMemory (or GC).
// The DMA pool (lib/dma) is the normal way to get DMA memory; this is its raw material
// and what the VFIO tests use directly.
import { PhyrError } from '../errors';
import { vfioNative, type NativeSysError } from './native';

/** The hugepage size the VFIO layer maps. */
export const HUGEPAGE_SIZE = 2 ** 21;

/** Maps `size` bytes (a multiple of 2 MiB) of hugepage memory, or says how to reserve some. */
export function mapHugepages(size: number): ArrayBuffer {
  if (!Number.isSafeInteger(size) || size <= 0 || size % HUGEPAGE_SIZE !== 0) {
    throw new PhyrError('PHYR_VFIO_BAD_ARGUMENT', `hugepage mapping size ${String(size)} must be a positive multiple of 2 MiB`);
  }
  try {
    return vfioNative().mapAnonymous(size, true);
  } catch (err) {
    if ((err as NativeSysError).code === 'ENOMEM') {
      throw new PhyrError(
        'PHYR_NO_HUGEPAGES',
        `no ${size / HUGEPAGE_SIZE} free 2 MiB hugepages: reserve some with \`phyr setup --hugepages N\` ` +
          '(or `echo N > /proc/sys/vm/nr_hugepages` as root)',
      );
    }
    throw err;
  }
}

/** Maps `size` bytes (a multiple of 4 KiB) of locked ordinary memory. */
export function mapLockedPages(size: number): ArrayBuffer {
  if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) {
    throw new PhyrError('PHYR_VFIO_BAD_ARGUMENT', `mapping size ${String(size)} must be a positive multiple of 4096`);
  }
  try {
    return vfioNative().mapAnonymous(size, false);
  } catch (err) {
    if ((err as NativeSysError).code === 'EAGAIN' || (err as NativeSysError).code === 'ENOMEM') {
      throw new PhyrError('PHYR_NO_LOCKED_MEMORY', `cannot lock ${size} bytes: raise the locked-memory limit (ulimit -l) or run as root`);
    }
    throw err;
  }
}

/**
 * Unmaps memory from mapHugepages/mapLockedPages now; the ArrayBuffer becomes detached.
 * Refused (PHYR_VFIO_STILL_MAPPED) while a DMA mapping still owns the memory: dmaUnmap first.
 */
export function unmapMemory(buffer: ArrayBuffer): void {
  if (!(buffer instanceof ArrayBuffer)) throw new PhyrError('PHYR_VFIO_BAD_ARGUMENT', 'unmapMemory needs an ArrayBuffer from mapHugepages or mapLockedPages');
  try {
    vfioNative().unmapBuffer(buffer);
  } catch (e) {
    if (/still DMA-mapped/.test((e as Error).message)) {
      throw new PhyrError('PHYR_VFIO_STILL_MAPPED', 'unmapMemory: the memory is still DMA-mapped (a device may write it); dmaUnmap it first');
    }
    throw e;
  }
}
