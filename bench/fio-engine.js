#!/usr/bin/env node
// Real fio through phyr's ioengine (bench/fio-engine/) on `phyr serve`, against the same job
// through `phyr bench` on the same device model embedded in its own process: IOPS, latency
// and the job thread's CPU per IO, side by side from one run (not a test), written as a run
// file in bench/results/ (DATE-SEQ-fio-engine.json), then bench/RESULTS.md is regenerated.
//   --seconds N   runtime per row (default 3)
//   --repeat N    runs per row; the row shows the median run and the IOPS range (default 3)
//   --dry-run     print the run file instead of writing it
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { gitCommit, gitDirty, loadStartEnd, machineFacts, utcStamp } = require('./results/machine');
const { nextSeq, writeRun, RESULTS_DIR } = require('./results/store');
const { regenerate } = require('./results/render');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, repeat: { type: 'string', default: '3' }, 'dry-run': { type: 'boolean' } } });
const SECONDS = Number(values.seconds);
const REPEAT = Math.max(1, Number(values.repeat));
// The device model both sides drive: the null backend completes reads without touching
// data, so the rows measure the engines and the driver, not a memcpy.
const TARGET = 'emu:backend=null,size=1G';
const SHAPES = [
  { rw: 'randread', qd: 1 },
  { rw: 'randread', qd: 32 },
];

const COLUMNS = [
  { key: 'iops', label: 'IOPS', unit: 'IOPS', format: 'integer', better: 'higher' },
  { key: 'p50', label: 'p50 µs', unit: 'µs', format: 'latency-us' },
  { key: 'p99', label: 'p99 µs', unit: 'µs', format: 'latency-us' },
  { key: 'cpuNsPerIo', label: 'job thread CPU ns/IO', unit: 'ns/IO', format: 'integer', better: 'lower' },
  { key: 'vsBench', label: 'IOPS ÷ phyr bench, same job', unit: '×', format: 'fixed2' },
];

function fail(what) {
  console.error(`bench/fio-engine: ${what}`);
  process.exit(2);
}

const median = (xs, by) => [...xs].sort((a, b) => by(a) - by(b))[Math.floor((xs.length - 1) / 2)];
const usOf = (clat, q) => clat.percentile[q.toFixed(6)] / 1000;

// One fio run through the engine on the daemon at `socket`: the figures of its read direction.
function fioRun(engine, socket, shape, cwd) {
  const r = spawnSync('fio', [
    `--ioengine=external:${engine}`, `--phyr_socket=${socket}`, '--thread=1', '--filename=phyr', '--name=engine',
    `--rw=${shape.rw}`, '--bs=4k', `--iodepth=${shape.qd}`, '--time_based', `--runtime=${SECONDS}`, '--output-format=json',
  ], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) fail(`fio through the engine exited ${r.status}: ${r.stderr.trim()}`);
  const job = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).jobs[0];
  if (job.error !== 0) fail(`fio reported error ${job.error}`);
  const d = job.read;
  // fio's usr_cpu/sys_cpu: the job thread's CPU in % of its runtime (thread=1).
  const cpuNs = ((job.usr_cpu + job.sys_cpu) / 100) * job.job_runtime * 1e6;
  return { iops: d.iops, p50: usOf(d.clat_ns, 50), p99: usOf(d.clat_ns, 99), cpuNsPerIo: cpuNs / d.total_ios };
}

// The same job through phyr bench on the same device model in its own process.
function benchRun(shape) {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--name=bench', `--rw=${shape.rw}`, '--bs=4k', `--iodepth=${shape.qd}`, '--time_based', `--runtime=${SECONDS}`, '--output-format=json', '--eta=never'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) fail(`phyr bench exited ${r.status}: ${r.stderr.trim()}`);
  const job = JSON.parse(r.stdout).jobs[0];
  const d = job.read;
  return { iops: d.iops, p50: usOf(d.clat_ns, 50), p99: usOf(d.clat_ns, 99), cpuNsPerIo: job.phyr.cpu_ns_per_io };
}

async function startServe(dir) {
  const socket = path.join(dir, 'phyr.sock');
  const child = spawn(process.execPath, [CLI, 'serve', TARGET, '--socket', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  for (let i = 0; i < 600 && !/^phyr serve: .* on /m.test(out); i++) {
    if (child.exitCode !== null) fail(`phyr serve exited ${child.exitCode}: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!/^phyr serve: .* on /m.test(out)) fail(`phyr serve did not start: ${out}`);
  return { child, socket };
}

async function main() {
  if (!fs.existsSync(CLI)) fail('dist/tools/phyr.js is missing; run `npm run build:ts` first');
  if (spawnSync('fio', ['--version']).status !== 0) fail('fio is not installed (apt-get install fio)');
  const engine = spawnSync(process.execPath, [CLI, 'fio-engine'], { encoding: 'utf8' });
  if (engine.status !== 0) fail(engine.stderr.trim());
  const loadAtStart = os.loadavg()[0];
  const started = new Date();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-engine-bench-'));
  const serve = await startServe(dir);
  const rows = [];
  const notes = [];
  try {
    for (const shape of SHAPES) {
      const name = `${shape.rw} QD${shape.qd}`;
      const fio = [];
      const bench = [];
      // Interleaved, so a change of load or of thread placement hits both sides alike.
      for (let i = 0; i < REPEAT; i++) {
        process.stderr.write(`fio-engine: ${name} (${i + 1}/${REPEAT}) ...\n`);
        fio.push(fioRun(engine.stdout.trim(), serve.socket, shape, dir));
        bench.push(benchRun(shape));
      }
      const f = median(fio, (x) => x.iops);
      const b = median(bench, (x) => x.iops);
      const range = (xs) => `${Math.round(Math.min(...xs.map((x) => x.iops)))}–${Math.round(Math.max(...xs.map((x) => x.iops)))}`;
      const params = { rw: shape.rw, qd: shape.qd, jobs: 1, bs: '4k' };
      rows.push({ key: `fio-engine-${shape.rw}-qd${shape.qd}`, label: `fio through phyr's engine on phyr serve, ${name}`, params: { ...params, engine: 'fio external:phyr_fio' }, figures: { iops: f.iops, p50: f.p50, p99: f.p99, cpuNsPerIo: f.cpuNsPerIo, vsBench: f.iops / b.iops } });
      rows.push({ key: `phyr-bench-${shape.rw}-qd${shape.qd}`, label: `phyr bench, same device model in-process, ${name}`, params: { ...params, engine: 'phyr bench' }, figures: { iops: b.iops, p50: b.p50, p99: b.p99, cpuNsPerIo: b.cpuNsPerIo } });
      notes.push(`${name}: fio through the engine ${(f.iops / b.iops).toFixed(2)}× phyr bench's IOPS (${Math.round(f.iops)} against ${Math.round(b.iops)}; ranges over ${REPEAT} runs ${range(fio)} and ${range(bench)}), ${Math.round(f.cpuNsPerIo)} against ${Math.round(b.cpuNsPerIo)} ns of job-thread CPU per IO.`);
    }
  } finally {
    serve.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const loadAtEnd = os.loadavg()[0];
  if (gitDirty(ROOT)) notes.push('The tree had uncommitted changes to tracked files: the commit is the base of what ran.');
  const { date, time } = utcStamp(started);
  const run = {
    schema: 'phyr-bench-run/1',
    date,
    seq: nextSeq(RESULTS_DIR, date),
    time,
    script: 'bench/fio-engine.js',
    title: "fio through phyr's ioengine on phyr serve against phyr bench",
    command: `node bench/fio-engine.js --seconds ${SECONDS} --repeat ${REPEAT}`,
    commit: gitCommit(ROOT),
    machine: { ...machineFacts(), hugepages: `${(/HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8')) || [])[1] ?? '0'} free 2 MiB hugepages at the start`, notes: spawnSync('fio', ['--version'], { encoding: 'utf8' }).stdout.trim() },
    load: loadStartEnd(loadAtStart, loadAtEnd),
    method:
      `One \`phyr serve ${TARGET} --socket S\` daemon; each row is ${REPEAT} runs of 4 KiB ${SHAPES.map((s) => `${s.rw} QD${s.qd}`).join(' and ')} for ${SECONDS} s, one job, the median run shown: ` +
      "real fio (`--ioengine=external:$(phyr fio-engine) --thread=1`), whose job thread drives its own queue pair on the daemon's controller, interleaved with `phyr bench` on the same device model embedded in its own process. " +
      "In both, the device model runs on a thread of its own (the daemon's or the bench's) beside the job thread on this machine's cores. CPU ns/IO is the job thread's: fio's usr_cpu+sys_cpu of its runtime, phyr bench's cpu_ns_per_io (both include polling an empty completion queue).",
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
  console.error(`bench/fio-engine: wrote ${path.relative(ROOT, file)} and bench/RESULTS.md`);
}

main().catch((e) => fail(e.stack || e.message));
