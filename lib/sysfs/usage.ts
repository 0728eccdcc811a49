// Is a controller in use by the kernel's block layer? For a controller bound to the nvme
// driver: its namespaces' block devices (and their partitions) are checked for mounts
// (/proc/self/mountinfo, by major:minor), swap (/proc/swaps), holders (md, dm, LVM:
// /sys/block/X/holders) and open file descriptors of any process (/proc/PID/fd).
// Unbinding a controller in use would take a filesystem from under its users.
import * as fs from 'fs';
import * as path from 'path';
import { procPath, sysPath } from './root';

/** One reason a block device is busy. */
export interface BlockUse {
  /** The block device, e.g. nvme0n1 or nvme0n1p2. */
  device: string;
  kind: 'mounted' | 'swap' | 'holder' | 'open';
  /** Mount point, holder name, or "pid N (comm)". */
  detail: string;
}

const ls = (p: string): string[] => {
  try {
    return fs.readdirSync(p).sort();
  } catch {
    return [];
  }
};
const read = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};

/** The nvme controller names (nvme0, ...) the kernel made for the PCI device. */
export function kernelControllers(bdf: string): string[] {
  return ls(sysPath('bus', 'pci', 'devices', bdf, 'nvme')).filter((n) => /^nvme\d+$/.test(n));
}

/**
 * The namespace block devices of the PCI device's kernel controllers. With native NVMe
 * multipath the controller lists path nodes (nvme0c0n1) whose block device is the head
 * (nvme0n1).
 */
export function namespaceBlockDevices(bdf: string): string[] {
  const out = new Set<string>();
  for (const ctrl of kernelControllers(bdf)) {
    for (const entry of ls(sysPath('bus', 'pci', 'devices', bdf, 'nvme', ctrl))) {
      const plain = /^nvme\d+n\d+$/.exec(entry);
      const pathNode = /^nvme(\d+)c\d+n(\d+)$/.exec(entry);
      if (plain) out.add(entry);
      else if (pathNode) out.add(`nvme${pathNode[1]}n${pathNode[2]}`);
    }
  }
  return [...out].sort();
}

/** A block device and its partitions, with their major:minor numbers. */
export function blockDeviceTree(name: string): { name: string; dev: string | null }[] {
  const base = sysPath('block', name);
  const parts = ls(base).filter((e) => e.startsWith(name) && read(path.join(base, e, 'dev')) !== null);
  return [{ name, dev: read(path.join(base, 'dev')) }, ...parts.map((p) => ({ name: p, dev: read(path.join(base, p, 'dev')) }))];
}

/** Mount points by major:minor, from mountinfo text. */
export function mountsByDevice(mountinfo: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const list = m.get(f[2]) ?? [];
    list.push(f[4].replace(/\\040/g, ' '));
    m.set(f[2], list);
  }
  return m;
}

/** Device paths in /proc/swaps. */
export function swapDevices(swaps: string): string[] {
  return swaps
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0])
    .filter(Boolean);
}

/** What holds a block device (dm names resolved, md arrays named). */
function holders(name: string, parent: string | null): string[] {
  const dir = parent ? sysPath('block', parent, name, 'holders') : sysPath('block', name, 'holders');
  return ls(dir).map((h) => {
    const dmName = read(sysPath('block', h, 'dm', 'name'));
    if (dmName) return `${h} (device-mapper ${dmName}${/^[^-]+-[^-]+/.test(dmName) ? ', LVM' : ''})`;
    if (h.startsWith('md')) return `${h} (md RAID)`;
    return h;
  });
}

/** Processes with `devPaths` open: "pid N (comm)" per device path. */
export function openers(devPaths: Set<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const pid of ls(procPath()).filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    for (const fd of ls(procPath(pid, 'fd'))) {
      let target: string;
      try {
        target = fs.readlinkSync(procPath(pid, 'fd', fd));
      } catch {
        continue;
      }
      if (!devPaths.has(target)) continue;
      const list = found.get(target) ?? [];
      const who = `pid ${pid} (${read(procPath(pid, 'comm')) ?? '?'})`;
      if (!list.includes(who)) list.push(who);
      found.set(target, list);
    }
  }
  return found;
}

/** Every reason the controller at `bdf` is in use by the kernel's block layer ([] = free). */
export function controllerUses(bdf: string): BlockUse[] {
  const uses: BlockUse[] = [];
  const mounts = mountsByDevice(read(procPath('self', 'mountinfo')) ?? '');
  const swaps = new Set(swapDevices(read(procPath('swaps')) ?? ''));
  const devPaths = new Set<string>();
  for (const ns of namespaceBlockDevices(bdf)) {
    for (const { name, dev } of blockDeviceTree(ns)) {
      for (const mp of (dev && mounts.get(dev)) || []) uses.push({ device: name, kind: 'mounted', detail: mp });
      if (swaps.has(`/dev/${name}`)) uses.push({ device: name, kind: 'swap', detail: 'active swap' });
      for (const h of holders(name, name === ns ? null : ns)) uses.push({ device: name, kind: 'holder', detail: h });
      devPaths.add(`/dev/${name}`);
    }
  }
  for (const [dev, who] of openers(devPaths)) for (const w of who) uses.push({ device: path.basename(dev), kind: 'open', detail: w });
  return uses;
}

/** One line per use, for refusals and status output. */
export function describeUses(uses: BlockUse[]): string {
  return uses
    .map((u) => {
      if (u.kind === 'mounted') return `/dev/${u.device} is mounted on ${u.detail}`;
      if (u.kind === 'swap') return `/dev/${u.device} is in use as swap`;
      if (u.kind === 'holder') return `/dev/${u.device} is held by ${u.detail}`;
      return `/dev/${u.device} is open by ${u.detail}`;
    })
    .join('; ');
}
