// The testbed's host-side pieces: --nvme parsing and QEMU arguments, the cpio writer,
// module ordering from modules.dep, prerequisite detection and the guest script.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { cpioArchive, dir, file, symlink } from '../../tools/vm/cpio';
import { ensureInitramfs, INIT_SCRIPT } from '../../tools/vm/initramfs';
import { moduleLoadOrder, parseModulesDep, readModule, moduleCompression, missingDecompressors } from '../../tools/vm/modules';
import { checkQemuProperties } from '../../tools/vm/nvme-spec';
import { parseDeviceHelp, qemuNvmeProperties } from '../../tools/vm/qemu-properties';
import { spawnSync } from 'child_process';
import { guestScript, runVm, shellQuote } from '../../tools/vm/launch';
import { controllerBdf, nvmeQemuArgs, parseNvmeSpec, parseSize } from '../../tools/vm/nvme-spec';
import * as vmCommand from '../../tools/commands/vm';
import { compareKernelVersions, findKernel, findPrereqs, isStaticBusybox, kernelMatches, listKernels, VmPrereqError, APT_INSTALL } from '../../tools/vm/prereqs';

// A minimal ELF header: what readModule checks a (decompressed) module starts with.
const elf = (tag: string): Buffer => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.from(tag)]);

t.test('--nvme specs parse, with defaults and clear errors', async (t) => {
  t.same(parseNvmeSpec(''), { size: 64 << 20, namespaces: 1, lbads: [9], cmbMiB: 0, backing: 'file', driver: 'vfio-pci' });
  const s = parseNvmeSpec('size=1G,ns=3,lbads=9:12,mdts=2,qpairs=4,cmb=16M,backing=null,driver=nvme');
  t.same(s, { size: 2 ** 30, namespaces: 3, lbads: [9, 12], cmbMiB: 16, backing: 'null', driver: 'nvme', mdts: 2, maxQueuePairs: 4 });
  t.equal(parseSize('4K', 'x'), 4096);
  t.same(parseNvmeSpec('colour=red').qemu, { colour: 'red' }, 'not a testbed key: left for the check against QEMU');
  t.throws(() => parseNvmeSpec('colour'), /unknown --nvme key 'colour'/);
  t.throws(() => parseNvmeSpec('size=12Q'), /not a size/);
  t.throws(() => parseNvmeSpec('size=1000'), /multiple of 4 KiB/);
  t.throws(() => parseNvmeSpec('lbads=8'), /lbads '8' must be an integer from 9 to 12/);
  t.throws(() => parseNvmeSpec('cmb=3M'), /power-of-two/);
  t.throws(() => parseNvmeSpec('backing=tape'), /'file' or 'null'/);
  t.throws(() => parseNvmeSpec('driver=ahci'), /vfio-pci, nvme or none/);
  t.throws(() => parseNvmeSpec('backing=null,file=/x'), /file= needs backing=file/);
  t.throws(() => parseNvmeSpec('ns=0'), /from 1 to 32/);
});

t.test('controllers become QEMU devices at fixed slots', async (t) => {
  const { args, images, placed } = nvmeQemuArgs([parseNvmeSpec('cmb=16M,mdts=3'), parseNvmeSpec('ns=2,lbads=9:12,backing=null,qpairs=2')], '/img');
  t.equal(controllerBdf(1), '0000:00:11.0');
  t.same(placed.map((p) => p.bdf), ['0000:00:10.0', '0000:00:11.0']);
  const joined = args.join(' ');
  t.match(joined, /-device nvme,id=nvme0,serial=phyr-vm-0,addr=0x10,mdts=3,cmb_size_mb=16/);
  t.match(joined, /driver=file,node-name=nvme0n1f,filename=\/img\/nvme0n1.img/);
  t.match(joined, /-device nvme,id=nvme1,serial=phyr-vm-1,addr=0x11,max_ioqpairs=2/);
  t.match(joined, /driver=null-co,node-name=nvme1n2,size=67108864,read-zeroes=on/);
  t.match(joined, /nvme-ns,drive=nvme1n2,bus=nvme1,nsid=2,logical_block_size=4096/);
  t.same(images, [{ path: '/img/nvme0n1.img', size: 64 << 20 }]);
  t.throws(() => nvmeQemuArgs(Array.from({ length: 13 }, () => parseNvmeSpec('')), '/img'), /at most 12/);
  const own = nvmeQemuArgs([parseNvmeSpec('file=/data/disk.img')], '/img');
  t.same(own.images, [], 'a given image is not created');
  t.match(own.args.join(' '), /filename=\/data\/disk.img/);
});

t.test('--nvme passes further QEMU nvme properties through, checked against QEMU\'s own list', async (t) => {
  const s = parseNvmeSpec('size=16M,msix_qsize=1,max_ioqpairs=1,cmb_size_mb=2,zoned.zasl=5');
  t.same(s.qemu, { msix_qsize: '1', 'zoned.zasl': '5' }, 'kept in order, as written');
  t.equal(s.maxQueuePairs, 1, "QEMU's max_ioqpairs is the testbed's qpairs");
  t.equal(s.cmbMiB, 2, "QEMU's cmb_size_mb is the testbed's cmb");
  t.match(nvmeQemuArgs([s], '/img').args.join(' '), /-device nvme,id=nvme0,serial=phyr-vm-0,addr=0x10,max_ioqpairs=1,cmb_size_mb=2,msix_qsize=1,zoned.zasl=5 /);
  t.throws(() => parseNvmeSpec('serial=x'), /cannot set QEMU's 'serial': the controller is phyr-vm-<index>/);
  t.throws(() => parseNvmeSpec('addr=0x5'), /cannot set QEMU's 'addr'/);
  t.same(parseNvmeSpec('constructor=1').qemu, { constructor: '1' }, 'no prototype lookups');
  t.throws(() => parseNvmeSpec('msix_qsize'), /unknown --nvme key 'msix_qsize': keys are .*, or a QEMU nvme property as name=value/);
  const help = 'nvme options:\n  addr=<int32>           - Slot (default: -1)\n  bootindex=<int32>\n  msix_qsize=<uint16>    -  (default: 65)\n  zoned.zasl=<uint8>     -  (default: 0)\n';
  t.same(parseDeviceHelp(help), ['addr', 'bootindex', 'msix_qsize', 'zoned.zasl']);
  checkQemuProperties([s], parseDeviceHelp(help));
  t.throws(() => checkQemuProperties([parseNvmeSpec('constructor=1')], parseDeviceHelp(help)), /unknown --nvme key 'constructor'/);
  t.throws(() => checkQemuProperties([parseNvmeSpec('colour=red')], parseDeviceHelp(help)), {
    code: 'PHYR_VM_SPEC',
    message: /unknown --nvme key 'colour': the testbed's keys are size, .*; QEMU's nvme properties \(qemu-system-x86_64 -device nvme,help\) are bootindex, msix_qsize, zoned.zasl$/,
  });
});

t.test("QEMU's nvme property list is asked for once and cached per binary", async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-qemu-props-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const fake = path.join(tmp, 'qemu');
  const calls = path.join(tmp, 'calls');
  fs.writeFileSync(fake, `#!/bin/sh\necho "$@" >> ${calls}\nprintf 'nvme options:\\n  msix_qsize=<uint16>    -  (default: 65)\\n  mdts=<uint8>\\n'\n`, { mode: 0o755 });
  t.same(qemuNvmeProperties(fake, path.join(tmp, 'cache')), ['msix_qsize', 'mdts']);
  t.same(qemuNvmeProperties(fake, path.join(tmp, 'cache')), ['msix_qsize', 'mdts']);
  t.equal(fs.readFileSync(calls, 'utf8'), '-device nvme,help\n', 'QEMU was started once');
  t.equal(fs.readdirSync(path.join(tmp, 'cache')).filter((f) => f.startsWith('qemu-nvme-properties-')).length, 1, 'the answer is on disk');
  const broken = path.join(tmp, 'broken');
  fs.writeFileSync(broken, '#!/bin/sh\necho "no such device" >&2; exit 1\n', { mode: 0o755 });
  t.throws(() => qemuNvmeProperties(broken, path.join(tmp, 'cache')), { code: 'PHYR_VM_PREREQ', message: /-device nvme,help gave no property list \(exit 1\): no such device/ });
  const real = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).stdout.trim();
  if (real) t.ok(qemuNvmeProperties(real, path.join(tmp, 'cache')).includes('msix_qsize'), "this host's QEMU lists msix_qsize");
});

t.test('cpio newc archives have the layout the kernel expects', async (t) => {
  const a = cpioArchive([dir('bin'), file('bin/x', Buffer.from('hello'), 0o755), symlink('bin/sh', 'x')]);
  t.equal(a.subarray(0, 6).toString(), '070701');
  t.equal(a.length % 4, 0);
  const text = a.toString('latin1');
  t.match(text, /bin\/x\0/);
  t.match(text, /hello/);
  t.match(text, /TRAILER!!!\0/);
  // Second member: mode 0o100755, size 5.
  const second = text.indexOf('070701', 6);
  t.equal(parseInt(text.slice(second + 14, second + 22), 16), 0o100755);
  t.equal(parseInt(text.slice(second + 54, second + 62), 16), 5);
});

t.test('module load order follows modules.dep, dependencies first', async (t) => {
  const deps = parseModulesDep('kernel/a/9p.ko: kernel/n/9pnet.ko kernel/f/netfs.ko\nkernel/n/9pnet.ko:\nkernel/f/netfs.ko:\nkernel/v/virtio_pci.ko: kernel/v/virtio.ko\nkernel/v/virtio.ko:\n');
  t.same(moduleLoadOrder(deps, ['9p', 'virtio-pci']), ['kernel/n/9pnet.ko', 'kernel/f/netfs.ko', 'kernel/a/9p.ko', 'kernel/v/virtio.ko', 'kernel/v/virtio_pci.ko']);
  t.same(moduleLoadOrder(deps, ['9p', 'ext4'], new Set(['ext4'])).length, 3, 'built-in modules need no file');
  t.throws(() => moduleLoadOrder(deps, ['zfs']), /zfs is neither in modules.dep nor built in/);
  const cyclic = parseModulesDep('x.ko: y.ko\ny.ko: x.ko\n');
  t.throws(() => moduleLoadOrder(cyclic, ['x']), /cycle/);
  t.match(INIT_SCRIPT, /mount -t 9p .* hostroot \/root/);
});

t.test('the initramfs is built once and cached', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-initramfs-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const mods = path.join(tmp, 'mods');
  for (const m of ['virtio_pci', '9pnet_virtio', '9p']) fs.mkdirSync(path.join(mods, 'k'), { recursive: true }), fs.writeFileSync(path.join(mods, 'k', `${m}.ko`), elf(m));
  fs.writeFileSync(path.join(mods, 'modules.dep'), 'k/virtio_pci.ko:\nk/9pnet_virtio.ko:\nk/9p.ko:\n');
  fs.writeFileSync(path.join(tmp, 'busybox'), 'bb');
  const pre = { qemu: '/q', busybox: path.join(tmp, 'busybox'), kernel: '/k', kernelVersion: '9.9', modulesDir: mods, kernelReason: '' };
  const first = ensureInitramfs(pre, path.join(tmp, 'cache'));
  const mtime = fs.statSync(first).mtimeMs;
  t.equal(ensureInitramfs(pre, path.join(tmp, 'cache')), first, 'same inputs, same archive');
  t.equal(fs.statSync(first).mtimeMs, mtime, 'not rebuilt');
  const text = zlib.gunzipSync(fs.readFileSync(first)).toString('latin1');
  t.match(text, /modules\/9p.ko/);
  fs.writeFileSync(path.join(mods, 'k', '9p.ko'), elf('changed module'));
  t.not(ensureInitramfs(pre, path.join(tmp, 'cache')), first, 'a changed module rebuilds');
  t.equal(fs.readdirSync(path.join(tmp, 'cache')).length, 1, 'old archives removed');
  const other = ensureInitramfs({ ...pre, kernelVersion: '9.9.1' }, path.join(tmp, 'cache'));
  t.equal(fs.readdirSync(path.join(tmp, 'cache')).length, 2, "another kernel's archive does not remove this one's");
  t.match(other, /initramfs-9\.9\.1-[0-9a-f]{12}\.cpio\.gz$/);
  fs.writeFileSync(path.join(mods, 'modules.dep'), 'k/virtio_pci.ko.bz2:\nk/9pnet_virtio.ko:\nk/9p.ko:\n');
  t.throws(() => ensureInitramfs(pre, path.join(tmp, 'cache')), /unknown suffix: the testbed loads .ko, .ko.gz, .ko.xz and .ko.zst/);
});

const compress = (program: string, data: Buffer): Buffer => {
  const r = spawnSync(program, ['-c'], { input: data });
  if (r.status !== 0) throw new Error(`${program} -c failed: ${r.stderr}`);
  return r.stdout;
};

t.test('compressed modules (.ko.gz, .ko.xz, .ko.zst) go into the initramfs decompressed, as .ko', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-initramfs-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const mods = path.join(tmp, 'mods');
  fs.mkdirSync(path.join(mods, 'k'), { recursive: true });
  fs.writeFileSync(path.join(mods, 'k', 'netfs.ko.gz'), zlib.gzipSync(elf('netfs module')));
  fs.writeFileSync(path.join(mods, 'k', '9p.ko.xz'), compress('xz', elf('9p module')));
  fs.writeFileSync(path.join(mods, 'k', '9pnet_virtio.ko.zst'), compress('zstd', elf('9pnet_virtio module')));
  fs.writeFileSync(path.join(mods, 'k', 'virtio_pci.ko'), elf('virtio_pci module'));
  fs.writeFileSync(path.join(mods, 'modules.dep'), 'k/virtio_pci.ko:\nk/9pnet_virtio.ko.zst:\nk/9p.ko.xz: k/netfs.ko.gz\nk/netfs.ko.gz:\n');
  fs.writeFileSync(path.join(tmp, 'busybox'), 'bb');
  const pre = { qemu: '/q', busybox: path.join(tmp, 'busybox'), kernel: '/k', kernelVersion: '9.9', modulesDir: mods, kernelReason: '' };
  const text = zlib.gunzipSync(fs.readFileSync(ensureInitramfs(pre, path.join(tmp, 'cache')))).toString('latin1');
  for (const m of ['virtio_pci', '9pnet_virtio', 'netfs', '9p']) {
    t.match(text, new RegExp(`modules/${m}\\.ko\\0`), `${m} is in the archive as a plain .ko`);
    t.match(text, new RegExp(`\\x7fELF\\x02\\x01\\x01\\x00${m} module`), `${m}'s contents are decompressed`);
  }
  t.notMatch(text, /\.ko\.(xz|zst|gz)/, 'no compressed names left');
  const order = /virtio_pci\.ko\n9pnet_virtio\.ko\nnetfs\.ko\n9p\.ko\n/.exec(text);
  t.ok(order, 'modules.order names the decompressed files, dependencies first');
  t.equal(moduleCompression('a.ko.zst'), 'zstd');
  t.equal(missingDecompressors(['none', 'gzip']), undefined, 'node decompresses gzip itself');
  // Not a module once decompressed, or a corrupt stream: a clear error naming the file.
  fs.writeFileSync(path.join(mods, 'k', 'bad.ko.xz'), compress('xz', Buffer.from('not elf')));
  t.throws(() => readModule(path.join(mods, 'k', 'bad.ko.xz')), /bad.ko.xz is not an ELF object once xz-decompressed/);
  fs.writeFileSync(path.join(mods, 'k', 'corrupt.ko.zst'), Buffer.from('garbage'));
  t.throws(() => readModule(path.join(mods, 'k', 'corrupt.ko.zst')), /cannot decompress .*corrupt.ko.zst: zstd -dc exited/);
});

t.test('prerequisites: kernels, static busybox, install command', async (t) => {
  t.ok(compareKernelVersions('6.1.0-56-amd64', '6.1.0-9-amd64') > 0);
  t.ok(compareKernelVersions('5.10.0-1-amd64', '6.1.0-1-amd64') < 0);
  t.equal(compareKernelVersions('6.1', '6.1'), 0);
  t.equal(findKernel('/nonexistent-boot'), undefined);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-boot-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  for (const v of ['6.1.0-9-amd64', '6.1.0-56-amd64', '7.0.0-1-amd64']) fs.writeFileSync(path.join(tmp, `vmlinuz-${v}`), '');
  for (const v of ['6.1.0-9-amd64', '6.1.0-56-amd64']) fs.mkdirSync(path.join(tmp, 'mods', v), { recursive: true }), fs.writeFileSync(path.join(tmp, 'mods', v, 'modules.dep'), '');
  t.equal(findKernel(tmp, path.join(tmp, 'mods')), undefined, 'modules.dep without the modules the testbed needs');
  const dep = ['virtio_pci', '9pnet_virtio', '9p', 'vfio-pci', 'nvme'].map((m) => `kernel/${m}.ko:`).join('\n');
  for (const v of ['6.1.0-9-amd64', '6.1.0-56-amd64']) fs.writeFileSync(path.join(tmp, 'mods', v, 'modules.dep'), dep);
  t.equal(findKernel(tmp, path.join(tmp, 'mods'))?.version, '6.1.0-56-amd64', 'newest with modules installed');
  // A newer kernel with compressed modules is preferred; one without vfio-pci is passed over.
  fs.writeFileSync(path.join(tmp, 'vmlinuz-6.12.117+deb12-amd64'), '');
  fs.mkdirSync(path.join(tmp, 'mods', '6.12.117+deb12-amd64'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'mods', '6.12.117+deb12-amd64', 'modules.dep'), dep.replace(/\.ko:/g, '.ko.xz:'));
  fs.writeFileSync(path.join(tmp, 'vmlinuz-6.13.0-1-amd64'), '');
  fs.mkdirSync(path.join(tmp, 'mods', '6.13.0-1-amd64'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'mods', '6.13.0-1-amd64', 'modules.dep'), dep.replace('kernel/vfio-pci.ko:', ''));
  const newest = findKernel(tmp, path.join(tmp, 'mods'));
  t.equal(newest?.version, '6.12.117+deb12-amd64', 'the newest that works, compressed modules and all');
  t.match(newest?.reason, /kernel 6\.12\.117\+deb12-amd64 \(the newest in \/boot the testbed can boot; passed over 6\.13\.0-1-amd64 \(no module vfio_pci/);
  t.same(listKernels(tmp, path.join(tmp, 'mods')).map((k) => k.version), ['6.1.0-9-amd64', '6.1.0-56-amd64', '6.12.117+deb12-amd64', '6.13.0-1-amd64', '7.0.0-1-amd64']);
  t.ok(kernelMatches('6.1.0-57-amd64', '6.1') && !kernelMatches('6.12.117+deb12-amd64', '6.1') && kernelMatches('6.12.117+deb12-amd64', '6.12'));
  t.equal(findKernel(tmp, path.join(tmp, 'mods'), '6.1')?.version, '6.1.0-56-amd64', '--kernel 6.1: the newest 6.1');
  t.equal(findKernel(tmp, path.join(tmp, 'mods'), '6.1.0-9-amd64')?.reason, 'kernel 6.1.0-9-amd64 (as asked; passed over 6.1.0-56-amd64; 6.12.117+deb12-amd64; 6.13.0-1-amd64 (no module vfio_pci (neither in modules.dep nor built in)); 7.0.0-1-amd64 (no ' + path.join(tmp, 'mods', '7.0.0-1-amd64', 'modules.dep') + ' (its modules are not installed)))');
  t.throws(() => findKernel(tmp, path.join(tmp, 'mods'), '5.10'), { code: 'PHYR_VM_KERNEL', message: /--kernel 5\.10: no \/boot\/vmlinuz-5\.10\*; installed: 6\.1\.0-9-amd64; / });
  t.throws(() => findKernel(tmp, path.join(tmp, 'mods'), '7.0'), { code: 'PHYR_VM_KERNEL', message: /--kernel 7\.0: the testbed cannot boot 7\.0\.0-1-amd64 \(no .*modules.dep/ });
  t.notOk(isStaticBusybox(process.execPath), 'node is dynamically linked');
  t.notOk(isStaticBusybox('/nonexistent'));
  t.match(new VmPrereqError(['qemu']).message, APT_INSTALL);
});

t.test('guest script binds controllers and returns the status', async (t) => {
  t.equal(shellQuote("it's"), `'it'\\''s'`);
  const s = guestScript({
    share: '/w/run-1', cwd: '/w', command: ['node', '-e', "console.log('x')"], env: { PHYR_X: 'a b' }, hugepages: 32,
    controllers: nvmeQemuArgs([parseNvmeSpec(''), parseNvmeSpec('driver=nvme'), parseNvmeSpec('driver=none')], '/i').placed,
  });
  t.match(s, /bind 0000:00:10.0 vfio-pci/);
  t.match(s, /modprobe nvme/);
  t.match(s, /bind 0000:00:11.0 nvme/);
  t.notMatch(s, /bind 0000:00:12.0/);
  t.match(s, /echo 32 > \/proc\/sys\/vm\/nr_hugepages/);
  t.match(s, /export PHYR_X='a b'/);
  t.match(s, /'node' '-e' 'console.log\('\\''x'\\''\)'/);
  t.match(s, /echo \$status > "\$share\/status"/);
});

t.test('runVm refuses bad setups before booting', async (t) => {
  await t.rejects(runVm({ command: [] }), /no command to run/);
  await t.rejects(runVm({ command: ['true'], workDir: '/tmp/x' }), /must not be under \/tmp|QEMU testbed needs/);
});

t.test('phyr vm: help and argument errors', async (t) => {
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (s: string) => void out.push(s);
  console.error = (s: string) => void out.push(s);
  try {
    t.equal(await vmCommand.run(['--help']), 0);
    t.match(out.join('\n'), /--nvme SPEC/);
    t.equal(await vmCommand.run([]), 2);
    await t.rejects(vmCommand.run(['--accel', 'xen', '--', 'true']), /--accel 'xen' must be tcg or kvm/);
    await t.rejects(vmCommand.run(['--timeout', '0', '--', 'true']), /--timeout '0' must be an integer from 1 to 86400/);
    await t.rejects(vmCommand.run(['--nvme', 'ns=99', '--', 'true']), /from 1 to 32/);
    await t.rejects(vmCommand.run(['--kernel', '../x', '--', 'true']), /--kernel '..\/x' is not a kernel version/);
    t.match(out.join('\n'), /--kernel VERSION/);
    t.match(out.join('\n'), /NAME=VALUE +any further QEMU nvme property/);
  } finally {
    console.log = log;
    console.error = err;
  }
});

const noKernel = ((): string | false => {
  try {
    findPrereqs();
    return false;
  } catch (err) {
    return `${(err as Error).message} (the launcher cannot build its initramfs)`;
  }
})();
t.test('runVm with a stand-in QEMU: output between markers, status, collected files, timeout', { skip: noKernel }, async (t) => {
  // Not under /tmp (the launcher refuses it), wherever the package itself was cloned.
  const work = fs.mkdtempSync(path.join('/var/tmp', 'phyr-vm-unit-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const qemu = path.join(__dirname, '..', 'helpers', 'fake-qemu.sh');
  const seen: string[] = [];
  const r = await runVm({
    command: ['sh', '-c', 'echo hello from the guest; echo data > "$PHYR_VM_SHARE/out.txt"; exit 7'],
    qemu, workDir: work, collect: ['out.txt', 'missing.txt'], onOutput: (s) => void seen.push(s), nvme: [parseNvmeSpec('')],
  });
  t.equal(r.status, 7);
  t.equal(r.output, 'hello from the guest\n', 'boot noise is not part of the output');
  t.same(seen, ['hello from the guest\n']);
  t.same(r.files, { 'out.txt': 'data\n' });
  t.equal(r.controllers[0].bdf, '0000:00:10.0');
  t.same(fs.readdirSync(path.join(work, 'runs')), [], 'run directories and images removed');
  process.env.FAKE_QEMU_MODE = 'hang';
  try {
    await t.rejects(runVm({ command: ['true'], qemu, workDir: work, timeoutSeconds: 1 }), { code: 'PHYR_VM_TIMEOUT', message: /did not finish within 1 s; QEMU was killed/ });
    process.env.FAKE_QEMU_MODE = 'nostatus';
    await t.rejects(runVm({ command: ['true'], qemu, workDir: work }), { code: 'PHYR_VM_BOOT', message: /powered off without running the command[^]*Kernel panic/ });
  } finally {
    delete process.env.FAKE_QEMU_MODE;
  }
  await t.rejects(runVm({ command: ['true'], qemu: '/nonexistent/qemu', workDir: work }), { code: 'PHYR_VM_BOOT', message: /could not start \/nonexistent\/qemu/ });
  await t.rejects(runVm({ command: ['true'], qemu, workDir: work, collect: ['../x'] }), /plain file name/);
});
