#!/usr/bin/env node
// The VM section of the benchmark (not a test): one testbed boot with a twin pair of
// null-backed QEMU NVMe controllers — one left to the guest kernel's nvme driver, one bound
// to vfio-pci — and the same 4 KiB random-read jobs on each (bench/vm-guest.js: fio with
// libaio, io_uring, io_uring polled and io_uring_cmd on the kernel's twin; phyr bench, PRP
// and SGL, on the other), written as one run file in bench/results/ (DATE-SEQ-vm.json),
// after which bench/RESULTS.md is regenerated. `npm run bench:vm` builds first.
//   --seconds N   runtime per row (default 3, after a 1 s ramp)
//   --kernel V    the guest kernel (a version in /boot or a prefix; default the newest)
//   --dry-run     print the run file instead of writing it
//   --twin PROPS  QEMU nvme properties for both twins alike (e.g. ioeventfd=on), comma-separated
//   --only REGEX  only the rows whose label matches (e.g. 'phyr PRP QD32$'); implies --dry-run,
//                 except for a section's name (NVMe/TCP: bench/vm-fabric.js), whose run is
//                 written like a whole one
//
// While the guest runs, QEMU's threads are sampled from /proc (utime+stime of each task):
// each row records the host CPU its measured interval took on the vCPU threads (the guest's
// instructions, TCG-translated) and on QEMU's main loop (the NVMe device model, its DMA
// through the emulated IOMMU, interrupts), in % of one host core.
//
// The guest runs under TCG: every guest instruction is emulated, so figures are ratios of
// the work each stack does per IO, not of hardware speed.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { gitCommit, gitDirty, loadStartEnd, machineFacts, utcStamp } = require('./results/machine');
const { nextSeq, writeRun, RESULTS_DIR } = require('./results/store');
const { regenerate } = require('./results/render');

const ROOT = path.resolve(__dirname, '..');
const fabric = require('./vm-fabric');
// --only values that name a whole section: such a run is written (its rows join the others'
// history in bench/RESULTS.md) rather than printed.
const SECTIONS = [fabric.SECTION];
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, kernel: { type: 'string' }, 'dry-run': { type: 'boolean' }, only: { type: 'string' }, twin: { type: 'string' } } });
if (values.only !== undefined) {
  try {
    new RegExp(values.only);
  } catch (e) {
    console.error(`bench/vm: --only '${values.only}' is not a regular expression: ${e.message}`);
    process.exit(2);
  }
  if (!SECTIONS.includes(values.only)) values['dry-run'] = true;
}
const vmModule = path.join(ROOT, 'dist', 'tools', 'vm', 'index.js');
if (!fs.existsSync(vmModule)) {
  console.error('bench/vm: dist/ is missing; run `npm run build:ts` (or `npm run bench:vm`) first');
  process.exit(2);
}
const { runVm } = require(vmModule);
const { parseNvmeSpec, controllerBdf } = require(path.join(ROOT, 'dist', 'tools', 'vm', 'nvme-spec.js'));
const { QemuThreadSampler } = require('./vm-threads');

// Twins of one spec (QEMU's null-co backing, so neither stack waits on a host file).
// --twin adds QEMU properties to both alike: a device option never tunes one stack only.
const TWIN = `size=1G,backing=null${values.twin ? `,${values.twin}` : ''}`;
const COLUMNS = [
  { key: 'iops', label: 'IOPS', unit: 'IOPS', format: 'integer', better: 'higher' },
  { key: 'p50', label: 'p50 µs', unit: 'µs', format: 'latency-us' },
  { key: 'p99', label: 'p99 µs', unit: 'µs', format: 'latency-us' },
  { key: 'cpuNsPerIo', label: 'guest CPU ns/IO', unit: 'ns/IO', format: 'integer', better: 'lower' },
  // NVMe/TCP rows (bench/vm-fabric.js): the rest of the guest's CPU (the kernel's initiator
  // and TCP, nvmet's work for its rows) and the serve process's, per IO.
  { key: 'restNsPerIo', label: 'rest-of-guest CPU ns/IO', unit: 'ns/IO', format: 'integer' },
  { key: 'serveNsPerIo', label: 'phyr serve CPU ns/IO', unit: 'ns/IO', format: 'integer' },
  { key: 'vsNvmet', label: 'IOPS ÷ nvmet, same shape', unit: '×', format: 'fixed2' },
  { key: 'vsIoUring', label: 'IOPS ÷ kernel io_uring, same shape', unit: '×', format: 'fixed2' },
  { key: 'hostVcpu', label: 'host CPU: QEMU vCPU threads %', unit: '% of a core', format: 'integer' },
  { key: 'hostMain', label: 'host CPU: QEMU main loop %', unit: '% of a core', format: 'integer' },
  // On a shared host QEMU gets what the scheduler gives it: IOPS over the host CPU its
  // threads had is the figure that survives the load (it still counts a poller's spinning).
  { key: 'iopsPerHostCore', label: 'IOPS per host core QEMU had', unit: 'IOPS', format: 'integer' },
];

async function main() {
  const started = new Date();
  const loadAtStart = os.loadavg()[0];
  const sampler = new QemuThreadSampler(process.pid);
  sampler.start();
  // The guest's "vm-bench: measured INDEX AGO_MS LENGTH_MS" lines place each row's measured
  // interval on the host's clock (the line arrives over the serial console within
  // milliseconds).
  const windows = new Map();
  let pending = '';
  const onOutput = (t) => {
    process.stderr.write(t);
    pending += t;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const m = /^vm-bench: measured (\d+) (\d+) (\d+)$/.exec(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (m) {
        const end = Date.now() - Number(m[2]);
        windows.set(Number(m[1]), { start: end - Number(m[3]), end });
      }
    }
  };
  const r = await runVm({
    command: [process.execPath, path.join(ROOT, 'bench', 'vm-guest.js'), controllerBdf(1), values.seconds, ...(values.only !== undefined ? [values.only] : [])],
    nvme: [`${TWIN},driver=nvme`, TWIN].map(parseNvmeSpec),
    hugepages: 64,
    cpus: 2,
    timeoutSeconds: 1800,
    collect: ['vm-bench.json'],
    kernelVersion: values.kernel,
    onNotice: (t) => console.error(`bench/vm: ${t}`),
    onOutput,
  }).finally(() => sampler.stop());
  const loadAtEnd = os.loadavg()[0];
  const raw = r.files['vm-bench.json'];
  if (!raw) {
    console.error(`bench/vm: the guest wrote no results (exit ${r.status}):\n${r.output.split('\n').slice(-20).join('\n')}`);
    process.exit(1);
  }
  // The guest's figures are kept whatever happens next (a run file that fails validation).
  fs.writeFileSync(path.join(os.tmpdir(), 'phyr-vm-bench-last.json'), raw);
  const g = JSON.parse(raw);
  const shape = (p) => `${p.qd}/${p.jobs}`;
  const ioUring = new Map(g.rows.filter((x) => x.params.engine === 'io_uring').map((x) => [shape(x.params), x]));
  const tcp = fabric.ratios(g.rows);
  const rows = g.rows.map((x, index) => {
    const isTcp = x.params.stack.startsWith('tcp-');
    const base = isTcp ? undefined : ioUring.get(shape(x.params));
    const figures = { iops: Math.round(x.iops) };
    if (x.p50Ns !== undefined) figures.p50 = Number((x.p50Ns / 1000).toFixed(2));
    if (x.p99Ns !== undefined) figures.p99 = Number((x.p99Ns / 1000).toFixed(2));
    if (x.cpuNsPerIo !== null) figures.cpuNsPerIo = Math.round(x.cpuNsPerIo);
    if (x.restNsPerIo !== undefined) figures.restNsPerIo = Math.round(x.restNsPerIo);
    if (x.serveNsPerIo !== undefined) figures.serveNsPerIo = Math.round(x.serveNsPerIo);
    // Two significant digits: a ratio far below 1 must not print as 0.
    if (tcp.has(x.label)) figures.vsNvmet = Number(tcp.get(x.label).toPrecision(2));
    if (base && base.iops > 0) figures.vsIoUring = Number((x.iops / base.iops).toFixed(2));
    const w = windows.get(index);
    const host = w && sampler.usage(w.start, w.end);
    if (host) {
      figures.hostVcpu = Math.round(host.vcpu);
      figures.hostMain = Math.round(host.main);
      const cores = (host.vcpu + host.main + host.other) / 100;
      if (cores > 0) figures.iopsPerHostCore = Math.round(x.iops / cores);
      console.error(`bench/vm: ${x.label}: ${Math.round(x.iops)} IOPS; host CPU over ${host.seconds.toFixed(1)} s: vCPUs ${host.vcpu.toFixed(0)} %, main loop ${host.main.toFixed(0)} %, other QEMU threads ${host.other.toFixed(0)} %`);
    }
    const key = isTcp ? fabric.rowKey(x.params) : `${x.params.stack}-${x.params.engine}-qd${x.params.qd}-x${x.params.jobs}`.toLowerCase().replace(/[^a-z0-9.:-]/g, '-');
    return { key, label: x.label, params: x.params, figures };
  });
  const find = (engine, qd, jobs) => g.rows.find((x) => x.params.engine === engine && x.params.qd === qd && x.params.jobs === jobs);
  const notes = [...g.skipped];
  for (const dptr of ['prp', 'sgl']) {
    const p = find(dptr, 32, 1);
    const k = find('io_uring', 32, 1);
    if (p && k) notes.push(`phyr ${dptr.toUpperCase()} QD32 against kernel io_uring QD32, one job: ${(p.iops / k.iops).toFixed(1)}× the IOPS at ${(k.cpuNsPerIo / p.cpuNsPerIo).toFixed(1)}× less guest CPU per IO (${Math.round(p.cpuNsPerIo)} against ${Math.round(k.cpuNsPerIo)} ns).`);
    const perCore = (x) => rows.find((r) => r.label === x.label)?.figures.iopsPerHostCore;
    if (p && k && perCore(p) && perCore(k)) notes.push(`Per host core QEMU had, phyr ${dptr.toUpperCase()} QD32 against kernel io_uring QD32: ${(perCore(p) / perCore(k)).toFixed(1)}× (${perCore(p)} against ${perCore(k)} IOPS per core).`);
  }
  for (const qd of [1, 32, 128]) {
    const on = find('prp', qd, 1);
    const off = find('prp-mmio', qd, 1);
    if (on && off) notes.push(`Shadow doorbells at QD${qd} (PRP, one job): ${Math.round(on.iops)} IOPS with them, ${Math.round(off.iops)} with MMIO doorbells only (${(on.iops / off.iops).toFixed(2)}×).`);
  }
  for (const [label, ratio] of tcp) notes.push(`${label}: ${ratio.toPrecision(2)}× nvmet's IOPS (the same fio job through the same initiator, nvmet on the kernel's twin).`);
  if (g.rows.some((x) => x.params.stack.startsWith('tcp-'))) notes.push('NVMe/TCP rows: TCG inflates every guest instruction (initiator, TCP, target alike), so their figures are ratios of the work each target does per IO, not of what either does on hardware. phyr serve polls its queue pairs (docs/SERVE.md), so its CPU per IO counts its polling too, most of it where IOPS are low.');
  if (values.only !== undefined) notes.push(`Only the rows matching --only '${values.only}' ran; the other rows keep their figures from earlier runs.`);
  if (gitDirty(ROOT)) notes.push('The tree had uncommitted changes to tracked files: the commit is the base of what ran.');
  const { date, time } = utcStamp(started);
  const run = {
    schema: 'phyr-bench-run/1',
    date,
    seq: nextSeq(RESULTS_DIR, date),
    time,
    script: 'bench/vm.js',
    title: 'kernel NVMe stack against phyr in one QEMU guest (TCG)',
    command: `node bench/vm.js --seconds ${values.seconds}${values.kernel ? ` --kernel ${values.kernel}` : ''}${values.twin ? ` --twin ${values.twin}` : ''}${values.only !== undefined ? ` --only '${values.only}'` : ''}`,
    commit: gitCommit(ROOT),
    machine: { ...machineFacts(), hugepages: '64 2 MiB hugepages in the guest', notes: `guest: kernel ${g.kernel}, ${g.cpus} vCPUs under TCG, ${g.fio}` },
    load: loadStartEnd(loadAtStart, loadAtEnd),
    method:
      `One boot of the testbed (${r.seconds.toFixed(0)} s in all) with twin QEMU NVMe controllers of one spec (\`${TWIN}\`: QEMU's null-co backing, reads return zeroes without touching a file); one is bound to the guest kernel's nvme driver, the other to vfio-pci. ` +
      `Every row is one run of 4 KiB random reads for ${values.seconds} s after a 1 s ramp: fio (direct=1) on /dev/nvmeXn1 with libaio, io_uring and io_uring with polled queues (nvme.poll_queues=2 and a new probe of the controller, hipri=1), and fio io_uring_cmd on the generic char device /dev/ngXn1; phyr bench through VFIO with PRP or SGL data pointers, with shadow doorbells (QEMU offers Doorbell Buffer Config) and, for PRP at one job, with MMIO doorbells only (--shadow-doorbells=off). ` +
      'IOPS sum the jobs; p50/p99 are the busiest job\'s completion latency; guest CPU ns/IO is each job\'s user+system time (usr_cpu/sys_cpu of its runtime, as fio and phyr each measure it) over all IOs. ' +
      'Host CPU columns: QEMU\'s vCPU threads together and its main loop (the NVMe device model, its DMA through the emulated IOMMU), utime+stime from /proc over the row\'s measured interval, in % of one host core (bench/vm-threads.js); the guest\'s own clock and CPU figures count time its vCPU thread waited for a host core. ' +
      `NVMe/TCP rows (bench/vm-fabric.js): fio (libaio, direct=1, one job, 4 KiB, ${values.seconds} s time-based, no ramp) on the namespace the guest kernel's nvme-tcp initiator connects over loopback (127.0.0.1) to the kernel's nvmet target (configfs, over the kernel's twin) or to \`phyr serve VFIO-BDF --listen tcp://127.0.0.1:PORT\` (over the VFIO twin), one target at a time; fio CPU ns/IO is its usr_cpu+sys_cpu, rest-of-guest is the guest's /proc/stat busy time over fio's life less fio's and the serve process's CPU, serve CPU is its /proc/PID/stat utime+stime, each over the IOs fio completed; IOPS ÷ nvmet is phyr serve's over nvmet's for the same job. ` +
      'The guest runs under TCG, which emulates every guest instruction (the driver\'s and QEMU\'s device model alike), so these are ratios of the work each stack does per IO, not of hardware speed.',
    columns: COLUMNS,
    rows,
    references: [],
    tables: [],
    notes,
  };
  if (values['dry-run']) {
    console.log(JSON.stringify(run, null, 2));
    return;
  }
  const file = writeRun(run);
  regenerate();
  console.error(`bench/vm: wrote ${path.relative(ROOT, file)} and bench/RESULTS.md`);
}

main().catch((e) => {
  console.error(`bench/vm: ${e.stack || e.message}`);
  process.exit(1);
});
