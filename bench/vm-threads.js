// Host CPU of QEMU's threads while bench/vm.js runs the guest: where a VM row's time goes.
// Every few hundred milliseconds each task of the QEMU process (a child of this process) is
// read from /proc/PID/task/TID/stat (utime + stime, field 14 and 15, in clock ticks); a row's
// interval is then split into the vCPU threads ("CPU n/TCG" — QEMU names them with
// `-name ...,debug-threads=on`, tools/vm/launch.ts), the main loop (the process's first
// thread: the NVMe device model, its DMA through the emulated IOMMU, timers and interrupts)
// and the rest (RCU, the 9p and block worker pool).
'use strict';
const fs = require('fs');

// Linux reports task times in USER_HZ, 100 on every architecture node runs on here.
const TICKS_PER_SECOND = 100;
const SAMPLE_MS = 200;

/** Reads utime + stime (seconds) and the name of every task of `pid`; null when it is gone. */
function readTasks(pid) {
  let tids;
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const tasks = new Map();
  for (const tid of tids) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // "TID (COMM) S ...": the name may hold spaces and parentheses; it ends at the last ')'.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime field 15.
    tasks.set(Number(tid), { name, seconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND });
  }
  return tasks;
}

/** The QEMU child of `parent` (any of its threads may have spawned it), or undefined. */
function findQemu(parent) {
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${parent}/task`);
  } catch {
    return undefined;
  }
  for (const tid of tids) {
    let children = '';
    try {
      children = fs.readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean)) {
      try {
        if (fs.readFileSync(`/proc/${c}/comm`, 'utf8').startsWith('qemu-system')) return Number(c);
      } catch {
        /* gone */
      }
    }
  }
  return undefined;
}

class QemuThreadSampler {
  constructor(parentPid) {
    this.parent = parentPid;
    this.pid = undefined;
    this.samples = []; // { t: ms, tasks: Map }
    this.timer = undefined;
  }

  start() {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample() {
    if (this.pid === undefined) this.pid = findQemu(this.parent);
    if (this.pid === undefined) return;
    const tasks = readTasks(this.pid);
    if (tasks) this.samples.push({ t: Date.now(), tasks });
  }

  /**
   * Host CPU in [start, end] (ms, this clock), % of one core: vCPU threads summed, the main
   * loop, the rest; undefined when fewer than two samples fall in it.
   */
  usage(start, end) {
    const inside = this.samples.filter((s) => s.t >= start && s.t <= end);
    if (inside.length < 2) return undefined;
    const a = inside[0];
    const b = inside[inside.length - 1];
    const wall = (b.t - a.t) / 1000;
    const out = { vcpu: 0, main: 0, other: 0, seconds: wall };
    for (const [tid, tb] of b.tasks) {
      const ta = a.tasks.get(tid);
      const used = tb.seconds - (ta ? ta.seconds : 0);
      if (/^CPU \d+\//.test(tb.name)) out.vcpu += used;
      else if (tid === this.pid) out.main += used;
      else out.other += used;
    }
    for (const k of ['vcpu', 'main', 'other']) out[k] = (100 * out[k]) / wall;
    return out;
  }
}

module.exports = { QemuThreadSampler, readTasks };
