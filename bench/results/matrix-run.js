'use strict';
// bench/matrix.js's figures as a run file (the shape validate.js checks). The columns are
// the ones its runs have had since every row was run several times, so new runs line up
// with the committed ones row by row and column by column.
const { roundFor } = require('./format');
const { matrixRowIdentity } = require('./matrix-rows');

/** The columns of a matrix run, in table order. */
const MATRIX_COLUMNS = [
  { key: 'iops', label: 'IOPS (median)', unit: 'IOPS', format: 'integer', better: 'higher' },
  { key: 'iopsSlowest', label: 'slowest run, M IOPS', unit: 'M IOPS', format: 'fixed2' },
  { key: 'iopsFastest', label: 'fastest run, M IOPS', unit: 'M IOPS', format: 'fixed2' },
  { key: 'mibps', label: 'MiB/s', unit: 'MiB/s', format: 'fixed1' },
  { key: 'pctMemcpy', label: '% of memcpy', unit: '%', format: 'fixed1' },
  { key: 'p50', label: 'p50 µs', unit: 'µs', format: 'latency-us' },
  { key: 'p99', label: 'p99 µs', unit: 'µs', format: 'latency-us' },
  { key: 'p999', label: 'p99.9 µs', unit: 'µs', format: 'latency-us' },
  { key: 'cpuNsPerIo', label: 'CPU ns/IO', unit: 'ns/IO', format: 'integer', better: 'lower' },
  { key: 'busyNsPerIo', label: 'busy ns/IO', unit: 'ns/IO', format: 'integer', better: 'lower' },
  { key: 'dptr', label: 'dptr', unit: null, format: 'text' },
  { key: 'verify', label: 'verify', unit: null, format: 'text' },
];
const FORMAT = new Map(MATRIX_COLUMNS.map((c) => [c.key, c.format]));

const method = (repeat, seconds) =>
  `Each row is the median of ${repeat} \`phyr bench\` runs of ${seconds} s (time_based; the range gives the slowest and fastest run) on the embedded emulated controller; the emulator's own thread runs on the second core. ` +
  "Latencies are completion latencies (clat) from the native log-linear histogram; CPU ns/IO is the job thread's user+system time divided by its IOs (the loop, the driver's submit/reap and the histograms — not the emulator thread; a busy-polling thread spends 1/IOPS per IO whatever its own work); busy ns/IO counts only the loop passes that submitted or reaped something, i.e. the thread's own work per IO.";

// Figures of one row, rounded as shown; a figure the row does not have is left out.
function figuresOf(values) {
  const out = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null || v === '' || (typeof v === 'number' && !Number.isFinite(v))) continue;
    out[k] = typeof v === 'number' ? roundFor(FORMAT.get(k), v) : v;
  }
  return out;
}

/**
 * The run document of one matrix run.
 * @param {object} m what bench/matrix.js measured and where: `{ date, time, command,
 *   commit, dirty, machine: { cores, cpu, node }, load, hugepages, repeat, seconds, memcpy:
 *   { mibps, bytesCopied, seconds }, rows, apiRows, floorRows, notes? }` (row objects as matrix.js builds them;
 *   latencies in ns, as phyr bench reports them)
 */
function matrixRun(m) {
  const pct = (mibps) => (mibps === undefined ? undefined : (100 * mibps) / m.memcpy.mibps);
  const us = (ns) => (ns === undefined ? undefined : ns / 1000);
  const rows = [];
  const notes = [...(m.notes ?? []), ...(m.dirty ? ['The tree had uncommitted changes to tracked files: the commit is the base of what ran.'] : [])];
  const add = (label, values) => {
    const { key, params } = matrixRowIdentity(label);
    rows.push({ key, label, params, figures: figuresOf(values) });
  };
  for (const r of m.rows) {
    add(r.label, {
      iops: r.iops, iopsSlowest: r.slowest / 1e6, iopsFastest: r.fastest / 1e6, mibps: r.mibps, pctMemcpy: pct(r.mibps),
      p50: us(r.p50), p99: us(r.p99), p999: us(r.p999), cpuNsPerIo: r.cpuNsPerIo, busyNsPerIo: r.busyNsPerIo, dptr: r.dptr, verify: r.verify,
    });
  }
  for (const r of m.apiRows) {
    if (r.iops === undefined) notes.push(`${r.label}: ${r.note}`);
    else add(r.label, { iops: r.iops, mibps: r.mibps, pctMemcpy: pct(r.mibps), cpuNsPerIo: r.cpuNsPerIo, verify: r.note });
  }
  for (const r of m.floorRows) add(r.label, { iops: r.iops, cpuNsPerIo: r.cpuNsPerIo, dptr: 'prp', verify: r.note });
  const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return {
    schema: 'phyr-bench-run/1',
    date: m.date,
    seq: m.seq,
    time: m.time,
    script: 'bench/matrix.js',
    title: 'phyr bench matrix',
    command: m.command,
    commit: m.commit,
    machine: { ...m.machine, hugepages: m.hugepages === null ? null : `${m.hugepages} free 2 MiB hugepages`, notes: null },
    load: { low: Number(m.load.toFixed(2)), high: Number(m.load.toFixed(2)), when: 'at the start', notes: null },
    method: method(m.repeat, m.seconds),
    columns: MATRIX_COLUMNS,
    rows,
    references: [{ key: 'memcpy', label: 'memcpy reference', value: Math.round(m.memcpy.mibps), unit: 'MiB/s', notes: `best pass copying 256 MiB, ${fmt(m.memcpy.bytesCopied / 2 ** 20)} MiB copied in ${m.memcpy.seconds.toFixed(2)} s, single thread` }],
    tables: [],
    notes,
  };
}

module.exports = { MATRIX_COLUMNS, matrixRun };
