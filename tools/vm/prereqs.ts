// Finds what the QEMU testbed needs on the host: qemu-system-x86_64, a Debian kernel with
// its modules (the newest that works, or the one asked for), and a static busybox. Anything missing is reported with the exact install
// command, because the packages are all a person needs to get the testbed running.
import * as fs from 'fs';
import * as path from 'path';
import { PhyrError } from '../../lib/errors';
import { GUEST_MODULES, missingDecompressors, moduleCompression, moduleLoadOrder, parseModulesDep, readBuiltin, ROOT_MODULES } from './modules';

/** The install command for the testbed's packages (Debian 12). */
export const APT_INSTALL = 'apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static xz-utils zstd';

/** Paths of everything the testbed runs. */
export interface Prereqs {
  qemu: string;
  busybox: string;
  kernel: string;
  kernelVersion: string;
  modulesDir: string;
  /** Which kernel was chosen and why (one line, for the user). */
  kernelReason: string;
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

/** A kernel in /boot and whether the testbed can boot it. */
export interface KernelCandidate {
  version: string;
  kernel: string;
  modulesDir: string;
  /** Why the testbed cannot use it; undefined when it can. */
  unusable?: string;
}

/** The kernel the testbed boots, and why that one. */
export interface KernelChoice {
  kernel: string;
  version: string;
  modulesDir: string;
  /** One line: which kernel, why, and what was passed over. */
  reason: string;
}

/**
 * True when `version` is `wanted` or starts with it at a field boundary: `6.12` matches
 * 6.12.117+deb12-amd64, `6.1` matches 6.1.0-57-amd64 but not 6.12.117+deb12-amd64.
 */
export function kernelMatches(version: string, wanted: string): boolean {
  return version === wanted || (version.startsWith(wanted) && /^[.+-]/.test(version.slice(wanted.length)));
}

/**
 * Every /boot/vmlinuz-* with what keeps the testbed from booting it: no modules directory,
 * a module it needs (ROOT_MODULES, GUEST_MODULES) neither in modules.dep nor built in, or
 * compressed modules and no program to decompress them. Oldest first.
 */
export function listKernels(bootDir = '/boot', modulesRoot = '/lib/modules'): KernelCandidate[] {
  let names: string[];
  try {
    names = fs.readdirSync(bootDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .sort(compareKernelVersions)
    .map((version) => {
      const modulesDir = path.join(modulesRoot, version);
      return { version, kernel: path.join(bootDir, `vmlinuz-${version}`), modulesDir, unusable: whyUnusable(modulesDir) };
    });
}

function whyUnusable(modulesDir: string): string | undefined {
  let deps: Map<string, string[]>;
  try {
    deps = parseModulesDep(fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8'));
  } catch {
    return `no ${path.join(modulesDir, 'modules.dep')} (its modules are not installed)`;
  }
  const builtin = readBuiltin(modulesDir);
  const files: string[] = [];
  for (const m of [...ROOT_MODULES, ...GUEST_MODULES]) {
    try {
      files.push(...moduleLoadOrder(deps, [m], builtin));
    } catch {
      return `no module ${m} (neither in modules.dep nor built in)`;
    }
  }
  try {
    return missingDecompressors(files.map(moduleCompression));
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The kernel to boot: `wanted` (a version or a prefix of one, e.g. 6.12; the newest that
 * matches) or, without it, the newest in /boot that the testbed can use. Undefined when
 * there is none at all; throws PHYR_VM_KERNEL when `wanted` names none or only unusable ones.
 */
export function findKernel(bootDir = '/boot', modulesRoot = '/lib/modules', wanted?: string): KernelChoice | undefined {
  const all = listKernels(bootDir, modulesRoot);
  const pool = wanted ? all.filter((k) => kernelMatches(k.version, wanted)) : all;
  const list = (ks: KernelCandidate[]): string => ks.map((k) => `${k.version}${k.unusable ? ` (${k.unusable})` : ''}`).join('; ') || 'none';
  if (wanted && !pool.length) throw new PhyrError('PHYR_VM_KERNEL', `--kernel ${wanted}: no /boot/vmlinuz-${wanted}*; installed: ${list(all)}`);
  const usable = pool.filter((k) => !k.unusable);
  const pick = usable[usable.length - 1];
  if (!pick) {
    if (wanted) throw new PhyrError('PHYR_VM_KERNEL', `--kernel ${wanted}: the testbed cannot boot ${list(pool)}`);
    return undefined;
  }
  const passed = all.filter((k) => k !== pick && compareKernelVersions(k.version, pick.version) > 0);
  const why = wanted ? (pick.version === wanted ? 'as asked' : `the newest matching ${wanted}`) : 'the newest in /boot the testbed can boot';
  const reason = `kernel ${pick.version} (${why}${passed.length ? `; passed over ${list(passed)}` : ''})`;
  return { kernel: pick.kernel, version: pick.version, modulesDir: pick.modulesDir, reason };
}

/** Finds the testbed's programs, or throws VmPrereqError naming what is missing. */
export function findPrereqs(opts: { kernelVersion?: string } = {}): Prereqs {
  const qemu = findOnPath('qemu-system-x86_64');
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => isStaticBusybox(p));
  const kernel = findKernel('/boot', '/lib/modules', opts.kernelVersion);
  const missing: string[] = [];
  if (!qemu) missing.push('qemu-system-x86_64 (package qemu-system-x86)');
  if (!kernel) missing.push(`a kernel in /boot with its modules (package linux-image-amd64; found: ${listKernels().map((k) => `${k.version} (${k.unusable})`).join('; ') || 'none'})`);
  if (!busybox) missing.push('a static busybox (package busybox-static)');
  if (missing.length || !qemu || !kernel || !busybox) throw new VmPrereqError(missing);
  return { qemu, busybox, kernel: kernel.kernel, kernelVersion: kernel.version, modulesDir: kernel.modulesDir, kernelReason: kernel.reason };
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
