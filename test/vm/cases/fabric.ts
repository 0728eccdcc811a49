// NVMe/TCP with the real host: the guest kernel's nvme-tcp initiator and nvme-cli (the host's
// /usr/sbin/nvme, through the guest's chroot of the host root) against phyr's target on the
// embedded controller (`phyr serve TARGET --listen`, a process of its own: the case runs
// nvme-cli, fio and mount synchronously). Discovery, connect,
// id-ctrl over the fabric, fio with verify on the fabric namespace, ext4 with files that
// survive a disconnect and reconnect, and a host that is not on the allow-list refused.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { atEnd, note, test } from '../harness';
// The twin pair: one QEMU controller spec, one left to the kernel nvme driver (nvmet
// exports it), one bound to vfio-pci (phyr serve exports it).
import { TWIN_KERNEL, TWIN_VFIO } from '../topology';

const NVME_CLI = '/usr/sbin/nvme';
const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');
const SUBNQN = 'nqn.2026-12.dev.phyr:vm-fabric';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:7f0b3c9e-3a55-4bd2-9d8e-1f6c2a4b5d60';
const STRANGER = 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000bad';
const PORT = 4420;
const TARGET = 'emu:backend=ram,size=64M';
const MOUNT = '/tmp/phyr-fabric-mnt';

let target: ChildProcess | undefined;
const targetLog: string[] = [];

function run(cmd: string, args: string[], okStatus = true): { status: number; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  if (okStatus) assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}: ${out.trim()}`);
  return { status: r.status ?? -1, out, stdout: r.stdout ?? '' };
}

function waitFor(pred: () => boolean, what: string, ms = 20_000): void {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    spawnSync('sleep', ['0.2']);
  }
}

/** The controllers the kernel has over TCP with our subsystem NQN: /dev/nvmeN names. */
function fabricControllers(): string[] {
  const dir = '/sys/class/nvme';
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => {
    const read = (f: string) => (fs.existsSync(path.join(dir, n, f)) ? fs.readFileSync(path.join(dir, n, f), 'utf8').trim() : '');
    return read('transport') === 'tcp' && read('subsysnqn') === SUBNQN && read('state') === 'live';
  });
}

/** The block device of a fabric controller's namespace, once the kernel has made it (it
 *  appears after the controller goes live: nvme<subsys>n1, a child of the controller, or
 *  nvme<subsys>c<ctrl>n1 with native multipath). */
function blockDevice(ctrl: string): string {
  const dir = `/sys/class/nvme/${ctrl}`;
  const find = () => (fs.existsSync(dir) ? fs.readdirSync(dir).find((n) => /^nvme\d+(c\d+)?n1$/.test(n)) : undefined);
  waitFor(() => find() !== undefined, `a namespace of ${ctrl}`);
  const dev = `/dev/${find()!.replace(/c\d+n/, 'n')}`;
  waitFor(() => fs.existsSync(dev), dev);
  return dev;
}

function connect(hostnqn = HOSTNQN): { status: number; out: string } {
  return run(NVME_CLI, ['connect', '-t', 'tcp', '-a', '127.0.0.1', '-s', String(PORT), '-n', SUBNQN, '-q', hostnqn], false);
}

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

test('fabric: setup: loopback up, nvme-tcp loaded, phyr serve --listen on the embedded controller', async () => {
  run('ip', ['link', 'set', 'lo', 'up']);
  run('modprobe', ['nvme-tcp']);
  const child = await startServe([TARGET, '--listen', `tcp://127.0.0.1:${PORT}`, '--subnqn', SUBNQN, '--allow-host', HOSTNQN], targetLog);
  target = child;
  atEnd(() => {
    child.kill('SIGTERM');
  });
  note(`target: ${targetLog[targetLog.length - 1]}`);
});

test('fabric: nvme discover lists the subsystem at the listener', () => {
  const { stdout: out } = run(NVME_CLI, ['discover', '-t', 'tcp', '-a', '127.0.0.1', '-s', String(PORT), '-q', HOSTNQN, '-o', 'json']);
  const doc = JSON.parse(out) as { records?: { trtype: string; adrfam: string; subtype: string; subnqn: string; traddr: string; trsvcid: string }[] };
  const rec = doc.records?.find((r) => r.subnqn === SUBNQN);
  assert.ok(rec, `no record for ${SUBNQN}: ${out}`);
  assert.equal(rec.trtype, 'tcp');
  assert.equal(rec.traddr, '127.0.0.1');
  assert.equal(rec.trsvcid.trim(), String(PORT));
  note(`discover: ${doc.records?.length} record(s): ${rec.trtype} ${rec.adrfam} ${rec.subtype} ${rec.traddr}:${rec.trsvcid} ${rec.subnqn}`);
});

/** Lets the target's output, which arrived while a synchronous command ran, be read. */
const drain = () => new Promise((resolve) => setTimeout(resolve, 300));

/** The kernel's last lines, for a failure's message. */
const dmesg = () => run('dmesg', [], false).out.trim().split('\n').slice(-12).join(' | ');

test('fabric: a host not on the allow-list is refused; the allowed host connects and gets a block device', async () => {
  const refused = connect(STRANGER);
  assert.notEqual(refused.status, 0, `nvme connect of ${STRANGER} succeeded`);
  await drain();
  assert.ok(targetLog.some((l) => l.includes(`refused host ${STRANGER}`)), `the target logged no refusal: ${targetLog.join(' | ')}`);
  note(`refused host: nvme connect exited ${refused.status}: ${refused.out.trim().split('\n').pop()}`);
  const ok = connect();
  await drain();
  assert.equal(ok.status, 0, `nvme connect: ${ok.out}; kernel: ${dmesg()}; target: ${targetLog.join(' | ')}`);
  waitFor(() => fabricControllers().length === 1, 'a live TCP controller');
  const dev = blockDevice(fabricControllers()[0]);
  waitFor(() => fs.existsSync(dev), dev);
  note(`connected: ${fabricControllers()[0]}, namespace ${dev}; ${ok.out.trim()}`);
});

test('fabric: nvme id-ctrl over the fabric reports the subsystem, an I/O controller and the fabric fields', () => {
  const ctrl = `/dev/${fabricControllers()[0]}`;
  const id = JSON.parse(run(NVME_CLI, ['id-ctrl', ctrl, '-o', 'json']).stdout) as Record<string, unknown>;
  assert.equal(id.subnqn, SUBNQN);
  assert.equal(id.cntrltype, 1);
  assert.equal(id.ioccsz, (64 + 8192) / 16);
  assert.equal(id.iorcsz, 1);
  assert.equal(id.maxcmd, 128);
  note(`id-ctrl: mn "${String(id.mn).trim()}", cntlid ${id.cntlid}, ioccsz ${id.ioccsz}, sgls 0x${Number(id.sgls).toString(16)}`);
  const ns = JSON.parse(run(NVME_CLI, ['id-ns', blockDevice(fabricControllers()[0]), '-o', 'json']).stdout) as Record<string, number>;
  note(`id-ns: nsze ${ns.nsze}, flbas ${ns.flbas}`);
  assert.ok(ns.nsze > 0);
});

test('fabric: fio (libaio, direct, verify=crc32c) on the fabric namespace', () => {
  const dev = blockDevice(fabricControllers()[0]);
  const { stdout: out } = run('fio', ['--name=fabric', `--filename=${dev}`, '--ioengine=libaio', '--direct=1', '--rw=randwrite', '--bs=4k', '--size=8m', '--iodepth=16', '--verify=crc32c', '--verify_fatal=1', '--output-format=json']);
  const job = (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: { error: number; write: { io_bytes: number; iops: number }; read: { io_bytes: number } }[] }).jobs[0];
  assert.equal(job.error, 0);
  assert.equal(job.write.io_bytes, 8 << 20);
  assert.equal(job.read.io_bytes, 8 << 20, 'the verify phase read everything back');
  note(`fio: 8 MiB random writes at QD16 verified by reading back; write ${job.write.iops.toFixed(0)} IOPS`);
});

test('fabric: ext4 on the fabric namespace: files survive a disconnect and reconnect', () => {
  const dev = blockDevice(fabricControllers()[0]);
  run('modprobe', ['ext4'], false);
  run('mkfs.ext4', ['-q', '-F', dev]);
  fs.mkdirSync(MOUNT, { recursive: true });
  run('mount', [dev, MOUNT]);
  const sums: Record<string, string> = {};
  for (let i = 0; i < 8; i++) {
    const f = path.join(MOUNT, `file-${i}`);
    fs.writeFileSync(f, Buffer.from(Array.from({ length: 256 * 1024 + i * 4099 }, (_, k) => (k * 31 + i) & 0xff)));
    sums[f] = sha(f);
  }
  run('sync', []);
  run('umount', [MOUNT]);
  run(NVME_CLI, ['disconnect', '-n', SUBNQN]);
  waitFor(() => fabricControllers().length === 0, 'the controller to go');
  assert.equal(connect().status, 0, 'reconnect');
  waitFor(() => fabricControllers().length === 1, 'a live TCP controller again');
  const dev2 = blockDevice(fabricControllers()[0]);
  waitFor(() => fs.existsSync(dev2), dev2);
  run('mount', [dev2, MOUNT]);
  for (const [f, s] of Object.entries(sums)) assert.equal(sha(f), s, `${f} changed across the reconnect`);
  run('umount', [MOUNT]);
  run(NVME_CLI, ['disconnect', '-n', SUBNQN]);
  waitFor(() => fabricControllers().length === 0, 'the controller to go');
  note(`ext4: 8 files (${Object.keys(sums).length}) written, synced, unmounted, disconnected, reconnected, and read back with the same SHA-256`);
  assert.ok(target && target.exitCode === null, 'the target is still running');
});

/** Starts `phyr serve` with --listen; resolves once it listens. */
function startServe(args: string[], log: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [PHYR, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`phyr serve did not start: ${log.join(' | ')}`)), 30_000);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        log.push(line);
        if (line.startsWith('fabric: NVMe/TCP at ')) {
          clearTimeout(timer);
          resolve(child);
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    child.once('exit', (code) => reject(new Error(`phyr serve exited ${code}: ${log.join(' | ')}`)));
  });
}

/** Runs a command without blocking the event loop; resolves with its exit status and output. */
function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let out = '';
    child.stdout.on('data', (c: Buffer) => ((stdout += c), (out += c)));
    child.stderr.on('data', (c: Buffer) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, out });
    });
  });
}

test('fabric: the target killed mid-IO and restarted on its file: the host reconnects and no acknowledged write is lost', async () => {
  const image = '/tmp/phyr-fabric.img';
  const subnqn = 'nqn.2026-12.dev.phyr:vm-fabric-file';
  const port = PORT + 1;
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 64 << 20);
  const args = [`emu:backend=file:${image},size=64M`, '--listen', `tcp://127.0.0.1:${port}`, '--subnqn', subnqn, '--allow-host', HOSTNQN];
  const log: string[] = [];
  let serve = await startServe(args, log);
  atEnd(() => {
    serve.kill('SIGTERM');
  });
  const c = run(NVME_CLI, ['connect', '-t', 'tcp', '-a', '127.0.0.1', '-s', String(port), '-n', subnqn, '-q', HOSTNQN, '--reconnect-delay=1', '--ctrl-loss-tmo=120'], false);
  assert.equal(c.status, 0, `nvme connect: ${c.out}`);
  const live = () => fs.readdirSync('/sys/class/nvme').filter((n) => fs.readFileSync(`/sys/class/nvme/${n}/subsysnqn`, 'utf8').trim() === subnqn);
  waitFor(() => live().some((n) => fs.readFileSync(`/sys/class/nvme/${n}/state`, 'utf8').trim() === 'live'), 'the file-backed controller');
  const ctrl = live()[0];
  const dev = blockDevice(ctrl);
  // Sequential 4 KiB writes, each block with a verify header; the target is killed while
  // they run. The host holds the requests across the reconnect (ctrl-loss-tmo) and fio
  // sees them complete; then a verify-only pass reads every block back.
  const job = ['--name=restart', `--filename=${dev}`, '--ioengine=libaio', '--direct=1', '--rw=write', '--bs=4k', '--size=4m', '--iodepth=4', '--verify=crc32c', '--verify_fatal=1'];
  const writer = runAsync('fio', [...job, '--do_verify=0', '--output-format=json'], 240_000);
  await new Promise((r) => setTimeout(r, 2500));
  serve.kill('SIGKILL');
  await new Promise((r) => serve.once('exit', r));
  const state = fs.readFileSync(`/sys/class/nvme/${ctrl}/state`, 'utf8').trim();
  await new Promise((r) => setTimeout(r, 1500));
  serve = await startServe(args, log);
  const w = await writer;
  assert.equal(w.status, 0, `fio write across the restart exited ${w.status}: ${w.out.slice(-800)}`);
  const wj = (JSON.parse(w.stdout.slice(w.stdout.indexOf('{'))) as { jobs: { error: number; write: { io_bytes: number } }[] }).jobs[0];
  assert.equal(wj.error, 0);
  assert.equal(wj.write.io_bytes, 4 << 20, 'every write completed');
  const v = await runAsync('fio', [...job, '--verify_only', '--output-format=json'], 240_000);
  assert.equal(v.status, 0, `fio verify_only exited ${v.status}: ${v.out.slice(-800)}`);
  const vj = (JSON.parse(v.stdout.slice(v.stdout.indexOf('{'))) as { jobs: { error: number; read: { io_bytes: number } }[] }).jobs[0];
  assert.equal(vj.error, 0);
  assert.equal(vj.read.io_bytes, 4 << 20, 'every block read back and verified');
  run(NVME_CLI, ['disconnect', '-n', subnqn]);
  const associations = log.filter((l) => l.includes(`of ${subnqn}: controller`) || (l.includes('fabric: host') && l.includes(subnqn))).length;
  note(`restart: target SIGKILLed 2.5 s into 4 MiB of sequential writes (host controller ${ctrl} then ${state}), restarted on the same file; the host reconnected (${associations} associations in the logs), fio completed all 1024 writes and a verify-only pass checked all 1024 blocks`);
});

/** Busy and total jiffies of the whole guest (/proc/stat's cpu line): host and target CPU. */
function cpuJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** fio 4 KiB random reads at QD16 on `dev` for 5 s: IOPS, p50/p99 completion latency (µs)
 *  and the guest's CPU time per IO (µs), host side and target side together. */
async function fioRandread(dev: string, timeoutMs: number): Promise<{ iops: number; p50: number; p99: number; cpuUsPerIo: number }> {
  const hz = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux
  const before = cpuJiffies();
  const r = await runAsync('fio', ['--name=cmp', `--filename=${dev}`, '--ioengine=libaio', '--direct=1', '--rw=randread', '--bs=4k', '--size=32m', '--iodepth=16', '--runtime=3', '--time_based', '--output-format=json'], timeoutMs);
  const after = cpuJiffies();
  assert.equal(r.status, 0, `fio on ${dev}: ${r.out.slice(-600)}`);
  const job = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: { error: number; read: { iops: number; total_ios: number; clat_ns: { percentile: Record<string, number> } } }[] }).jobs[0];
  assert.equal(job.error, 0);
  assert.ok(job.read.total_ios > 0, `fio on ${dev} completed no read`);
  const pct = job.read.clat_ns.percentile;
  return { iops: job.read.iops, p50: pct['50.000000'] / 1000, p99: pct['99.000000'] / 1000, cpuUsPerIo: (((after.busy - before.busy) / hz) * 1e6) / Math.max(1, job.read.total_ios) };
}

/** 1 MiB of sequential 4 KiB writes, each block with a crc32c header, then every block read
 *  back and checked (fio's verify phase): data goes through the target both ways. */
async function verifyMiB(dev: string, timeoutMs: number): Promise<void> {
  const r = await runAsync('fio', ['--name=mib', `--filename=${dev}`, '--ioengine=libaio', '--direct=1', '--rw=write', '--bs=4k', '--size=1m', '--iodepth=8', '--verify=crc32c', '--verify_fatal=1', '--output-format=json'], timeoutMs);
  assert.equal(r.status, 0, `fio verify on ${dev} exited ${r.status}: ${r.out.slice(-600)}`);
  const job = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: { error: number; write: { io_bytes: number }; read: { io_bytes: number } }[] }).jobs[0];
  assert.equal(job.error, 0);
  assert.equal(job.write.io_bytes, 1 << 20, `1 MiB written through ${dev}`);
  assert.equal(job.read.io_bytes, 1 << 20, `1 MiB read back and verified through ${dev}`);
}

/** A host ID to go with HOSTNQN's UUID: given alone, the kernel takes the machine's host ID
 *  and refuses it under another NQN than the one it first saw ("found same hostid"). */
const HOSTID = HOSTNQN.slice(HOSTNQN.lastIndexOf(':') + 1);

/** Connects through /dev/nvme-fabrics, the kernel's own interface (what nvme-cli writes),
 *  so the case does not need nvme-cli. */
function fabricsConnect(nqn: string, port: number): void {
  const opts = `transport=tcp,traddr=127.0.0.1,trsvcid=${port},nqn=${nqn},hostnqn=${HOSTNQN},hostid=${HOSTID}`;
  try {
    fs.writeFileSync('/dev/nvme-fabrics', opts);
  } catch (e) {
    throw new Error(`connect ${opts}: ${(e as Error).message}; kernel: ${dmesg()}`);
  }
}

/** Deletes every controller of `nqn` (sysfs delete_controller, what nvme disconnect does). */
function fabricsDisconnect(nqn: string): void {
  for (const n of fs.existsSync('/sys/class/nvme') ? fs.readdirSync('/sys/class/nvme') : []) {
    const f = `/sys/class/nvme/${n}/subsysnqn`;
    if (fs.existsSync(f) && fs.readFileSync(f, 'utf8').trim() === nqn) spawnSync('sh', ['-c', `echo 1 > /sys/class/nvme/${n}/delete_controller`]);
  }
}

function nsDeviceOf(subnqn: string): string {
  const ctrl = fs.readdirSync('/sys/class/nvme').find((n) => fs.readFileSync(`/sys/class/nvme/${n}/subsysnqn`, 'utf8').trim() === subnqn && fs.readFileSync(`/sys/class/nvme/${n}/state`, 'utf8').trim() === 'live');
  assert.ok(ctrl, `no live controller of ${subnqn}`);
  return blockDevice(ctrl);
}

test('fabric: phyr serve on a VFIO QEMU controller beside the kernel\'s nvmet on its twin: 1 MiB verified through each, then the same fio job over NVMe/TCP, within 60 s', async () => {
  // The case bounds itself: every wait gets what is left of 60 s.
  const BUDGET_MS = 60_000;
  const t0 = Date.now();
  const left = () => {
    const ms = BUDGET_MS - (Date.now() - t0);
    if (ms <= 0) throw new Error(`the nvmet comparison took more than ${BUDGET_MS / 1000} s`);
    return ms;
  };
  // The kernel's target (nvmet) over the twin the kernel nvme driver owns.
  const kdir = `/sys/bus/pci/devices/${TWIN_KERNEL}/nvme`;
  const kctrl = fs.readdirSync(kdir).find((n) => /^nvme\d+$/.test(n));
  assert.ok(kctrl, `${TWIN_KERNEL} has no kernel controller`);
  const kns = fs.readdirSync(`/sys/class/nvme/${kctrl}`).find((n) => /^nvme\d+(c\d+)?n1$/.test(n));
  assert.ok(kns, `${kctrl} has no namespace`);
  const backing = `/dev/${kns.replace(/c\d+n/, 'n')}`;
  run('ip', ['link', 'set', 'lo', 'up']);
  run('modprobe', ['nvme-tcp']);
  run('modprobe', ['nvmet-tcp']);
  if (!fs.existsSync('/sys/kernel/config/nvmet')) run('mount', ['-t', 'configfs', 'none', '/sys/kernel/config']);
  const knqn = 'nqn.2026-12.dev.phyr:vm-nvmet';
  const sub = `/sys/kernel/config/nvmet/subsystems/${knqn}`;
  const portDir = '/sys/kernel/config/nvmet/ports/7';
  fs.mkdirSync(sub);
  fs.writeFileSync(`${sub}/attr_allow_any_host`, '1');
  fs.mkdirSync(`${sub}/namespaces/1`);
  fs.writeFileSync(`${sub}/namespaces/1/device_path`, backing);
  fs.writeFileSync(`${sub}/namespaces/1/enable`, '1');
  fs.mkdirSync(portDir);
  for (const [k, v] of [['addr_trtype', 'tcp'], ['addr_adrfam', 'ipv4'], ['addr_traddr', '127.0.0.1'], ['addr_trsvcid', '4430']]) fs.writeFileSync(`${portDir}/${k}`, v);
  fs.symlinkSync(sub, `${portDir}/subsystems/${knqn}`);
  const removeNvmet = () => {
    fabricsDisconnect(knqn);
    fs.rmSync(`${portDir}/subsystems/${knqn}`, { force: true });
    spawnSync('sh', ['-c', `echo 0 > '${sub}/namespaces/1/enable'`]);
    for (const d of [portDir, `${sub}/namespaces/1`, sub]) spawnSync('rmdir', [d]);
  };
  // phyr's target over the twin bound to vfio-pci.
  const pnqn = 'nqn.2026-12.dev.phyr:vm-phyr-vfio';
  const log: string[] = [];
  const serve = await startServe([TWIN_VFIO, '--listen', 'tcp://127.0.0.1:4431', '--subnqn', pnqn, '--allow-any-host'], log).catch((e: unknown) => {
    removeNvmet();
    throw e;
  });
  // Both targets go within the case: later cases (nvme-cli) open the VFIO twin and the
  // kernel's controller themselves.
  const release = async () => {
    fabricsDisconnect(pnqn);
    removeNvmet();
    if (serve.exitCode === null) {
      const gone = new Promise((r) => serve.once('exit', r));
      serve.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      if (serve.exitCode === null) serve.kill('SIGKILL');
    }
  };
  try {
    for (const [nqn, port] of [[knqn, 4430], [pnqn, 4431]] as const) fabricsConnect(nqn, port);
    waitFor(() => { try { return fs.existsSync(nsDeviceOf(knqn)) && fs.existsSync(nsDeviceOf(pnqn)); } catch { return false; } }, 'both fabric namespaces', Math.min(20_000, left()));
    const kdev = nsDeviceOf(knqn);
    const pdev = nsDeviceOf(pnqn);
    assert.notEqual(kdev, pdev, 'two fabric namespaces');
    assert.notEqual(kdev, backing, 'fio runs on the fabric namespace, not on the local one');
    await verifyMiB(kdev, left());
    await verifyMiB(pdev, left());
    note(`1 MiB written and read back with crc32c through nvmet (${kdev}) and through phyr serve (${pdev}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const kernel = await fioRandread(kdev, left());
    const phyr = await fioRandread(pdev, left());
    const f = (r: typeof kernel) => `${r.iops.toFixed(0)} IOPS, p50 ${r.p50.toFixed(0)} µs, p99 ${r.p99.toFixed(0)} µs, ${r.cpuUsPerIo.toFixed(0)} µs guest CPU per IO`;
    left();
    note(`fio 4k randread QD16 for 3 s over NVMe/TCP on loopback, QEMU twin controllers: kernel nvmet ${f(kernel)}; phyr serve ${f(phyr)}; phyr / nvmet IOPS ${(phyr.iops / kernel.iops).toFixed(2)}x`);
    assert.ok(phyr.iops > 0 && kernel.iops > 0, 'both targets moved data');
  } finally {
    await release();
  }
  assert.equal(serve.exitCode, 0, `phyr serve on the VFIO twin exited ${serve.exitCode} on SIGTERM: ${log.slice(-3).join(' | ')}`);
});
