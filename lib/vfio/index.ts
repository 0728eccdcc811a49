// VFIO: real PCI functions behind the PciFunction interface, several per IOMMU domain,
// and peer-device BAR memory as DMA targets.
import { normaliseBdf } from '../pci/bdf';
import { VfioFunction, type VfioOpenOptions } from './device';

export { VfioContainer } from './container';
export { VfioFunction, type VfioOpenOptions, type VfioDeviceReport } from './device';
export { detectBackend, type BackendReport, type DmaBackend } from './backend';
export { VfioError } from './errors';

/** Opens the vfio-pci device at `bdf` (see VfioOpenOptions for containers and reset). */
export function openVfio(bdf: string, options: VfioOpenOptions = {}): VfioFunction {
  return new VfioFunction(normaliseBdf(bdf), options);
}

export { mapPeerBar, type PeerBarMapping } from './peer';
export { preflight } from './preflight';
export { mapSharedRegion, type SharedRegionWindow } from './shared-region';
