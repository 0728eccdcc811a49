#!/usr/bin/env node
// The benchmark matrix (not a test): a fixed set of `phyr bench` runs on the embedded
// controller, plus the driver's batch and promise APIs and this machine's memcpy
// bandwidth, written as a dated section of bench/RESULTS.md. `npm run bench:matrix`
// builds first; `node bench/matrix.js` runs on an existing dist/.
//   --seconds N   runtime per row (default 3)
//   --repeat N    runs per row; the row shows the median run and the IOPS range (default 3)
//   --dry-run     print the section instead of appending it to bench/RESULTS.md
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
    docs.push(JSON.parse(r.stdout));
  }
  return docs;
}

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
    mibps: bytes / runtimeS / 2 ** 20,
    p50: p(50),
    p99: p(99),
    p999: p(99.9),
    cpuNsPerIo: job.phyr.cpu_ns_per_io,
    busyNsPerIo: job.phyr.busy_ns_per_io,
    dptr: job.phyr.dptr,
    range,
    verify: job.phyr.verify_checked ? `${job.phyr.verify_checked} blocks, ${job.phyr.verify_errors} errors` : '',
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

const fmt = (n, d = 0) => (n === undefined || n === null || Number.isNaN(n) ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const us = (ns) => (ns === undefined ? '–' : (ns / 1000).toFixed(ns < 10000 ? 2 : 1));
const date = new Date().toISOString().slice(0, 10);
const cpu = (os.cpus()[0] || { model: 'unknown' }).model.trim();
const lines = [
  '',
  `## ${date} — phyr bench matrix (bench/matrix.js)`,
  '',
  `Machine: ${os.cpus().length} cores (${cpu}), Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start, ${hugepagesAtStart} free 2 MiB hugepages. ` +
    `Each row is the median of ${REPEAT} \`phyr bench\` runs of ${SECONDS} s (time_based; the range gives the slowest and fastest run) on the embedded emulated controller; the emulator's own thread runs on the second core. ` +
    'Latencies are completion latencies (clat) from the native log-linear histogram; CPU ns/IO is the job thread\'s user+system time divided by its IOs (the loop, the driver\'s submit/reap and the histograms — not the emulator thread; a busy-polling thread spends 1/IOPS per IO whatever its own work); busy ns/IO counts only the loop passes that submitted or reaped something, i.e. the thread\'s own work per IO.',
  '',
  '| workload | IOPS (median) | IOPS range | MiB/s | % of memcpy | p50 µs | p99 µs | p99.9 µs | CPU ns/IO | busy ns/IO | dptr | verify |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ...rows.map((r) => `| ${r.label} | ${fmt(r.iops)} | ${r.range} | ${fmt(r.mibps, 1)} | ${fmt((100 * r.mibps) / memcpyMiBps, 1)} | ${us(r.p50)} | ${us(r.p99)} | ${us(r.p999)} | ${fmt(r.cpuNsPerIo)} | ${fmt(r.busyNsPerIo)} | ${r.dptr} | ${r.verify} |`),
  ...apiRows.map((r) => (r.iops === undefined ? `| ${r.label} | – | – | – | – | – | – | – | – | – | – | ${r.note} |` : `| ${r.label} | ${fmt(r.iops)} | – | ${fmt(r.mibps, 1)} | ${fmt((100 * r.mibps) / memcpyMiBps, 1)} | – | – | – | ${fmt(r.cpuNsPerIo)} | – | | ${r.note ?? ''} |`)),
  ...floorRows.map((r) => `| ${r.label} | ${fmt(r.iops)} | – | – | – | – | – | – | ${fmt(r.cpuNsPerIo)} | – | prp | ${r.note} |`),
  '',
  `memcpy reference: ${fmt(memcpyMiBps)} MiB/s (best pass copying 256 MiB, ${fmt(mc.bytesCopied / 2 ** 20)} MiB copied in ${mc.seconds.toFixed(2)} s, single thread).`,
  '',
];
const section = lines.join('\n');
if (values.json) console.log(JSON.stringify({ rows, apiRows, memcpy: mc }, null, 2));
if (values['dry-run']) process.stdout.write(section);
else {
  fs.appendFileSync(RESULTS, section);
  process.stderr.write(`matrix: appended a section to ${path.relative(ROOT, RESULTS)}\n`);
}
