#!/usr/bin/env node
// Micro-benchmark (not a test): the embedded controller's own cost per command with the
// null backend. A native loop plays the driver (SQEs in IOMMU-mapped memory, doorbells in
// the BAR, one doorbell per batch) and times only the device's work (Controller::pollOnce,
// no device thread, so no wake-up latency is counted). Reports ns per command: wall time,
// and the thread's CPU time (which leaves out time the thread was descheduled).
//   node bench/emu-device-cost.js [--commands N] [--json]
// Needs the addon (npm run build:addon).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');

const addonPath = path.resolve(__dirname, '..', 'build', 'Release', 'phyr.node');
if (!fs.existsSync(addonPath)) {
  console.error('bench/emu-device-cost: the addon is not built; run `npm run build:addon` first');
  process.exit(2);
}
// The NVMe opcodes come from the compiled spec/nvme.h (the addon's nvmeSpec list).
const { bench, nvmeSpec } = require(addonPath);
const { values } = parseArgs({ options: { json: { type: 'boolean' }, commands: { type: 'string', default: '400000' } } });
const commands = Number(values.commands);

const { IO_FLUSH, IO_WRITE, IO_READ } = nvmeSpec;
const cases = [
  { name: 'flush (no data)', opcode: IO_FLUSH, blockBytes: 512, batch: 64 },
  { name: 'read 512 B', opcode: IO_READ, blockBytes: 512, batch: 64 },
  { name: 'read 4 KiB', opcode: IO_READ, blockBytes: 4096, batch: 64 },
  { name: 'write 4 KiB', opcode: IO_WRITE, blockBytes: 4096, batch: 64 },
  { name: 'read 4 KiB, batch 1', opcode: IO_READ, blockBytes: 4096, batch: 1 },
  { name: 'read 4 KiB, batch 256', opcode: IO_READ, blockBytes: 4096, batch: 256 },
  { name: 'read 128 KiB (PRP list)', opcode: IO_READ, blockBytes: 131072, batch: 64 },
];

const rows = [];
for (const c of cases) {
  // Three runs; the median and the best are reported (the machine is shared).
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(bench.emuDeviceCost({ commands, batch: c.batch, blockBytes: c.blockBytes, opcode: c.opcode, backend: 'null' }));
  const device = runs.map((r) => r.deviceNsPerCommand).sort((a, b) => a - b);
  const cpu = runs.map((r) => r.deviceCpuNsPerCommand).sort((a, b) => a - b);
  const total = runs.map((r) => r.totalNsPerCommand).sort((a, b) => a - b);
  rows.push({ case: c.name, batch: c.batch, deviceNsMedian: device[1], deviceNsBest: device[0], deviceCpuNsMedian: cpu[1], loopNsMedian: total[1] });
}

if (values.json) {
  console.log(JSON.stringify({ machine: `${os.cpus().length} cores, ${os.cpus()[0].model}`, node: process.version, commands, rows }, null, 2));
} else {
  console.log(`embedded controller, backend=null, ${commands} commands per run, 3 runs (${os.cpus().length} cores, ${os.cpus()[0].model})`);
  console.log('case                        batch  device wall ns/cmd (median, best)  device CPU ns/cmd  whole loop ns/cmd');
  for (const r of rows) {
    console.log(`${r.case.padEnd(28)}${String(r.batch).padStart(5)}  ${r.deviceNsMedian.toFixed(1).padStart(14)}  ${r.deviceNsBest.toFixed(1).padStart(10)}  ${r.deviceCpuNsMedian.toFixed(1).padStart(17)}  ${r.loopNsMedian.toFixed(1).padStart(17)}`);
  }
}
