#!/usr/bin/env node
// The guest half of bench/vm.js (runs inside the testbed, not on its own): the same 4 KiB
// random-read jobs through the kernel's NVMe stack (fio: libaio, io_uring, io_uring with
// polled queues, io_uring_cmd passthrough on the namespace's char device) on one twin
// controller and through phyr (`phyr bench`, PRP and SGL) on the other, one row after the
// other, each fio or phyr's own JSON read back; then the NVMe/TCP rows (bench/vm-fabric.js). Writes $PHYR_VM_SHARE/vm-bench.json.
//   node bench/vm-guest.js VFIO_BDF SECONDS
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const [bdf, secondsArg, onlyArg] = process.argv.slice(2);
// Optional: only the rows whose label matches this regular expression (bench/vm.js --only).
const ONLY = onlyArg ? new RegExp(onlyArg) : null;
const SECONDS = Number(secondsArg || 3);
const share = process.env.PHYR_VM_SHARE;
if (!bdf || !share) {
  console.error('bench/vm-guest: runs in the testbed from bench/vm.js (VFIO_BDF SECONDS, $PHYR_VM_SHARE)');
  process.exit(2);
}
const sh = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim() : '');

// The one controller the kernel's nvme driver owns in this boot.
const ctrl = fs.readdirSync('/sys/class/nvme').sort()[0];
const ns = `${ctrl}n1`;
const rows = [];
const skipped = [];

// The job's figures from fio's (or phyr's fio-shaped) JSON: IOPS over every job; p50 / p99
// of the busiest job's completion latency; CPU per IO = each job's user+system time (its
// usr_cpu/sys_cpu percentages of its runtime, as both programs measure them) over all IOs.
function figures(doc) {
  const jobs = doc.jobs;
  const ios = jobs.reduce((a, j) => a + j.read.total_ios, 0);
  const cpuNs = jobs.reduce((a, j) => a + ((j.usr_cpu + j.sys_cpu) / 100) * j.read.runtime * 1e6, 0);
  const busiest = [...jobs].sort((a, b) => b.read.total_ios - a.read.total_ios)[0];
  const p = (q) => busiest.read.clat_ns.percentile?.[q];
  return { iops: jobs.reduce((a, j) => a + j.read.iops, 0), p50Ns: p('50.000000'), p99Ns: p('99.000000'), cpuNsPerIo: ios ? cpuNs / ios : null, ios };
}

function run(label, params, argv) {
  if (ONLY && !ONLY.test(label)) return;
  process.stdout.write(`vm-bench: ${label} ...\n`);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  let doc;
  try {
    doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  } catch {
    doc = undefined;
  }
  const errored = doc?.jobs?.some((j) => j.error);
  if (r.status !== 0 || !doc || errored) {
    skipped.push(`${label}: not measured — ${argv[0] === 'fio' ? 'fio' : 'phyr bench'} exited ${r.status}${errored ? ' with a job error' : ''}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')}`);
    return;
  }
  const row = { label, params, command: argv.join(' '), ...figures(doc) };
  rows.push(row);
  // Where the measured interval lay, for the host's per-thread sampling of QEMU (bench/vm.js):
  // fio's timestamp_ms is taken when the run ended, phyr's when the jobs started (before the
  // ramp). One line: "vm-bench: measured <index> <ms before this line> <ms long>".
  const runtimeMs = Math.max(...doc.jobs.map((j) => j.read.runtime));
  const endMs = argv[0] === 'fio' ? doc.timestamp_ms : doc.timestamp_ms + RAMP_MS + runtimeMs;
  if (Number.isFinite(endMs) && runtimeMs > 0) process.stdout.write(`vm-bench: measured ${rows.length - 1} ${Math.max(0, Date.now() - endMs)} ${runtimeMs}\n`);
}

const RAMP_MS = 1000;
const common = ['--rw=randread', '--bs=4k', `--runtime=${SECONDS}`, '--time_based', `--ramp_time=${RAMP_MS / 1000}`, '--output-format=json'];
// direct=1 on the block device (no page cache); the char device has none to bypass.
const fio = (engine, qd, jobs, extra = [], file = `/dev/${ns}`) => ['fio', '--name=k', `--filename=${file}`, ...(file.startsWith('/dev/ng') ? [] : ['--direct=1']), `--ioengine=${engine}`, `--iodepth=${qd}`, `--numjobs=${jobs}`, ...common, ...extra];
const shapes = [[1, 1], [32, 1], [128, 1], [32, 2]];

for (const [qd, jobs] of shapes) run(`kernel libaio QD${qd}${jobs > 1 ? ` ×${jobs} jobs` : ''}`, { stack: 'kernel', engine: 'libaio', qd, jobs }, fio('libaio', qd, jobs));
for (const [qd, jobs] of shapes) run(`kernel io_uring QD${qd}${jobs > 1 ? ` ×${jobs} jobs` : ''}`, { stack: 'kernel', engine: 'io_uring', qd, jobs }, fio('io_uring', qd, jobs));
if (fs.existsSync(`/dev/ng${ctrl.slice(4)}n1`)) {
  for (const [qd, jobs] of shapes) run(`kernel io_uring_cmd QD${qd}${jobs > 1 ? ` ×${jobs} jobs` : ''}`, { stack: 'kernel', engine: 'io_uring_cmd', qd, jobs }, fio('io_uring_cmd', qd, jobs, ['--cmd_type=nvme'], `/dev/ng${ctrl.slice(4)}n1`));
} else skipped.push(`kernel io_uring_cmd: not measured — /dev/ng${ctrl.slice(4)}n1 is missing (the kernel has no NVMe generic char device)`);

// Polled queues: the nvme module's poll_queues is read when a controller is probed, so the
// controller is unbound and probed again after setting it.
const wantPolled = !ONLY || shapes.some(([qd, jobs]) => ONLY.test(`kernel io_uring polled QD${qd}${jobs > 1 ? ` ×${jobs} jobs` : ''}`));
const pciAddr = path.basename(fs.realpathSync(`/sys/class/nvme/${ctrl}/device`));
if (wantPolled) sh(`echo 2 > /sys/module/nvme/parameters/poll_queues && echo ${pciAddr} > /sys/bus/pci/drivers/nvme/unbind && echo ${pciAddr} > /sys/bus/pci/drivers/nvme/bind`);
// The probe may name the controller anew: find it under the PCI device again.
const probed = () => (fs.existsSync(`/sys/bus/pci/devices/${pciAddr}/nvme`) ? fs.readdirSync(`/sys/bus/pci/devices/${pciAddr}/nvme`)[0] : undefined);
for (let i = 0; wantPolled && i < 100 && !(probed() && fs.existsSync(`/dev/${probed()}n1`) && read(`/sys/class/nvme/${probed()}/state`) === 'live'); i++) sh('sleep 0.1');
const polledNs = `${probed()}n1`;
if (!wantPolled) {
  // --only left every polled row out.
} else if (read(`/sys/block/${polledNs}/queue/io_poll`) === '1') {
  for (const [qd, jobs] of shapes) run(`kernel io_uring polled QD${qd}${jobs > 1 ? ` ×${jobs} jobs` : ''}`, { stack: 'kernel', engine: 'io_uring-hipri', qd, jobs }, fio('io_uring', qd, jobs, ['--hipri=1'], `/dev/${polledNs}`));
} else skipped.push(`kernel io_uring polled: not measured — after poll_queues=2 and a new probe, /sys/block/${polledNs}/queue/io_poll is '${read(`/sys/block/${polledNs}/queue/io_poll`)}'`);

const phyr = (dptr, qd, jobs, extra = []) => [process.execPath, CLI, 'bench', bdf, `--dptr=${dptr}`, `--iodepth=${qd}`, `--numjobs=${jobs}`, '--eta=never', ...common, ...extra];
for (const dptr of ['prp', 'sgl']) {
  for (const [qd, jobs] of shapes) run(`phyr ${dptr.toUpperCase()} QD${qd}${jobs > 1 ? ` ×${jobs} jobs` : ''}`, { stack: 'phyr', engine: dptr, qd, jobs }, phyr(dptr, qd, jobs));
}
// The rows above use shadow doorbells (QEMU offers Doorbell Buffer Config); the same PRP
// shapes with every doorbell an MMIO write.
for (const [qd, jobs] of shapes.slice(0, 3)) run(`phyr PRP QD${qd}, MMIO doorbells only`, { stack: 'phyr', engine: 'prp-mmio', qd, jobs }, phyr('prp', qd, jobs, ['--shadow-doorbells=off']));

// NVMe/TCP over loopback: the kernel's nvmet on the kernel's twin against phyr serve on the
// VFIO twin (bench/vm-fabric.js), after every local row (the serve process owns the twin).
require('./vm-fabric')
  .runFabric({
    bdf,
    kernelPci: pciAddr,
    seconds: SECONDS,
    only: ONLY,
    node: process.execPath,
    cli: CLI,
    skipped,
    measured: (row, endMs, runtimeMs) => {
      rows.push(row);
      if (Number.isFinite(endMs) && runtimeMs > 0) process.stdout.write(`vm-bench: measured ${rows.length - 1} ${Math.max(0, Date.now() - endMs)} ${runtimeMs}\n`);
    },
  })
  .catch((e) => skipped.push(`NVMe/TCP: not measured — ${e.message}`))
  .then(() => {
    fs.writeFileSync(path.join(share, 'vm-bench.json'), JSON.stringify({ kernel: read('/proc/sys/kernel/osrelease'), cpus: require('os').cpus().length, fio: sh('fio --version').stdout.trim(), rows, skipped }, null, 2));
    console.log(`vm-bench: ${rows.length} rows measured, ${skipped.length} not`);
  });
