'use strict';
// The NVMe/TCP section of bench/vm.js, run inside the guest by bench/vm-guest.js: the same
// fio jobs (libaio, direct=1, 4 KiB) through the guest kernel's nvme-tcp initiator over
// loopback against two targets of one boot — the kernel's own nvmet, configured through
// configfs over the twin controller the kernel nvme driver owns, and `phyr serve BDF
// --listen` over the twin bound to vfio-pci. The host side connects through
// /dev/nvme-fabrics (the kernel's interface that nvme-cli writes; the guest has no nvme-cli).
// Per row: fio's IOPS and completion latency, fio's own CPU per IO, the rest of the guest's
// CPU per IO (/proc/stat busy time less fio's and the serve process's) and the serve
// process's CPU per IO (/proc/PID/stat utime+stime).
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');

const SECTION = 'NVMe/TCP';
// The host ID is given with the NQN: without it the kernel takes the machine's own, and
// refuses a known host ID under another NQN (fabrics.c, "found same hostid").
const HOSTID = '3d1c0b7e-5f2a-4c11-9a6e-2b7d4e9f1c08';
const HOSTNQN = `nqn.2014-08.org.nvmexpress:uuid:${HOSTID}`;
const NVMET_NQN = 'nqn.2026-12.dev.phyr:bench-nvmet';
const PHYR_NQN = 'nqn.2026-12.dev.phyr:bench-phyr';
const NVMET_PORT = 4440;
const PHYR_PORT = 4441;
// USER_HZ: /proc/stat and /proc/PID/stat count in 1/100 s on Linux.
const HZ = 100;
const SHAPES = [
  { rw: 'randread', qd: 1 },
  { rw: 'randread', qd: 32 },
  { rw: 'randwrite', qd: 32 },
];
const TARGETS = [
  { id: 'nvmet', name: 'nvmet' },
  { id: 'phyr-serve', name: 'phyr serve' },
];

const labelOf = (target, s) => `${SECTION} ${target.name} ${s.rw} QD${s.qd}`;
/** A row's key in the run file: tcp-nvmet-randread-qd1, tcp-phyr-serve-randwrite-qd32. */
const rowKey = (p) => `tcp-${p.target}-${p.rw}-qd${p.qd}`;

/** Busy jiffies of the whole guest (/proc/stat's cpu line less idle and iowait). */
function busyJiffies(stat) {
  const f = stat.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
}

/** utime+stime of a process from its /proc/PID/stat line (fields 14 and 15; the command
 *  name in parentheses may hold spaces, so fields are counted after its closing one). */
function processJiffies(line) {
  const f = line.slice(line.lastIndexOf(')') + 2).trim().split(/\s+/);
  // f[0] is field 3 (state): utime is field 14, stime field 15.
  return Number(f[11]) + Number(f[12]);
}

/**
 * One row's figures from fio's JSON document (one job) and the CPU the guest, fio and the
 * serve process (null for nvmet) spent over fio's life, in ns.
 */
function fioFigures(doc, rw, cpu) {
  const job = doc.jobs[0];
  const dir = rw.endsWith('read') ? job.read : job.write;
  const ios = dir.total_ios;
  if (!(ios > 0)) throw new Error(`fio did no ${rw} IO`);
  const pct = dir.clat_ns.percentile || {};
  const fioNs = ((job.usr_cpu + job.sys_cpu) / 100) * dir.runtime * 1e6;
  const serveNs = cpu.serveNs === null ? 0 : cpu.serveNs;
  return {
    iops: dir.iops,
    p50Ns: pct['50.000000'],
    p99Ns: pct['99.000000'],
    cpuNsPerIo: fioNs / ios,
    restNsPerIo: Math.max(0, cpu.guestNs - fioNs - serveNs) / ios,
    serveNsPerIo: cpu.serveNs === null ? undefined : cpu.serveNs / ios,
    ios,
    runtimeMs: dir.runtime,
  };
}

/** phyr IOPS over nvmet IOPS per shape, keyed by the phyr row's label. */
function ratios(rows) {
  const out = new Map();
  for (const r of rows) {
    if (r.params.target !== 'phyr-serve') continue;
    const base = rows.find((x) => x.params.target === 'nvmet' && x.params.rw === r.params.rw && x.params.qd === r.params.qd);
    if (base && base.iops > 0) out.set(r.label, r.iops / base.iops);
  }
  return out;
}

const sh = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim() : '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, what, ms = 30_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The live TCP controller of `nqn` and its namespace's block device, once both are there. */
function fabricDevice(nqn) {
  const dir = '/sys/class/nvme';
  if (!fs.existsSync(dir)) return undefined;
  const ctrl = fs.readdirSync(dir).find((n) => read(`${dir}/${n}/subsysnqn`) === nqn && read(`${dir}/${n}/transport`) === 'tcp' && read(`${dir}/${n}/state`) === 'live');
  if (!ctrl) return undefined;
  const ns = fs.readdirSync(`${dir}/${ctrl}`).find((n) => /^nvme\d+(c\d+)?n1$/.test(n));
  const dev = ns && `/dev/${ns.replace(/c\d+n/, 'n')}`;
  return dev && fs.existsSync(dev) ? { ctrl, dev } : undefined;
}

function connect(nqn, port) {
  // One write of the options string creates the controller (drivers/nvme/host/fabrics.c).
  const opts = `transport=tcp,traddr=127.0.0.1,trsvcid=${port},nqn=${nqn},hostnqn=${HOSTNQN},hostid=${HOSTID}`;
  try {
    fs.writeFileSync('/dev/nvme-fabrics', opts);
  } catch (e) {
    throw new Error(`connect (${opts}) to /dev/nvme-fabrics: ${e.message}; kernel: ${sh('dmesg | tail -4').stdout.trim().split('\n').join(' | ')}`);
  }
}

function disconnect(nqn) {
  const dir = '/sys/class/nvme';
  for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (read(`${dir}/${n}/subsysnqn`) === nqn) sh(`echo 1 > ${dir}/${n}/delete_controller`);
  }
}

/** nvmet over `backing` on a TCP port of its own; returns its teardown. */
function startNvmet(backing) {
  sh('modprobe nvmet-tcp');
  if (!fs.existsSync('/sys/kernel/config/nvmet')) sh('mount -t configfs none /sys/kernel/config');
  const sub = `/sys/kernel/config/nvmet/subsystems/${NVMET_NQN}`;
  const port = '/sys/kernel/config/nvmet/ports/9';
  fs.mkdirSync(sub);
  fs.writeFileSync(`${sub}/attr_allow_any_host`, '1');
  fs.mkdirSync(`${sub}/namespaces/1`);
  fs.writeFileSync(`${sub}/namespaces/1/device_path`, backing);
  fs.writeFileSync(`${sub}/namespaces/1/enable`, '1');
  fs.mkdirSync(port);
  for (const [k, v] of [['addr_trtype', 'tcp'], ['addr_adrfam', 'ipv4'], ['addr_traddr', '127.0.0.1'], ['addr_trsvcid', String(NVMET_PORT)]]) fs.writeFileSync(`${port}/${k}`, v);
  fs.symlinkSync(sub, `${port}/subsystems/${NVMET_NQN}`);
  return () => {
    fs.rmSync(`${port}/subsystems/${NVMET_NQN}`, { force: true });
    sh(`echo 0 > '${sub}/namespaces/1/enable'`);
    for (const d of [port, `${sub}/namespaces/1`, sub]) sh(`rmdir '${d}'`);
  };
}

/** `phyr serve BDF --listen`; resolves with the child once it listens. */
function startServe(node, cli, bdf) {
  const child = spawn(node, [cli, 'serve', bdf, '--listen', `tcp://127.0.0.1:${PHYR_PORT}`, '--subnqn', PHYR_NQN, '--allow-any-host'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`phyr serve did not listen within 60 s: ${log.join(' | ')}`)), 60_000);
    const onData = (c) => {
      for (const line of c.toString().split('\n').filter(Boolean)) {
        log.push(line);
        if (line.startsWith('fabric: NVMe/TCP at ')) {
          clearTimeout(timer);
          resolve({ child, log });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`phyr serve exited ${code}: ${log.slice(-3).join(' | ')}`)));
  });
}

function runFio(dev, s, seconds) {
  const argv = ['fio', '--name=tcp', `--filename=${dev}`, '--ioengine=libaio', '--direct=1', `--rw=${s.rw}`, '--bs=4k', `--iodepth=${s.qd}`, '--numjobs=1', `--runtime=${seconds}`, '--time_based', '--output-format=json'];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 120) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code, out, err, command: argv.join(' ') });
    });
  });
}

/**
 * Runs the section's rows that `only` (a RegExp or null) selects.
 * @param {{ bdf: string, kernelPci: string, seconds: number, only: RegExp|null, node: string, cli: string, measured: (row: object, endMs: number, runtimeMs: number) => void, skipped: string[] }} o
 */
async function runFabric(o) {
  const wanted = (t) => SHAPES.filter((s) => !o.only || o.only.test(labelOf(t, s)));
  if (TARGETS.every((t) => wanted(t).length === 0)) return;
  sh('ip link set lo up');
  sh('modprobe nvme-tcp');
  for (const t of TARGETS) {
    const shapes = wanted(t);
    if (shapes.length === 0) continue;
    let stop = () => {};
    let serve = null;
    const nqn = t.id === 'nvmet' ? NVMET_NQN : PHYR_NQN;
    try {
      if (t.id === 'nvmet') {
        const kdir = `/sys/bus/pci/devices/${o.kernelPci}/nvme`;
        const kctrl = fs.existsSync(kdir) ? fs.readdirSync(kdir).find((n) => /^nvme\d+$/.test(n)) : undefined;
        const kns = kctrl && fs.readdirSync(`/sys/class/nvme/${kctrl}`).find((n) => /^nvme\d+(c\d+)?n1$/.test(n));
        if (!kns) throw new Error(`${o.kernelPci} has no kernel namespace to export`);
        try {
          stop = startNvmet(`/dev/${kns.replace(/c\d+n/, 'n')}`);
        } catch (e) {
          throw new Error(`nvmet configfs: ${e.message}; kernel: ${sh('dmesg | tail -4').stdout.trim().split('\n').join(' | ')}`);
        }
      } else {
        serve = await startServe(o.node, o.cli, o.bdf);
        stop = () => serve.child.kill('SIGTERM');
      }
      connect(nqn, t.id === 'nvmet' ? NVMET_PORT : PHYR_PORT);
      await waitFor(() => fabricDevice(nqn) !== undefined, `the ${t.name} namespace over TCP`);
      const { ctrl, dev } = fabricDevice(nqn);
      process.stdout.write(`vm-bench: ${t.name} over TCP: controller ${ctrl}, namespace ${dev}; local ${fs.readdirSync('/sys/class/nvme').map((n) => `${n}=${read(`/sys/class/nvme/${n}/transport`)}`).join(' ')}; block ${fs.readdirSync('/sys/block').filter((n) => n.startsWith('nvme')).join(' ')}\n`);
      for (const s of shapes) {
        const label = labelOf(t, s);
        process.stdout.write(`vm-bench: ${label} ...\n`);
        const servePath = serve && `/proc/${serve.child.pid}/stat`;
        const g0 = busyJiffies(fs.readFileSync('/proc/stat', 'utf8'));
        const s0 = servePath && processJiffies(fs.readFileSync(servePath, 'utf8'));
        const r = await runFio(dev, s, o.seconds);
        const g1 = busyJiffies(fs.readFileSync('/proc/stat', 'utf8'));
        const s1 = servePath && processJiffies(fs.readFileSync(servePath, 'utf8'));
        let doc;
        try {
          doc = JSON.parse(r.out.slice(r.out.indexOf('{')));
        } catch {
          doc = undefined;
        }
        if (r.status !== 0 || !doc || doc.jobs.some((j) => j.error)) {
          o.skipped.push(`${label}: not measured — fio exited ${r.status}: ${(r.err || r.out).trim().split('\n').slice(-2).join(' / ')}`);
          continue;
        }
        const f = fioFigures(doc, s.rw, { guestNs: ((g1 - g0) / HZ) * 1e9, serveNs: servePath ? ((s1 - s0) / HZ) * 1e9 : null });
        const row = { label, params: { stack: `tcp-${t.id}`, engine: s.rw, target: t.id, rw: s.rw, qd: s.qd, jobs: 1 }, command: r.command, ...f };
        o.measured(row, doc.timestamp_ms, f.runtimeMs);
      }
    } catch (e) {
      o.skipped.push(`${SECTION} ${t.name}: not measured — ${e.message}`);
    } finally {
      disconnect(nqn);
      await sleep(500);
      stop();
      if (serve && serve.child.exitCode === null) await Promise.race([new Promise((r) => serve.child.once('exit', r)), sleep(10_000)]);
    }
  }
}

module.exports = { SECTION, rowKey, SHAPES, TARGETS, labelOf, busyJiffies, processJiffies, fioFigures, ratios, runFabric };
