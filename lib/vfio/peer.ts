// Peer-device BAR memory as a DMA target: a window of another device's BAR (an NVMe CMB,
// for one) mapped into the IOMMU domain both devices share, described by phyr entries
// flagged PEER_TO_PEER.
import { PhyrArray, PhyrFlags } from '../phyr';
import type { DmaAccess } from '../pci/function';
import { VfioError } from './errors';

/** What mapPeerBar needs of the peer: its BAR and its container. */
export interface PeerDevice {
  bar(index: number): ArrayBuffer;
  readonly container: {
    allocIova(size: number, align?: number): number;
    freeIova(iova: number, size: number): void;
    map(memory: ArrayBuffer, offset: number, length: number, iova: number, access: DmaAccess): void;
    unmap(iova: number, length: number): void;
    readonly isClosed: boolean;
  };
}

/** A window of a peer's BAR mapped for DMA in the peer's container. */
export interface PeerBarMapping {
  /** Device address of the window's first byte (valid for every device in the container). */
  readonly iova: number;
  readonly length: number;
  /** The whole window as phyr entries flagged PEER_TO_PEER. */
  readonly phyr: PhyrArray;
  /** CPU view of the window (uncached MMIO: for verification only, never a staging buffer). */
  readonly view: ArrayBuffer;
  readonly offset: number;
  /** Unmaps the window and returns its IOVA space. Idempotent. */
  release(): void;
}

/**
 * Maps [offset, offset+length) of `peer`'s BAR `bar` into the peer's container, so any
 * device in that container can DMA into it (NVMe CMB of another controller, for one).
 */
export function mapPeerBar(peer: PeerDevice, bar: number, options: { offset?: number; length?: number } = {}): PeerBarMapping {
  const view = peer.bar(bar);
  const offset = options.offset ?? 0;
  const length = options.length ?? view.byteLength - offset;
  if (!Number.isInteger(offset) || offset < 0 || offset % 4096 !== 0) throw new VfioError('PHYR_VFIO_PEER', `peer BAR offset ${offset} must be a multiple of 4096`);
  if (!Number.isInteger(length) || length <= 0 || offset + length > view.byteLength) {
    throw new VfioError('PHYR_VFIO_PEER', `peer BAR window ${offset}+${length} does not fit BAR ${bar} (${view.byteLength} bytes)`);
  }
  const size = Math.ceil(length / 4096) * 4096;
  const iova = peer.container.allocIova(size, 4096);
  try {
    peer.container.map(view, offset, size, iova, { read: true, write: true });
  } catch (err) {
    peer.container.freeIova(iova, size);
    throw err;
  }
  let live = true;
  return {
    iova,
    length,
    offset,
    view,
    phyr: PhyrArray.from([{ addr: iova, len: length, flags: PhyrFlags.PEER_TO_PEER }]),
    release() {
      if (!live) return;
      live = false;
      if (!peer.container.isClosed) {
        peer.container.unmap(iova, size);
        peer.container.freeIova(iova, size);
      }
    },
  };
}
