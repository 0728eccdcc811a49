// PCI devices as sysfs shows them (/sys/bus/pci/devices/<BDF>): identity, bound driver,
// IOMMU group, BAR resources.
import * as fs from 'fs';
import * as path from 'path';
import { sysPath } from './root';

/** The class code of an NVMe controller (mass storage, non-volatile memory, NVM Express). */
export const NVME_CLASS = 0x010802;
/** IORESOURCE_MEM in a sysfs `resource` line's flags. */
const IORESOURCE_MEM = 0x200;

/** One BAR or other resource of a PCI device (physical addresses, inclusive end). */
export interface PciResource {
  index: number;
  start: number;
  end: number;
  flags: number;
}

/** A PCI function as sysfs describes it. */
export interface PciDevice {
  bdf: string;
  vendor: number;
  device: number;
  /** 24-bit class code, e.g. 0x010802. */
  classCode: number;
  /** The bound driver's name, or null. */
  driver: string | null;
  /** driver_override contents, or null when unset. */
  driverOverride: string | null;
  /** IOMMU group number, or null when the IOMMU is off. */
  iommuGroup: number | null;
  resources: PciResource[];
}

const readText = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};

const linkBase = (p: string): string | null => {
  try {
    return path.basename(fs.readlinkSync(p));
  } catch {
    return null;
  }
};

/** The PCI addresses sysfs lists, sorted. */
export function listPciAddresses(): string[] {
  try {
    return fs.readdirSync(sysPath('bus', 'pci', 'devices')).sort();
  } catch {
    return [];
  }
}

/** Parses a sysfs `resource` file (one "start end flags" hex triple per line). */
export function parseResources(text: string): PciResource[] {
  const out: PciResource[] = [];
  text.split('\n').forEach((line, index) => {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) return;
    const [start, end, flags] = f.map((x) => Number(BigInt(x)));
    if (start === 0 && end === 0) return;
    out.push({ index, start, end, flags });
  });
  return out;
}

/** Reads one device, or null when sysfs has no such address. */
export function readPciDevice(bdf: string): PciDevice | null {
  const dir = sysPath('bus', 'pci', 'devices', bdf);
  const vendor = readText(path.join(dir, 'vendor'));
  if (vendor === null) return null;
  const group = linkBase(path.join(dir, 'iommu_group'));
  const override = readText(path.join(dir, 'driver_override'));
  return {
    bdf,
    vendor: Number(vendor),
    device: Number(readText(path.join(dir, 'device')) ?? 0),
    classCode: Number(readText(path.join(dir, 'class')) ?? 0),
    driver: linkBase(path.join(dir, 'driver')),
    driverOverride: override === null || override === '(null)' || override === '' ? null : override,
    iommuGroup: group === null ? null : Number(group),
    resources: parseResources(readText(path.join(dir, 'resource')) ?? ''),
  };
}

/** Every NVMe controller on the bus. */
export function listNvmeControllers(): PciDevice[] {
  return listPciAddresses()
    .map(readPciDevice)
    .filter((d): d is PciDevice => d !== null && d.classCode === NVME_CLASS);
}

/** The devices sharing IOMMU group `group`. */
export function iommuGroupMembers(group: number): string[] {
  try {
    return fs.readdirSync(sysPath('kernel', 'iommu_groups', String(group), 'devices')).sort();
  } catch {
    return [];
  }
}

/**
 * Every memory BAR of every PCI device: device addresses that alias these can be taken by
 * the platform (or by QEMU) as MMIO instead of going through the IOMMU, so IOVAs avoid them.
 */
export function pciMmioRanges(): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const bdf of listPciAddresses()) {
    const d = readPciDevice(bdf);
    for (const r of d?.resources ?? []) if (r.flags & IORESOURCE_MEM) out.push({ start: r.start, end: r.end });
  }
  return out.sort((a, b) => a.start - b.start);
}
