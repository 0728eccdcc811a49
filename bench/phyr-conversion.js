#!/usr/bin/env node
// Micro-benchmark (not a test): the cost of turning a sub-range of a DMA pool buffer into
// phyr entries (DmaBuffer.toPhyr) for 4 KiB and 1 MiB sub-ranges, reusing one PhyrArray so
// nothing is allocated per conversion. Runs on the compiled tree: `npm run bench:phyr`
// (builds first) or `node bench/phyr-conversion.js` after `npm run build:ts`.
//   --json    print the figures as JSON
//   --ms N    time budget per case (default 300 ms)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');

const dist = path.resolve(__dirname, '..', 'dist', 'lib');
if (!fs.existsSync(path.join(dist, 'dma', 'index.js'))) {
  console.error('bench/phyr-conversion: dist/lib/dma is missing; run `npm run build:ts` (or `npm run bench:phyr`) first');
  process.exit(2);
}
const { DmaPool } = require(path.join(dist, 'dma'));
const { PhyrArray } = require(path.join(dist, 'phyr'));

const { values } = parseArgs({ options: { json: { type: 'boolean' }, ms: { type: 'string', default: '300' } } });
const budgetMs = Number(values.ms);

// A PCI function that only accepts mappings: the benchmark measures translation, not a
// device. (It keeps the table so the pool's map/unmap bookkeeping runs as usual.)
const table = new Map();
const nullIommu = {
  name: 'bench',
  kind: 'emu',
  bar() {
    throw new Error('no BARs');
  },
  barSize: () => 0,
  configRead: () => 0xffffffff,
  configWrite() {},
  iovaRanges: () => [{ start: 0, end: 2 ** 40 - 1 }],
  dmaMap(memory, offset, length, iova) {
    table.set(iova, { memory, offset, length });
  },
  dmaUnmap(iova) {
    table.delete(iova);
  },
  enableMsix: () => [],
  close() {},
};

const MiB = 1024 * 1024;
const pool = new DmaPool(nullIommu, { hugepages: 'auto' });
const buf = pool.alloc(8 * MiB);
const out = new PhyrArray({ capacity: 4 });

// Offsets cycle through misaligned positions, many of them crossing 2 MiB boundaries.
const OFFSETS = 1024;
function offsetsFor(len) {
  const a = new Float64Array(OFFSETS);
  for (let i = 0; i < OFFSETS; i++) a[i] = ((i * 2 * MiB + i * 4093 - 511) >>> 0) % (buf.size - len);
  return a;
}

function run(len) {
  const offs = offsetsFor(len);
  let sink = 0;
  // Warm up so the optimizing compiler has run.
  for (let i = 0; i < 200000; i++) {
    out.clear();
    buf.toPhyr(offs[i & (OFFSETS - 1)], len, out);
    sink += out.addrAt(0);
  }
  const rounds = [];
  const deadline = Date.now() + budgetMs;
  const iters = 200000;
  while (Date.now() < deadline || rounds.length < 5) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      out.clear();
      buf.toPhyr(offs[i & (OFFSETS - 1)], len, out);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    sink += out.lenAt(0);
    rounds.push(ns / iters);
  }
  if (out.length !== 1 || sink === 0) throw new Error('conversion produced an unexpected phyr array');
  rounds.sort((a, b) => a - b);
  return {
    subrange: len,
    entries: out.length,
    nsPerConversion: Number(rounds[Math.floor(rounds.length / 2)].toFixed(1)),
    bestNs: Number(rounds[0].toFixed(1)),
    conversions: rounds.length * iters,
  };
}

const heapBefore = process.memoryUsage().heapUsed;
// 6 MiB spans three to four hugepages: the cost must not grow with the size (O(1) translation).
const results = [run(4096), run(MiB), run(6 * MiB)];
const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
const report = {
  bench: 'phyr-conversion',
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  hugepageBacked: buf.hugepageBacked,
  results,
  heapGrowthBytes: heapGrowth,
};
pool.close();

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`buffer -> phyr conversion (DmaBuffer.toPhyr into a reused PhyrArray), ${report.cpus} CPUs, ${report.cpuModel}`);
  console.log(`memory: ${report.hugepageBacked ? '2 MiB hugepages' : '4 KiB pages (no hugepages reserved)'}`);
  for (const r of results) {
    const label = r.subrange >= MiB ? `${r.subrange / MiB} MiB` : `${r.subrange / 1024} KiB`;
    console.log(`  ${label.padEnd(6)} sub-range: ${r.nsPerConversion} ns/conversion (median; best ${r.bestNs}), ${r.entries} entry, ${r.conversions} conversions`);
  }
}
