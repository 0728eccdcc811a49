// Which IOMMU backend VFIO offers here. The legacy container (/dev/vfio/vfio with a type1
// IOMMU) is what phyr drives today; iommufd (/dev/iommu with per-device cdevs
// /dev/vfio/devices/vfioN, Linux >= 6.6) is detected and reported so a second backend can
// be added beside the container without touching the device code: VfioFunction talks to
// its IOMMU only through the DmaBackend interface below.
import * as fs from 'fs';
import { devPath } from '../sysfs/root';
import type { DmaAccess, IovaRange } from '../pci/function';

/** The IOMMU side of a VFIO device: what VfioFunction needs from a backend. */
export interface DmaBackend {
  /** 'type1' (legacy container) or, later, 'iommufd'. */
  readonly kind: 'type1' | 'iommufd';
  /** Ranges the IOMMU accepts, reserved ranges (MSI window, PCI MMIO) removed. */
  iovaRanges(): IovaRange[];
  map(memory: ArrayBuffer, offset: number, length: number, iova: number, access: DmaAccess): void;
  unmap(iova: number, length: number): void;
}

/** What this machine offers. */
export interface BackendReport {
  /** The backend phyr uses. */
  using: 'type1' | 'none';
  /** /dev/vfio/vfio exists (legacy container API). */
  legacyContainer: boolean;
  /** /dev/iommu and /dev/vfio/devices exist (iommufd; not driven yet). */
  iommufd: boolean;
  /** One line for `phyr list` / `phyr setup --status`. */
  summary: string;
}

/** Detects the VFIO backends present. */
export function detectBackend(): BackendReport {
  const legacyContainer = fs.existsSync(devPath('vfio', 'vfio'));
  const iommufd = fs.existsSync(devPath('iommu')) && fs.existsSync(devPath('vfio', 'devices'));
  const using = legacyContainer ? 'type1' : 'none';
  const summary = legacyContainer
    ? `VFIO legacy container (type1 IOMMU)${iommufd ? '; iommufd is present too, phyr uses the container' : '; iommufd absent'}`
    : iommufd
      ? 'only iommufd is present (no /dev/vfio/vfio): phyr needs the VFIO container (CONFIG_VFIO_CONTAINER or IOMMUFD_VFIO_CONTAINER)'
      : 'no VFIO: load vfio-pci (`modprobe vfio-pci`) with the IOMMU on (intel_iommu=on)';
  return { using, legacyContainer, iommufd, summary };
}
