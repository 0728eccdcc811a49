// Devices shared by the in-guest cases: opened once, closed after the last case.
import { openVfio, type VfioFunction } from '../../lib/vfio';
import { DmaPool, HugepagesUnavailableError } from '../../lib/dma';
import { memoryNative } from '../../lib/dma/native';
import { atEnd } from './harness';
import { PEER, TARGET } from './topology';

let target: VfioFunction | undefined;
let peer: VfioFunction | undefined;
let huge: ArrayBuffer | undefined;
const pools = new Map<VfioFunction, DmaPool>();

/** A DMA pool on `fn` (hugepages), one per function, closed at the end. */
export function poolFor(fn: VfioFunction): DmaPool {
  let p = pools.get(fn);
  if (!p) {
    p = new DmaPool(fn, { hugepages: 'require' });
    pools.set(fn, p);
    const pool = p;
    atEnd(() => pool.close());
  }
  return p;
}

/**
 * Closes the pool on `fn`. Two DmaPools on one function would hand out the same IOVAs,
 * so a case's pool is closed before the driver (which makes its own) opens the function.
 */
export function closePool(fn: VfioFunction): void {
  pools.get(fn)?.close();
  pools.delete(fn);
}

/** The target controller (opened on first use, in its own new container). */
export function targetFn(): VfioFunction {
  if (!target) {
    target = openVfio(TARGET);
    atEnd(() => target?.close());
  }
  return target;
}

/** The peer controller, opened into the target's container. */
export function peerFn(): VfioFunction {
  if (!peer) {
    peer = openVfio(PEER, { peerOf: targetFn() });
    atEnd(() => peer?.close());
  }
  return peer;
}

/**
 * One 2 MiB hugepage from the DMA memory allocator (addon/memory), held for the whole run
 * (freed with its last reference).
 */
export function hugepage(): ArrayBuffer {
  if (!huge) {
    huge = memoryNative().allocate(2 ** 21, true) ?? undefined;
    if (!huge) throw new HugepagesUnavailableError(2 ** 21);
  }
  return huge;
}

/**
 * Closes every shared device and pool now, so that a case can hand the controllers to
 * another process (a VFIO group has one owner at a time). Later cases reopen on demand.
 */
export function releaseShared(): void {
  for (const fn of [...pools.keys()]) closePool(fn);
  peer?.close();
  peer = undefined;
  target?.close();
  target = undefined;
}
