// Builds the testbed's initramfs: a static busybox, the kernel modules needed to mount the
// host's root over 9p (virtio PCI + 9p, with their dependencies from modules.dep), and a
// small /init that mounts the host root read-only, mounts the results share and runs the
// per-run script from it in a chroot. The archive is cached under build/vm and rebuilt
// when any input (kernel version, module files, busybox, init script) changes.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { PhyrError } from '../../lib/errors';
import { cpioArchive, dir, file, symlink, type CpioEntry } from './cpio';
import type { Prereqs } from './prereqs';

/** Modules /init loads before mounting the host root (dependencies are added). */
export const ROOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p'];

/** Parses modules.dep into module path -> dependency paths. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    deps.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  return deps;
}

const moduleName = (p: string): string => path.basename(p).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');

/**
 * The module files to load for `wanted`, dependencies first. A wanted module absent from
 * modules.dep is assumed built in (listed in modules.builtin) or reported.
 */
export function moduleLoadOrder(deps: Map<string, string[]>, wanted: string[], builtin: Set<string> = new Set()): string[] {
  const byName = new Map<string, string>();
  for (const p of deps.keys()) byName.set(moduleName(p), p);
  const order: string[] = [];
  const visit = (p: string, seen: Set<string>): void => {
    if (order.includes(p)) return;
    if (seen.has(p)) throw new PhyrError('PHYR_VM_MODULES', `modules.dep has a dependency cycle through ${p}`);
    seen.add(p);
    for (const d of deps.get(p) ?? []) visit(d, seen);
    order.push(p);
  };
  for (const w of wanted) {
    const p = byName.get(w.replace(/-/g, '_'));
    if (p) visit(p, new Set());
    else if (!builtin.has(w.replace(/-/g, '_'))) {
      throw new PhyrError('PHYR_VM_MODULES', `kernel module ${w} is neither in modules.dep nor built in: reinstall linux-image-amd64`);
    }
  }
  return order;
}

/** Stage one: runs as PID 1 from the initramfs. */
export const INIT_SCRIPT = `#!/bin/busybox sh
# phyr testbed /init: mount the host root over 9p and run the per-run script in it.
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
for m in $($B cat /modules.order); do $B insmod /modules/$m || echo "phyr-vm: insmod $m failed"; done
share=$($B sed -n 's/.*phyr\\.share=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
if $B mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /root &&
   $B mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "/root$share"; then
  $B mount -t proc proc /root/proc
  $B mount -t sysfs sysfs /root/sys
  $B mount -t devtmpfs devtmpfs /root/dev
  $B mount -t tmpfs tmpfs /root/tmp
  $B mount -t tmpfs tmpfs /root/run
  $B mkdir -p /root/dev/hugepages /root/dev/pts
  $B mount -t hugetlbfs hugetlbfs /root/dev/hugepages
  $B mount -t devpts devpts /root/dev/pts
  $B chroot /root /bin/sh "$share/guest.sh"
else
  echo "phyr-vm: could not mount the host root or the results share"
fi
$B sync
$B poweroff -f
`;

/** The cached initramfs for these prerequisites, building it when needed. */
export function ensureInitramfs(pre: Prereqs, cacheDir: string): string {
  const deps = parseModulesDep(fs.readFileSync(path.join(pre.modulesDir, 'modules.dep'), 'utf8'));
  let builtin = new Set<string>();
  try {
    builtin = new Set(fs.readFileSync(path.join(pre.modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(moduleName));
  } catch {
    /* no list: every module must be loadable */
  }
  const order = moduleLoadOrder(deps, ROOT_MODULES, builtin);
  for (const m of order) {
    if (!m.endsWith('.ko')) throw new PhyrError('PHYR_VM_MODULES', `kernel module ${m} is compressed; the testbed loads only uncompressed .ko files`);
  }
  const hash = crypto.createHash('sha256');
  hash.update(INIT_SCRIPT).update(pre.kernelVersion);
  for (const f of [pre.busybox, ...order.map((m) => path.join(pre.modulesDir, m))]) {
    const st = fs.statSync(f);
    hash.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  const out = path.join(cacheDir, `initramfs-${pre.kernelVersion}-${hash.digest('hex').slice(0, 12)}.cpio.gz`);
  if (fs.existsSync(out)) return out;

  const entries: CpioEntry[] = [dir('bin'), dir('proc'), dir('sys'), dir('dev'), dir('root'), dir('modules')];
  entries.push(file('bin/busybox', fs.readFileSync(pre.busybox), 0o755), symlink('bin/sh', 'busybox'));
  for (const m of order) entries.push(file(`modules/${path.basename(m)}`, fs.readFileSync(path.join(pre.modulesDir, m))));
  entries.push(file('modules.order', Buffer.from(order.map((m) => path.basename(m)).join('\n') + '\n')));
  entries.push(file('init', Buffer.from(INIT_SCRIPT), 0o755));
  fs.mkdirSync(cacheDir, { recursive: true });
  for (const old of fs.readdirSync(cacheDir)) if (old.startsWith('initramfs-')) fs.rmSync(path.join(cacheDir, old), { force: true });
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, zlib.gzipSync(cpioArchive(entries)));
  fs.renameSync(tmp, out);
  return out;
}
