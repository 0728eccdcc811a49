// VFIO errors that say what happened and what to do about it.
import { PhyrError } from '../errors';

/** Every error of the VFIO layer; `code` tells the cases apart. */
export class VfioError extends PhyrError {}

/** /dev/vfio/vfio is missing: the IOMMU is off or vfio-pci is not loaded. */
export const noVfio = (): VfioError =>
  new VfioError(
    'PHYR_VFIO_UNAVAILABLE',
    '/dev/vfio/vfio does not exist: load the VFIO driver (`modprobe vfio-pci`) and make sure the IOMMU is on ' +
      '(intel_iommu=on or amd_iommu=on on the kernel command line, VT-d/AMD-Vi enabled in firmware)',
  );

/** The device has no IOMMU group: the IOMMU is off. */
export const noIommuGroup = (bdf: string): VfioError =>
  new VfioError(
    'PHYR_VFIO_NO_IOMMU',
    `${bdf} has no IOMMU group, so the IOMMU is off: boot with intel_iommu=on (or amd_iommu=on) and enable VT-d/AMD-Vi in firmware`,
  );

/** The device is bound to another driver (or none). */
export const notBound = (bdf: string, driver: string | null): VfioError =>
  new VfioError(
    'PHYR_VFIO_NOT_BOUND',
    driver === 'nvme'
      ? `${bdf} is bound to the kernel nvme driver: give it to vfio-pci with \`phyr setup --bind ${bdf}\` (after unmounting its filesystems)`
      : `${bdf} is ${driver ? `bound to ${driver}` : 'bound to no driver'}, not vfio-pci: run \`phyr setup --bind ${bdf}\``,
  );

/** A PCI address with no device behind it. */
export const noDevice = (bdf: string): VfioError => new VfioError('PHYR_VFIO_NO_DEVICE', `there is no PCI device ${bdf}: see \`phyr list\``);

/** Permission denied opening a VFIO node. */
export const permissionDenied = (path: string): VfioError =>
  new VfioError(
    'PHYR_VFIO_EACCES',
    `permission denied opening ${path}: run as root, or give your user the device (e.g. \`chown $USER ${path}\` or a udev rule) ` +
      'and raise the locked-memory limit (ulimit -l)',
  );

/** The group is open elsewhere. */
export const groupBusy = (path: string): VfioError =>
  new VfioError('PHYR_VFIO_BUSY', `${path} is in use by another process (another phyr, or a VM): close it first`);

/** The group holds devices not bound to vfio-pci. */
export const groupNotViable = (group: number, others: { bdf: string; driver: string | null }[]): VfioError =>
  new VfioError(
    'PHYR_VFIO_GROUP_NOT_VIABLE',
    `IOMMU group ${group} is not viable: every device in it must be bound to vfio-pci or to no driver, but ` +
      others.map((o) => `${o.bdf} is bound to ${o.driver ?? 'no driver'}`).join(', ') +
      `; bind them too (\`phyr setup --bind BDF\`) or move the device to another slot`,
  );

/** The IOVA space left has no hole big enough. */
export const iovaExhausted = (size: number, free: number): VfioError =>
  new VfioError(
    'PHYR_VFIO_IOVA_EXHAUSTED',
    `IOVA space exhausted: no free range of ${size} bytes (largest free range ${free} bytes); free DMA buffers or open fewer devices per container`,
  );

/** The device reads all-ones: it fell off the bus or was reset away. */
export const deviceGone = (bdf: string, where: string): VfioError =>
  new VfioError(
    'PHYR_DEVICE_GONE',
    `${bdf} stopped answering (${where} reads all-ones): it was removed, reset or hung; check \`dmesg\`, then reopen it (or remove and rescan it via sysfs)`,
  );

/** Memory decoding is off: the device was reset or disabled behind phyr's back. */
export const memoryDisabled = (bdf: string, command: number): VfioError =>
  new VfioError(
    'PHYR_DEVICE_DISABLED',
    `${bdf} does not decode its BARs (PCI command register 0x${command.toString(16)} has memory space off): it was reset or disabled by someone else; close and reopen it`,
  );
