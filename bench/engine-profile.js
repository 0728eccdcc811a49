#!/usr/bin/env node
// Micro-benchmark harness (not a test): runs the bench engine on this thread against the
// driver's QueuePair over the in-thread loopback controller (`driverFloor`), or against a
// queue with no driver at all (`engineFloor`), and prints the IO count — what instruction
// profiles divide by. Meant to run under valgrind:
//   valgrind --tool=callgrind --callgrind-out-file=cg.out node bench/engine-profile.js 128 500
//   callgrind_annotate --inclusive=yes cg.out | grep 'JobEngine.*run'   # Ir of the loop
// Ir / IOs = instructions per IO (repeatable on a busy machine, unlike ns). Without
// valgrind it prints the thread's CPU ns per IO.
//   node bench/engine-profile.js [IODEPTH=128] [MILLIS=500] [driver|engine]
// Needs the addon (npm run build:addon).
'use strict';
const fs = require('fs');
const path = require('path');

const addonPath = path.resolve(__dirname, '..', 'build', 'Release', 'phyr.node');
if (!fs.existsSync(addonPath)) {
  console.error('bench/engine-profile: the addon is not built; run `npm run build:addon` first');
  process.exit(2);
}
const { bench } = require(addonPath);
const depth = Number(process.argv[2] ?? 128);
const millis = Number(process.argv[3] ?? 500);
const which = process.argv[4] ?? 'driver';
if (which !== 'driver' && which !== 'engine') {
  console.error('bench/engine-profile: the third argument is driver (engine + QueuePair + loopback) or engine (engine alone)');
  process.exit(2);
}
const r = which === 'driver' ? bench.driverFloor(depth, millis) : bench.engineFloor(depth, millis);
if (r.error) {
  console.error(`bench/engine-profile: ${r.error}`);
  process.exit(1);
}
console.log(JSON.stringify({ floor: which, iodepth: depth, ios: r.ios, iops: Math.round(r.iops), cpuNsPerIo: Number(r.cpuNsPerIo.toFixed(1)) }));
