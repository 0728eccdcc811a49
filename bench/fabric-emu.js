#!/usr/bin/env node
// The fabric target's data path on this machine: an NVMe/TCP target over an emulated,
// null-backed controller (emu:backend=null) in a child process, and a minimal host here
// over loopback that keeps QD commands of 4 KiB randread or randwrite outstanding on one
// IO queue. Prints IOPS and the target's main-thread CPU time per IO (from
// /proc/PID/task/PID/stat, the main thread only: the emulator's threads are not counted).
//
//   node bench/fabric-emu.js [--completion poll|interrupt] [--cpu-prof-dir DIR] [--dist DIR] [--seconds 3] [--rw randread,randwrite] [--qd 1,32]
//
// --dist picks the compiled tree whose target runs (a checkout's dist/, to compare before
// and after a change). Run it on a quiet machine; the load average is printed with it.
'use strict';
const net = require('net');
const path = require('path');
const fs = require('fs');
const { fork } = require('child_process');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

const SUBNQN = 'nqn.2026-12.dev.phyr:bench';
const HOSTNQN = 'nqn.2026-12.dev.phyr:bench-host';
const BS = 4096;

if (process.argv.includes('--serve')) {
  // The target process.
  const dist = path.resolve(arg('dist', path.join(__dirname, '..', 'dist')));
  const { open } = require(path.join(dist, 'targets/open'));
  const { controllerBackend } = require(path.join(dist, 'fabrics/backend'));
  const { TcpTarget } = require(path.join(dist, 'fabrics/target'));
  (async () => {
    const completion = arg('completion', 'poll');
    const ctrl = await open('emu:size=1G,backend=null', { completion });
    const target = await TcpTarget.listen({ port: 0, host: '127.0.0.1', subsystems: [{ nqn: SUBNQN, backend: await controllerBackend(ctrl), allowHosts: 'any' }], log: () => {} });
    const ticks = () => {
      const f = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
      const v = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return Number(v[11]) + Number(v[12]); // utime + stime, clock ticks
    };
    process.on('message', async (m) => {
      if (m === 'cpu') process.send({ cpuTicks: ticks() });
      if (m === 'stop') {
        await target.close();
        await ctrl.close();
        process.disconnect();
        setTimeout(() => process.exit(0), 200).unref();
      }
    });
    process.send({ port: target.address.port });
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
  return;
}

// ---- the host ----
class Host {
  constructor(socket) {
    this.s = socket;
    this.s.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.waiting = new Map();
    this.cid = 0;
    this.s.on('data', (c) => this.onData(c));
  }
  static connect(port) {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new Host(s)));
      s.once('error', rej);
    });
  }
  icReq() {
    const b = Buffer.alloc(128);
    b[0] = 0x00; b[2] = 128; b.writeUInt32LE(128, 4);
    return new Promise((res) => { this.ic = res; this.s.write(b); });
  }
  // opcode, nsid, cdw map; data in capsule, or readBytes.
  cmd(opcode, nsid, cdw, o = {}) {
    const cid = (this.cid = (this.cid + 1) & 0xffff);
    const h = Buffer.alloc(72 + (o.data ? o.data.length : 0));
    h[0] = 0x04; h[2] = 72; h[3] = o.data ? 72 : 0; h.writeUInt32LE(h.length, 4);
    const sqe = h.subarray(8, 72);
    sqe[0] = opcode; sqe[1] = 0x40; sqe.writeUInt16LE(cid, 2); sqe.writeUInt32LE(nsid, 4);
    for (const [k, v] of Object.entries(cdw)) sqe.writeUInt32LE(v >>> 0, Number(k) * 4);
    if (o.fctype !== undefined) sqe[4] = o.fctype;
    const len = o.data ? o.data.length : o.readBytes || 0;
    sqe.writeUInt32LE(len, 32);
    sqe[39] = o.data ? 0x01 : 0x5a; // Data Block Offset (in capsule) / Transport Data Block
    if (o.data) o.data.copy(h, 72);
    if (o.sqeHook) o.sqeHook(sqe);
    return new Promise((res) => { this.waiting.set(cid, res); this.s.write(h); });
  }
  onData(c) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    while (this.buf.length >= 8) {
      const plen = this.buf.readUInt32LE(4);
      if (this.buf.length < plen) return;
      const p = this.buf.subarray(0, plen);
      this.buf = this.buf.subarray(plen);
      if (p[0] === 0x01) this.ic(p);
      else if (p[0] === 0x05) {
        const cid = p.readUInt16LE(20);
        const w = this.waiting.get(cid);
        this.waiting.delete(cid);
        w({ dw0: p.readUInt32LE(8), status: p.readUInt16LE(22) >> 1 });
      } else if (p[0] !== 0x07) throw new Error(`PDU type ${p[0]} from the target`);
    }
  }
}

const connectData = (cntlid) => {
  const d = Buffer.alloc(1024);
  d.writeUInt16LE(cntlid, 16);
  d.write(SUBNQN, 256);
  d.write(HOSTNQN, 512);
  return d;
};
const connect = (host, qid, sqsize, cntlid) =>
  host.cmd(0x7f, 0, {}, { fctype: 0x01, data: connectData(cntlid), sqeHook: (s) => { s.writeUInt16LE(qid, 42); s.writeUInt16LE(sqsize, 44); } });

async function run(port, child, rw, qd, seconds) {
  const admin = await Host.connect(port);
  await admin.icReq();
  const cntlid = (await connect(admin, 0, 31, 0xffff)).dw0;
  // Property Set CC.EN, then Number of Queues.
  await admin.cmd(0x7f, 0, {}, { fctype: 0x00, sqeHook: (s) => { s[40] = 0; s.writeUInt32LE(0x14, 44); s.writeUInt32LE(0x460001, 48); } });
  await admin.cmd(0x09, 0, { 10: 0x07, 11: 0 });
  const io = await Host.connect(port);
  await io.icReq();
  const c = await connect(io, 1, 127, cntlid);
  if (c.status) throw new Error(`IO Connect status ${c.status}`);
  const blocks = (1 << 30) / BS;
  const data = Buffer.alloc(BS, 0xa5);
  let done = 0;
  let stop = false;
  let errors = 0;
  // LBAs in 512-byte units (the emulated namespace's LBA size is asked below).
  const lbaPer = BS / lbaSize;
  const one = async () => {
    while (!stop) {
      const lba = Math.floor(Math.random() * blocks) * lbaPer;
      const r = rw === 'randread'
        ? await io.cmd(0x02, 1, { 10: lba, 12: lbaPer - 1 }, { readBytes: BS })
        : await io.cmd(0x01, 1, { 10: lba, 12: lbaPer - 1 }, { data });
      if (r.status) errors++;
      done++;
    }
  };
  const cpu = () => new Promise((res) => { child.once('message', (m) => res(m.cpuTicks)); child.send('cpu'); });
  const workers = Array.from({ length: qd }, one);
  await new Promise((r) => setTimeout(r, 300)); // warm-up
  const d0 = done;
  const c0 = await cpu();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const d1 = done;
  const c1 = await cpu();
  const t1 = process.hrtime.bigint();
  stop = true;
  await Promise.all(workers);
  io.s.destroy();
  admin.s.destroy();
  const secs = Number(t1 - t0) / 1e9;
  const ios = d1 - d0;
  const tick = 1e6 / 100; // µs per clock tick (USER_HZ 100)
  return { rw, qd, iops: Math.round(ios / secs), cpuPerIoUs: +(((c1 - c0) * tick) / ios).toFixed(2), errors };
}

let lbaSize = 512;
(async () => {
  const dist = arg('dist', path.join(__dirname, '..', 'dist'));
  const seconds = Number(arg('seconds', '3'));
  const rws = arg('rw', 'randread,randwrite').split(',');
  const qds = arg('qd', '1,32').split(',').map(Number);
  const completion = arg('completion', 'poll');
  const profDir = arg('cpu-prof-dir', '');
  const child = fork(__filename, ['--serve', '--dist', dist, '--completion', completion], { execArgv: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((res) => child.once('message', (m) => res(m.port)));
  lbaSize = Number(arg('lba', '512'));
  console.log(`target: ${path.resolve(dist)} completion: ${completion}  load: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  for (const rw of rws) for (const qd of qds) {
    const r = await run(port, child, rw, qd, seconds);
    console.log(`${r.rw} QD${r.qd}: ${r.iops} IOPS, target main thread ${r.cpuPerIoUs} µs CPU/IO${r.errors ? `, ${r.errors} errors` : ''}  (load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
  }
  child.send('stop');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
