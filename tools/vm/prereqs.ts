// Finds what the QEMU testbed needs on the host: qemu-system-x86_64, a Debian kernel with
// its modules, and a static busybox. Anything missing is reported with the exact install
// command, because the packages are all a person needs to get the testbed running.
import * as fs from 'fs';
import * as path from 'path';
import { PhyrError } from '../../lib/errors';

/** The install command for the testbed's packages (Debian 12). */
export const APT_INSTALL = 'apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static';

/** Paths of everything the testbed runs. */
export interface Prereqs {
  qemu: string;
  busybox: string;
  kernel: string;
  kernelVersion: string;
  modulesDir: string;
}

/** Thrown when a testbed package is missing; the message carries the install command. */
export class VmPrereqError extends PhyrError {
  constructor(missing: string[]) {
    super('PHYR_VM_PREREQ', `the QEMU testbed needs ${missing.join(', ')}: install with \`${APT_INSTALL}\` (as root)`);
  }
}

function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...pathVar.split(':'), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const full = path.join(dir, name);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** Compares Debian kernel versions like 6.1.0-56-amd64 numerically, field by field. */
export function compareKernelVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isInteger(nx) && Number.isInteger(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c;
  }
  return 0;
}

/** The newest /boot/vmlinuz-* whose modules are installed, or undefined. */
export function findKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): { kernel: string; version: string; modulesDir: string } | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(bootDir);
  } catch {
    return undefined;
  }
  const versions = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => fs.existsSync(path.join(modulesRoot, v, 'modules.dep')))
    .sort(compareKernelVersions);
  const version = versions.pop();
  if (!version) return undefined;
  return { kernel: path.join(bootDir, `vmlinuz-${version}`), version, modulesDir: path.join(modulesRoot, version) };
}

/** Finds the testbed's programs, or throws VmPrereqError naming what is missing. */
export function findPrereqs(): Prereqs {
  const qemu = findOnPath('qemu-system-x86_64');
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => isStaticBusybox(p));
  const kernel = findKernel();
  const missing: string[] = [];
  if (!qemu) missing.push('qemu-system-x86_64 (package qemu-system-x86)');
  if (!kernel) missing.push('a kernel in /boot with its modules (package linux-image-amd64)');
  if (!busybox) missing.push('a static busybox (package busybox-static)');
  if (missing.length || !qemu || !kernel || !busybox) throw new VmPrereqError(missing);
  return { qemu, busybox, kernel: kernel.kernel, kernelVersion: kernel.version, modulesDir: kernel.modulesDir };
}

/** True when `file` is an ELF executable with no program interpreter (statically linked). */
export function isStaticBusybox(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(64);
    fs.readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // ELF64 only
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
