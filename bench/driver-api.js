#!/usr/bin/env node
// Micro-benchmark (not a test): 4 KiB random reads against the embedded controller with
// the null backend, one JS thread driving the driver, through
//   1. the batch API (shared request/completion arrays, one native call per batch), and
//   2. the promise-per-IO API (ns.read(lba, dmaBuffer)),
// at a fixed queue depth. Runs on the compiled tree: `npm run build:ts` first.
//   --qd N        commands kept in flight (default 128)
//   --ms N        measured time per API after a short warm-up (default 2000)
//   --target T    controller (default emu:backend=null)
//   --json        print the figures as JSON
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { performance } = require('perf_hooks');

const dist = path.resolve(__dirname, '..', 'dist');
if (!fs.existsSync(path.join(dist, 'index.js'))) {
  console.error('bench/driver-api: dist/index.js is missing; run `npm run build:ts` first');
  process.exit(2);
}
const phyr = require(path.join(dist, 'index.js'));
// This thread's CPU time: preemption by other processes on the shared machine is not counted.
const cpuNs = phyr.nvmeNative().threadCpuNs;

const { values } = parseArgs({
  options: {
    qd: { type: 'string', default: '128' },
    ms: { type: 'string', default: '2000' },
    target: { type: 'string', default: 'emu:backend=null' },
    json: { type: 'boolean' },
  },
});
const QD = Number(values.qd);
const MS = Number(values.ms);
const IO = 4096;

// A reproducible random LBA source (xorshift32) aligned to 4 KiB.
function lbaSource(ns, seed) {
  let x = seed >>> 0 || 1;
  const per = IO / ns.lbaSize;
  const slots = Math.floor(ns.blocks / per);
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return (x % slots) * per;
  };
}

// Process CPU (all threads: the JS thread plus the emulated device's thread) and the JS
// event loop's busy share, around a run.
function measure(run) {
  const cpu0 = process.cpuUsage();
  const th0 = cpuNs();
  const elu0 = performance.eventLoopUtilization();
  const t0 = process.hrtime.bigint();
  return run().then((ios) => {
    const ns = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    const th = cpuNs() - th0;
    const elu = performance.eventLoopUtilization(elu0);
    return {
      ios,
      seconds: ns / 1e9,
      iops: Math.round(ios / (ns / 1e9)),
      processCpuNsPerIo: Math.round(((cpu.user + cpu.system) * 1000) / ios),
      jsThreadNsPerIo: Math.round((elu.active * 1e6) / ios),
      jsThreadCpuNsPerIo: Math.round(th / ios),
    };
  });
}

async function batchApi(ctrl, ns, ms) {
  const qp = await ctrl.createQueuePair({ size: 1024 });
  const depth = Math.min(QD, qp.capacity);
  const buf = ctrl.pool.alloc(depth * IO);
  const per = IO / ns.lbaSize;
  const next = lbaSource(ns, 0xb47c4);
  for (let i = 0; i < depth; i++) qp.setEntry(i, buf.iovaAt(i * IO), IO);
  const READ = phyr.NVME.IO_READ;
  // CPU time the JS thread spends on IO work (reaps that found completions, building and
  // submitting the next batch): the driver's own cost per IO, without waiting.
  let workNs = 0;
  const loop = (deadline) =>
    new Promise((resolve) => {
      let done = 0;
      workNs = 0;
      for (let i = 0; i < depth; i++) qp.setIo(i, READ, ns.nsid, next(), per, ns.lbaSize, i, 1, i);
      qp.submitBatch(0, depth);
      let inflight = depth;
      const cpl = qp.completions;
      const spin = () => {
        // Work in slices of ~1 ms, yielding to the event loop between them.
        const sliceEnd = performance.now() + 1;
        const stop = performance.now() >= deadline;
        do {
          const t0 = cpuNs();
          const n = qp.reap();
          if (n === 0) continue;
          done += n;
          inflight -= n;
          if (!stop) {
            for (let i = 0; i < n; i++) {
              const slot = cpl[i * phyr.CPL_WORDS];
              qp.setIo(i, READ, ns.nsid, next(), per, ns.lbaSize, slot, 1, slot);
            }
            qp.submitBatch(0, n);
            inflight += n;
          }
          workNs += cpuNs() - t0;
        } while (performance.now() < sliceEnd && inflight > 0);
        if (inflight > 0) setImmediate(spin);
        else resolve(done);
      };
      spin();
    });
  await loop(performance.now() + 200); // warm-up
  const r = await measure(() => loop(performance.now() + ms));
  await qp.close();
  buf.free();
  return { api: 'batch', qd: depth, ...r, driverNsPerIo: Math.round(workNs / r.ios) };
}

async function promiseApi(ctrl, ns, ms) {
  const bufs = Array.from({ length: QD }, () => ctrl.pool.alloc(IO));
  const next = lbaSource(ns, 0x9a0e);
  const loop = async (deadline) => {
    let done = 0;
    const worker = async (b) => {
      while (performance.now() < deadline) {
        await ns.read(next(), b);
        done++;
      }
    };
    await Promise.all(bufs.map(worker));
    return done;
  };
  await loop(performance.now() + 200);
  const r = await measure(() => loop(performance.now() + ms));
  for (const b of bufs) b.free();
  return { api: 'promise', qd: QD, ...r };
}

async function main() {
  const ctrl = await phyr.open(values.target, { ioQueueSize: 1024 });
  try {
    const ns = ctrl.namespace(1);
    const rows = [await batchApi(ctrl, ns, MS), await promiseApi(ctrl, ns, MS)];
    const meta = { date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, load: os.loadavg()[0].toFixed(1), target: values.target };
    if (values.json) {
      console.log(JSON.stringify({ meta, rows }, null, 2));
    } else {
      console.log(`driver API, 4 KiB random reads, ${values.target}, ${meta.cpus} cores (${meta.cpu}), load ${meta.load}`);
      console.log('api       qd    IOPS      process CPU ns/IO   JS thread CPU ns/IO   driver work ns/IO');
      for (const r of rows) {
        console.log(`${r.api.padEnd(9)} ${String(r.qd).padEnd(5)} ${String(r.iops).padEnd(9)} ${String(r.processCpuNsPerIo).padEnd(19)} ${String(r.jsThreadCpuNsPerIo).padEnd(21)} ${r.driverNsPerIo ?? '-'}`);
      }
    }
  } finally {
    await ctrl.close();
  }
}

main().catch((e) => {
  console.error(`bench/driver-api: ${e.message}`);
  process.exitCode = 1;
});
