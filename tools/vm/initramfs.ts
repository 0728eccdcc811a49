// Builds the testbed's initramfs: a static busybox, the kernel modules needed to mount the
// host's root over 9p (virtio PCI + 9p, with their dependencies from modules.dep; compressed
// ones decompressed, tools/vm/modules.ts), and a
// small /init that mounts the host root read-only, mounts the results share and runs the
// per-run script from it in a chroot. The archive is cached under build/vm and rebuilt
// when any input (kernel version, module files, busybox, init script) changes.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { cpioArchive, dir, file, symlink, type CpioEntry } from './cpio';
import { moduleCompression, moduleLoadOrder, parseModulesDep, readBuiltin, readModule, ROOT_MODULES, uncompressedName } from './modules';
import type { Prereqs } from './prereqs';

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
  const order = moduleLoadOrder(deps, ROOT_MODULES, readBuiltin(pre.modulesDir));
  for (const m of order) moduleCompression(m); // an unknown suffix is refused before any file is read
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
  for (const m of order) entries.push(file(`modules/${uncompressedName(m)}`, readModule(path.join(pre.modulesDir, m))));
  entries.push(file('modules.order', Buffer.from(order.map(uncompressedName).join('\n') + '\n')));
  entries.push(file('init', Buffer.from(INIT_SCRIPT), 0o755));
  fs.mkdirSync(cacheDir, { recursive: true });
  // Older archives for this kernel go; other kernels' stay (the VM tier boots two in turn).
  const prefix = `initramfs-${pre.kernelVersion}-`;
  for (const old of fs.readdirSync(cacheDir)) if (old.startsWith(prefix) && /^[0-9a-f]{12}\.cpio\.gz$/.test(old.slice(prefix.length))) fs.rmSync(path.join(cacheDir, old), { force: true });
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, zlib.gzipSync(cpioArchive(entries)));
  fs.renameSync(tmp, out);
  return out;
}
