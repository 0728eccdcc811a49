#!/usr/bin/env node
// The benchmark matrix (not a test): a fixed set of `phyr bench` runs on the embedded
// controller, plus the driver's batch and promise APIs and this machine's memcpy
// bandwidth, written as one run file in bench/results/ (DATE-SEQ-matrix.json: machine,
// load, commit, rows), after which bench/RESULTS.md is regenerated from all run files.
// `npm run bench:matrix` builds first; `node bench/matrix.js` runs on an existing dist/.
//   --seconds N   runtime per row (default 3)
//   --repeat N    runs per row; the row shows the median run and the IOPS range (default 3)
//   --dry-run     print the run file instead of writing it (RESULTS.md is left alone)
//   --json        also print the raw figures as JSON
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const RESULTS = path.join(__dirname, 'RESULTS.md');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, repeat: { type: 'string', default: '3' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } });
// Runs on this 2-core VM are bimodal (the two threads' cache-line exchange is fast or slow
// from one process to the next), so every row is run REPEAT times and the median shown.
const REPEAT = Math.max(1, Number(values.repeat));
const SECONDS = Number(values.seconds);
const loadAtStart = os.loadavg()[0];
const startedAt = new Date();
const hugepagesAtStart = (/HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8')) || [])[1] ?? '0';
if (!fs.existsSync(CLI)) {
  console.error('bench/matrix: dist/tools/phyr.js is missing; run `npm run build:ts` (or `npm run bench:matrix`) first');
  process.exit(2);
}

// Runs `phyr bench` REPEAT times with JSON output; returns the parsed documents.
function bench(label, args) {
  const docs = [];
  for (let i = 0; i < REPEAT; i++) {
    process.stderr.write(`matrix: ${label} (${i + 1}/${REPEAT}) ...\n`);
    const r = spawnSync(process.execPath, [CLI, 'bench', ...args, '--output-format=json', '--eta=never'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`${label}: phyr bench exited ${r.status}:\n${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    for (const job of doc.jobs) docOf.set(job, doc);
    docs.push(doc);
  }
  return docs;
}

// The document each job came from, so a row's plot draws the run the row shows.
const docOf = new WeakMap();

const jobIops = (job) => ['read', 'write'].reduce((a, d) => a + job[d].iops, 0);
const fmtM = (n) => `${(n / 1e6).toFixed(2)} M`;

// One table row from the same job of each run: the median run, with the IOPS range.
function row(label, jobs, extra = {}) {
  const sorted = [...jobs].sort((a, b) => jobIops(a) - jobIops(b));
  const job = sorted[Math.floor((sorted.length - 1) / 2)];
  const range = `${fmtM(jobIops(sorted[0]))}–${fmtM(jobIops(sorted[sorted.length - 1]))}`;
  const dirs = ['read', 'write'].map((d) => job[d]).filter((d) => d.total_ios > 0);
  const ios = dirs.reduce((a, d) => a + d.total_ios, 0);
  const bytes = dirs.reduce((a, d) => a + d.io_bytes, 0);
  const runtimeS = Math.max(...dirs.map((d) => d.runtime)) / 1000;
  // Percentiles of the direction with the most IOs (reads for mixed rows).
  const main = dirs.sort((a, b) => b.total_ios - a.total_ios)[0];
  const p = (q) => main.clat_ns.percentile[q.toFixed(6)];
  return {
    label,
    iops: ios / runtimeS,
    slowest: jobIops(sorted[0]),
    fastest: jobIops(sorted[sorted.length - 1]),
    mibps: bytes / runtimeS / 2 ** 20,
    p50: p(50),
    p99: p(99),
    p999: p(99.9),
    cpuNsPerIo: job.phyr.cpu_ns_per_io,
    busyNsPerIo: job.phyr.busy_ns_per_io,
    dptr: job.phyr.dptr,
    range,
    verify: job.phyr.verify_checked ? `${job.phyr.verify_checked} blocks, ${job.phyr.verify_errors} errors` : '',
    // The median run's document with this job alone: the row's plot page.
    plotDoc: docOf.has(job) ? { ...docOf.get(job), jobs: [job] } : undefined,
    ...extra,
  };
}

const rt = [`--runtime=${SECONDS}`, '--time_based'];
const rows = [];
const NULL = 'emu:backend=null';

for (const qd of [1, 32, 128]) {
  const doc = bench(`randread 4k QD${qd} null`, [NULL, '--name=randread', '--rw=randread', '--bs=4k', `--iodepth=${qd}`, ...rt]);
  rows.push(row(`4 KiB randread QD${qd}, null backend, 1 job`, doc.map((d) => d.jobs[0])));
}
// The backend that moves no data (emu:backend=nodata): the device thread's cost without the
// zero-fill of every read, against the embedded controller's goals (QD1 >= 2 M, QD128 >= 10 M).
for (const qd of [1, 128]) {
  const doc = bench(`randread 4k QD${qd} nodata`, ['emu:backend=nodata', '--name=randread', '--rw=randread', '--bs=4k', `--iodepth=${qd}`, ...rt]);
  rows.push(row(`4 KiB randread QD${qd}, nodata backend, 1 job`, doc.map((d) => d.jobs[0])));
}

// RAM backend with verify: one run writes the region with crc32c headers, then (stonewall)
// each depth reads it back at random and checks every block.
{
  const file = path.join(os.tmpdir(), `phyr-matrix-${process.pid}.fio`);
  const sections = ['[global]', 'bs=4k', 'size=256m', 'verify=crc32c', '', '[prefill]', 'rw=write', 'bs=128k', 'iodepth=32', 'do_verify=0'];
  for (const qd of [1, 32, 128]) sections.push('', `[verify-qd${qd}]`, 'stonewall', 'rw=randread', `iodepth=${qd}`, `runtime=${SECONDS}`, 'time_based');
  fs.writeFileSync(file, sections.join('\n') + '\n');
  try {
    const doc = bench('randread 4k verify on ram', ['emu:backend=ram', file]);
    for (const qd of [1, 32, 128]) rows.push(row(`4 KiB randread QD${qd}, ram backend, crc32c verify`, doc.map((d) => d.jobs.find((j) => j.jobname === `verify-qd${qd}`))));
  } finally {
    fs.rmSync(file, { force: true });
  }
}

{
  const doc = bench('seq read 128k', [NULL, '--name=seqread', '--rw=read', '--bs=128k', '--iodepth=32', ...rt]);
  rows.push(row('128 KiB sequential read QD32, null backend', doc.map((d) => d.jobs[0])));
  const docR = bench('seq read 128k ram', ['emu:backend=ram', '--name=seqread', '--rw=read', '--bs=128k', '--iodepth=32', '--size=256m', ...rt]);
  rows.push(row('128 KiB sequential read QD32, ram backend (data copied)', docR.map((d) => d.jobs[0])));
  const docW = bench('seq write 128k ram', ['emu:backend=ram', '--name=seqwrite', '--rw=write', '--bs=128k', '--iodepth=32', '--size=256m', ...rt]);
  rows.push(row('128 KiB sequential write QD32, ram backend (data copied)', docW.map((d) => d.jobs[0])));
}
{
  const doc = bench('randrw 70/30', [NULL, '--name=randrw', '--rw=randrw', '--rwmixread=70', '--bs=4k', '--iodepth=32', ...rt]);
  rows.push(row('4 KiB randrw 70/30 QD32, null backend', doc.map((d) => d.jobs[0])));
}
{
  // Data-pointer modes and device memory: forced SGL, the target's own CMB, a peer's CMB.
  const doc = bench('sgl', ['emu:backend=null,sgl=on', '--name=sgl', '--rw=randread', '--bs=4k', '--iodepth=32', '--dptr=sgl', ...rt]);
  rows.push(row('4 KiB randread QD32, null backend, --dptr=sgl (every command an SGL)', doc.map((d) => d.jobs[0])));
  const docC = bench('cmb', ['emu:backend=null,cmb=64M', '--name=cmb', '--rw=randread', '--bs=4k', '--iodepth=32', '--mem=cmb', ...rt]);
  rows.push(row("4 KiB randread QD32, null backend, --mem=cmb (the target's CMB)", docC.map((d) => d.jobs[0])));
  const docP = bench('p2p', ['emu:backend=null', '--name=p2p', '--rw=randread', '--bs=4k', '--iodepth=32', '--mem=p2p:emu', ...rt]);
  rows.push(row("4 KiB randread QD32, null backend, --mem=p2p:emu (a peer's CMB)", docP.map((d) => d.jobs[0])));
}
{
  const doc = bench('2 jobs', [NULL, '--name=two', '--rw=randread', '--bs=4k', '--iodepth=32', '--numjobs=2', '--group_reporting', ...rt]);
  rows.push(row('4 KiB randread QD32 x 2 jobs (group), null backend', doc.map((d) => d.jobs[0])));
}

// Logging's cost: the QD32 null-backend row again with fio's averaged bandwidth and latency
// logs (write_bw_log + write_lat_log, log_avg_msec=1000), the files in a temporary
// directory. Every row takes the interval samples (bwavgtime 500 ms) behind bw_min ...; the
// floor rows below show the engine with and without them. The last row logs every IO
// (write_lat_log, log_avg_msec=0: three lines per IO, written by the JS thread while the job
// runs; the job thread waits when it outruns them, which that row's IOPS then shows, and
// its JSON counts as phyr.io_log_stalls).
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-matrix-logs-'));
  try {
    const base = [NULL, '--name=randread', '--rw=randread', '--bs=4k', '--iodepth=32', ...rt];
    const plain = bench('randread 4k QD32 null, no logs', base);
    rows.push(row('4 KiB randread QD32, null backend, no log files (same as above, run beside the next)', plain.map((d) => d.jobs[0])));
    const logged = bench('randread 4k QD32 null, bw+lat logs', [...base, `--write_bw_log=${path.join(dir, 'm')}`, `--write_lat_log=${path.join(dir, 'm')}`, '--log_avg_msec=1000']);
    rows.push(row('4 KiB randread QD32, null backend, write_bw_log + write_lat_log, log_avg_msec=1000', logged.map((d) => d.jobs[0])));
    const perIo = bench('randread 4k QD32 null, per-IO lat logs', [...base, `--write_lat_log=${path.join(dir, 'io')}`]);
    rows.push(row('4 KiB randread QD32, null backend, write_lat_log per IO (log_avg_msec=0)', perIo.map((d) => d.jobs[0])));
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Shadow doorbells on the embedded controller (emu:dbbuf=on): the driver uses them or not.
// Here an MMIO doorbell is a store into memory, so there is no exit for them to save; the
// rows show what they cost (the VM section shows them against real exits).
for (const qd of [1, 128]) {
  for (const sd of ['on', 'off']) {
    const doc = bench(`randread 4k QD${qd} nodata dbbuf shadow ${sd}`, ['emu:backend=nodata,dbbuf=on', `--shadow-doorbells=${sd}`, '--name=randread', '--rw=randread', '--bs=4k', `--iodepth=${qd}`, ...rt]);
    rows.push(row(`4 KiB randread QD${qd}, nodata backend, dbbuf=on, shadow doorbells ${sd}`, doc.map((d) => d.jobs[0])));
  }
}

// No device at all, side by side from this run: phyr bench's null target (the engine and the
// driver's real queue pair over an in-thread loopback) and real fio's null engine, the same job.
const ratioNotes = [];
const fioVersion = spawnSync('fio', ['--version'], { encoding: 'utf8' });
for (const qd of [1, 32, 128]) {
  const job = ['--name=randread', '--rw=randread', '--bs=4k', `--iodepth=${qd}`, ...rt];
  const phyrNull = row(`4 KiB randread QD${qd}, phyr bench null target (no device)`, bench(`randread 4k QD${qd} phyr null`, ['null', ...job]).map((d) => d.jobs[0]));
  rows.push(phyrNull);
  if (fioVersion.status !== 0) {
    ratioNotes.push(`fio --ioengine=null QD${qd}: not run, fio is not installed (the Debian package fio is the oracle)`);
    continue;
  }
  const fioRuns = [];
  for (let i = 0; i < REPEAT; i++) {
    process.stderr.write(`matrix: randread 4k QD${qd} fio null (${i + 1}/${REPEAT}) ...\n`);
    const r = spawnSync('fio', ['--ioengine=null', '--size=1g', ...job, '--output-format=json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`fio --ioengine=null QD${qd}: exited ${r.status}:\n${r.stderr}`);
    fioRuns.push(JSON.parse(r.stdout).jobs[0]);
  }
  fioRuns.sort((a, b) => a.read.iops - b.read.iops);
  const f = fioRuns[Math.floor((fioRuns.length - 1) / 2)];
  const pct = (q) => f.read.clat_ns.percentile[q.toFixed(6)];
  // fio's usr_cpu and sys_cpu are percentages of the job's runtime (ms).
  const fioCpuNsPerIo = (((f.usr_cpu + f.sys_cpu) / 100) * f.read.runtime * 1e6) / f.read.total_ios;
  rows.push({
    label: `4 KiB randread QD${qd}, fio --ioengine=null (${fioVersion.stdout.trim()}, no device)`,
    iops: f.read.iops,
    slowest: fioRuns[0].read.iops,
    fastest: fioRuns[fioRuns.length - 1].read.iops,
    mibps: f.read.bw_bytes / 2 ** 20,
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    cpuNsPerIo: fioCpuNsPerIo,
  });
  ratioNotes.push(`phyr bench null against fio --ioengine=null at QD${qd}: ${(phyrNull.iops / f.read.iops).toFixed(1)}× the IOPS at ${(fioCpuNsPerIo / phyrNull.cpuNsPerIo).toFixed(1)}× less CPU per IO (${Math.round(phyrNull.cpuNsPerIo)} against ${Math.round(fioCpuNsPerIo)} ns).`);
}

// The driver's library APIs, through the driver's own benchmark script when present.
const apiRows = [];
const driverApi = path.join(__dirname, 'driver-api.js');
if (fs.existsSync(driverApi)) {
  process.stderr.write('matrix: driver batch and promise APIs ...\n');
  const r = spawnSync(process.execPath, [driverApi, '--json', '--ms', String(SECONDS * 1000), '--qd', '128'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status === 0) {
    try {
      // bench/driver-api.js: { meta, rows: [{ api, qd, iops, processCpuNsPerIo, jsThreadCpuNsPerIo, driverNsPerIo }] }
      const doc = JSON.parse(r.stdout);
      for (const x of doc.rows ?? []) {
        apiRows.push({
          label: `4 KiB randread QD${x.qd}, null backend, driver ${x.api} API from JS (bench/driver-api.js)`,
          iops: x.iops,
          mibps: (x.iops * 4096) / 2 ** 20,
          cpuNsPerIo: x.jsThreadCpuNsPerIo,
          note: `JS thread CPU ns/IO; process ${x.processCpuNsPerIo}, driver work ${x.driverNsPerIo ?? '–'}`,
        });
      }
    } catch (e) {
      apiRows.push({ label: 'bench/driver-api.js', note: `unreadable output: ${e.message}` });
    }
  } else apiRows.push({ label: 'bench/driver-api.js', note: `exited ${r.status}: ${(r.stderr || '').split('\n')[0]}` });
} else {
  apiRows.push({ label: 'batch and promise APIs', note: 'bench/driver-api.js is not present in this tree' });
}

// Floors without a device, in this process: the engine alone (a queue that completes at
// once) and the engine through the driver's real QueuePair over a loopback controller.
const addonFloors = require(path.join(ROOT, 'build', 'Release', 'phyr.node')).bench;
const floorRows = [];
for (const qd of [1, 32, 128]) {
  const e = addonFloors.engineFloor(qd, 1000);
  floorRows.push({ label: `engine alone, null queue, QD${qd} (no device)`, iops: e.iops, cpuNsPerIo: e.cpuNsPerIo, note: 'floor: offsets, timestamps, histograms' });
  const es = addonFloors.engineFloor(qd, 1000, 500);
  floorRows.push({ label: `engine alone, null queue, QD${qd}, interval samples every 500 ms (no device)`, iops: es.iops, cpuNsPerIo: es.cpuNsPerIo, note: `the same floor with the sample clock on (${es.samples} samples)` });
  const d = addonFloors.driverFloor(qd, 1000);
  floorRows.push({ label: `engine + driver QueuePair, loopback controller, QD${qd} (no device)`, iops: d.iops, cpuNsPerIo: d.cpuNsPerIo, note: `driver share sampled ${fmtEarly(d.driverNsPerIo)} ns/IO` });
}
function fmtEarly(n) {
  return Math.round(n);
}

// memcpy reference, measured by the addon in this process.
const addon = require(path.join(ROOT, 'build', 'Release', 'phyr.node'));
const mc = addon.bench.memcpyBandwidth(256 << 20, 1500);
const memcpyMiBps = mc.bytesPerSecond / 2 ** 20;

// The run as a file in bench/results/, then bench/RESULTS.md rendered from every run file.
const { gitCommit, gitDirty, machineFacts, utcStamp } = require('./results/machine');
const { matrixRun } = require('./results/matrix-run');
const { nextSeq, writeRun, RESULTS_DIR } = require('./results/store');
const { regenerate } = require('./results/render');
const stamp = utcStamp(startedAt);
const run = matrixRun({
  ...stamp,
  seq: nextSeq(RESULTS_DIR, stamp.date),
  command: ['node', 'bench/matrix.js', ...process.argv.slice(2)].join(' '),
  commit: gitCommit(ROOT),
  dirty: gitDirty(ROOT),
  machine: machineFacts(),
  load: loadAtStart,
  hugepages: hugepagesAtStart,
  repeat: REPEAT,
  seconds: SECONDS,
  memcpy: { mibps: memcpyMiBps, bytesCopied: mc.bytesCopied, seconds: mc.seconds },
  rows,
  apiRows,
  floorRows,
  notes: ratioNotes,
});
if (values.json) console.log(JSON.stringify({ rows: rows.map(({ plotDoc, ...r }) => r), apiRows, memcpy: mc }, null, 2));
if (values['dry-run']) process.stdout.write(JSON.stringify(run, null, 2) + '\n');
else {
  // Each phyr bench row's plot page beside the run file (bench/results/plots/DATE-SEQ/KEY.html),
  // linked from bench/RESULTS.md: the median run, drawn by phyr plot.
  const plot = require(path.join(ROOT, 'dist', 'tools', 'plot', 'index.js'));
  const runDir = path.join('plots', `${run.date}-${String(run.seq).padStart(2, '0')}`);
  fs.mkdirSync(path.join(RESULTS_DIR, runDir), { recursive: true });
  for (const r of rows) {
    if (!r.plotDoc) continue;
    const entry = run.rows.find((x) => x.label === r.label);
    const rel = path.join(runDir, `${entry.key}.html`);
    fs.writeFileSync(path.join(RESULTS_DIR, rel), plot.renderPlotPage([plot.resultInput(`${entry.key}.json`, r.plotDoc)], { title: `bench matrix ${run.date}-${String(run.seq).padStart(2, '0')}: ${r.label}` }));
    entry.plot = rel;
  }
  const file = writeRun(run);
  regenerate();
  process.stderr.write(`matrix: wrote ${path.relative(ROOT, file)} and regenerated ${path.relative(ROOT, RESULTS)}\n`);
}
