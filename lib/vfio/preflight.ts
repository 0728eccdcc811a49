// Checks made before any VFIO node is opened, from sysfs and /dev alone: the device
// exists, the IOMMU is on (it has a group), it is bound to vfio-pci, and VFIO is loaded.
// Each failure is the error a person can act on.
import * as fs from 'fs';
import { devPath } from '../sysfs/root';
import { readPciDevice, type PciDevice } from '../sysfs/pci';
import { noDevice, noIommuGroup, notBound, noVfio } from './errors';

/** A device ready to be opened through VFIO. */
export interface VfioCandidate extends PciDevice {
  iommuGroup: number;
}

/** The device at `bdf` if VFIO can take it, else throws the reason. */
export function preflight(bdf: string): VfioCandidate {
  const dev = readPciDevice(bdf);
  if (!dev) throw noDevice(bdf);
  if (dev.iommuGroup === null) throw noIommuGroup(bdf);
  if (dev.driver !== 'vfio-pci') throw notBound(bdf, dev.driver);
  requireVfio();
  return dev as VfioCandidate;
}

/** Throws the "no /dev/vfio" advice when the VFIO container node is missing. */
export function requireVfio(): void {
  if (!fs.existsSync(devPath('vfio', 'vfio'))) throw noVfio();
}
