'use strict';
// What a run file records about where it ran: the machine, its load, the commit.
const { spawnSync } = require('child_process');
const os = require('os');

/** Cores, CPU model and Node version of this process's machine. */
function machineFacts() {
  const cpu = (os.cpus()[0] || { model: '' }).model.trim();
  return { cores: os.cpus().length, cpu: cpu === '' ? null : cpu, node: process.version };
}

/** The checked-out commit of `root` (`git rev-parse HEAD`), or null outside a git tree. */
function gitCommit(root) {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const id = r.status === 0 ? r.stdout.trim() : '';
  return /^[0-9a-f]{40}$/.test(id) ? id : null;
}

/** Whether `root` has uncommitted changes to tracked files (the commit alone does not say what ran). */
function gitDirty(root) {
  const r = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** The date (YYYY-MM-DD) and time (HH:MM:SSZ) of `d` in UTC, as a run file holds them. */
function utcStamp(d) {
  const iso = d.toISOString();
  return { date: iso.slice(0, 10), time: `${iso.slice(11, 19)}Z` };
}

/** A run file's `load` from the 1-minute load average at a run's start and end. */
function loadStartEnd(start, end) {
  return { low: Number(Math.min(start, end).toFixed(2)), high: Number(Math.max(start, end).toFixed(2)), when: 'at the start and the end', notes: `1-minute load average ${start.toFixed(2)} at the start, ${end.toFixed(2)} at the end` };
}

module.exports = { gitCommit, gitDirty, loadStartEnd, machineFacts, utcStamp };
