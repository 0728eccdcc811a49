'use strict';
// The stable key and parameters of a bench/matrix.js row, read from its label. The labels
// are fixed strings in matrix.js; the key is what ties one workload's figures together
// across runs (best figure, history), so it must not change when a label's wording does
// not change the workload.

const RW = [
  [/randrw 70\/30/, 'randrw70'],
  [/randread/, 'randread'],
  [/sequential read/, 'read'],
  [/sequential write/, 'write'],
];

const slug = (label) => label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * @param {string} label a row label as bench/matrix.js writes it
 * @returns {{ key: string, params: Record<string, string | number> }}
 */
function matrixRowIdentity(label) {
  const floor = /^(engine alone, null queue|engine \+ driver QueuePair, loopback controller), QD(\d+)(?:, interval samples every (\d+) ms)? \(no device\)$/.exec(label);
  if (floor) {
    const loop = floor[1].startsWith('engine alone') ? 'engine' : 'driver';
    const params = { floor: loop === 'engine' ? 'engine alone, null queue' : 'engine + driver QueuePair, loopback controller', iodepth: Number(floor[2]) };
    // The engine floor with its interval-sample clock on (bwavgtime).
    if (floor[3]) return { key: `floor-${loop}-qd${floor[2]}-samples${floor[3]}ms`, params: { ...params, sampleMs: Number(floor[3]) } };
    return { key: `floor-${loop}-qd${floor[2]}`, params };
  }
  // Device-less rows side by side: phyr bench's null target and fio's null engine.
  const noDevice = /^(\d+) KiB randread QD(\d+), (phyr bench null target|fio --ioengine=null)/.exec(label);
  if (noDevice) {
    const who = noDevice[3].startsWith('phyr') ? 'phyr-null' : 'fio-null';
    return { key: `randread-${noDevice[1]}k-qd${noDevice[2]}-${who}`, params: { rw: 'randread', bs: `${noDevice[1]}k`, iodepth: Number(noDevice[2]), target: noDevice[3] } };
  }
  const bs = /^(\d+) KiB /.exec(label);
  const qd = /QD(\d+)/.exec(label);
  const backend = /(nodata|null|ram) backend/.exec(label);
  const rw = RW.find(([re]) => re.test(label));
  if (!bs || !qd || !backend || !rw) return { key: slug(label), params: {} };
  const params = { rw: rw[1], bs: `${bs[1]}k`, iodepth: Number(qd[1]), backend: backend[1] };
  const parts = [rw[1], `${bs[1]}k`, `qd${qd[1]}`];
  const jobs = / x (\d+) jobs/.exec(label);
  if (jobs) {
    params.numjobs = Number(jobs[1]);
    parts.push(`x${jobs[1]}`);
  }
  parts.push(backend[1]);
  const api = /driver (\w+) API from JS/.exec(label);
  if (api) {
    params.api = api[1];
    parts.unshift(`api-${api[1]}`);
  }
  if (/crc32c verify/.test(label)) {
    params.verify = 'crc32c';
    parts.push('crc32c');
  }
  const dptr = /--dptr=(\w+)/.exec(label);
  if (dptr) {
    params.dptr = dptr[1];
    parts.push(dptr[1]);
  }
  const mem = /--mem=([\w:]+)/.exec(label);
  if (mem) {
    params.mem = mem[1];
    parts.push(mem[1].replace(/:/g, '-'));
  }
  // Shadow doorbells on the embedded controller (emu:dbbuf=on), used or not by the driver.
  const shadow = /dbbuf=on, shadow doorbells (on|off)/.exec(label);
  if (shadow) {
    params.shadowDoorbells = shadow[1];
    parts.push(`dbbuf-shadow-${shadow[1]}`);
  }
  // Logging's cost: the same row with fio's log files, and the plain row run beside it.
  const logs = /write_bw_log \+ write_lat_log, log_avg_msec=(\d+)/.exec(label);
  if (logs) {
    params.logs = `bw+lat, log_avg_msec=${logs[1]}`;
    parts.push(`logs-bw-lat-${logs[1]}ms`);
  } else if (/write_lat_log per IO/.test(label)) {
    params.logs = 'lat per IO';
    parts.push('logs-lat-per-io');
  } else if (/no log files/.test(label)) {
    params.logs = 'none';
    parts.push('nologs');
  }
  return { key: parts.join('-'), params };
}

module.exports = { matrixRowIdentity };
