// NVMe controllers as `phyr list` and `phyr setup --status` show them: identity, driver,
// IOMMU group, and whether phyr can open them now (and if not, why, and what to do).
import * as fs from 'fs';
import { devPath, sysPath } from './root';
import { iommuGroupMembers, listNvmeControllers, readPciDevice, type PciDevice } from './pci';
import { controllerUses, describeUses, kernelControllers, namespaceBlockDevices, type BlockUse } from './usage';

/** One NVMe controller's state. */
export interface ControllerStatus {
  bdf: string;
  /** "1b36:0010" */
  id: string;
  model: string | null;
  serial: string | null;
  driver: string | null;
  iommuGroup: number | null;
  /** Block devices of its namespaces while the kernel nvme driver has it. */
  namespaces: string[];
  uses: BlockUse[];
  /** phyr can open it now. */
  usable: boolean;
  /** Why not, and what to do (empty when usable). */
  reason: string;
}

const read = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8').trim() || null;
  } catch {
    return null;
  }
};

/** Why phyr cannot open `dev` now, or '' when it can. */
export function unusableReason(dev: PciDevice, uses: BlockUse[]): string {
  if (dev.iommuGroup === null) return 'no IOMMU group: the IOMMU is off (boot with intel_iommu=on)';
  if (dev.driver === 'nvme') {
    return uses.length ? `bound to nvme and in use (${describeUses(uses)})` : `bound to nvme: run \`phyr setup --bind ${dev.bdf}\``;
  }
  if (dev.driver !== 'vfio-pci') return `bound to ${dev.driver ?? 'no driver'}: run \`phyr setup --bind ${dev.bdf}\``;
  if (!fs.existsSync(devPath('vfio', String(dev.iommuGroup)))) return `/dev/vfio/${dev.iommuGroup} is missing (is vfio-pci loaded?)`;
  const strangers = iommuGroupMembers(dev.iommuGroup)
    .map((b) => readPciDevice(b))
    .filter((d): d is PciDevice => d !== null && d.driver !== null && d.driver !== 'vfio-pci' && d.driver !== 'pcieport');
  if (strangers.length) return `IOMMU group ${dev.iommuGroup} also holds ${strangers.map((s) => `${s.bdf} (${s.driver})`).join(', ')}: bind those to vfio-pci too`;
  return '';
}

/** The state of one controller. */
export function controllerStatus(dev: PciDevice): ControllerStatus {
  const ctrl = kernelControllers(dev.bdf)[0];
  const uses = dev.driver === 'nvme' ? controllerUses(dev.bdf) : [];
  const reason = unusableReason(dev, uses);
  return {
    bdf: dev.bdf,
    id: `${dev.vendor.toString(16).padStart(4, '0')}:${dev.device.toString(16).padStart(4, '0')}`,
    model: ctrl ? read(sysPath('bus', 'pci', 'devices', dev.bdf, 'nvme', ctrl, 'model')) : null,
    serial: ctrl ? read(sysPath('bus', 'pci', 'devices', dev.bdf, 'nvme', ctrl, 'serial')) : null,
    driver: dev.driver,
    iommuGroup: dev.iommuGroup,
    namespaces: dev.driver === 'nvme' ? namespaceBlockDevices(dev.bdf) : [],
    uses,
    usable: reason === '',
    reason,
  };
}

/** Every NVMe controller's state. */
export function listControllerStatus(): ControllerStatus[] {
  return listNvmeControllers().map(controllerStatus);
}
