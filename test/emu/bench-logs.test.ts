// Interval samples end to end on the embedded controller, next to real fio (Debian's fio
// package, --ioengine=null, is the oracle for the shapes, not the values): the JSON's
// per-sample fields in fio's order, the normal output's bw/iops lines in fio's place and
// format, the sample count for the run and the interval, the timeline of CONTRACT-14, and
// bwavgtime/iopsavgtime.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const TARGET = 'emu:backend=null,size=67108864';
const JOB = ['--name=j', '--rw=randread', '--bs=4k', '--iodepth=8', '--time_based', '--runtime=2'];

function phyr(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--eta=never', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fio(args: string[]): string {
  // The null engine moves no data, so no file is needed.
  const r = spawnSync('fio', ['--ioengine=null', '--size=64m', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  return r.stdout;
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  if (spawnSync('fio', ['--version']).status !== 0) throw new Error('fio is not installed (Debian package fio): this test compares phyr with it');
});

const BW_LINE = /^ {3}bw \( {0,2}[KM]iB\/s\): min= *\d+, max= *\d+, per=\d+\.\d\d%, avg= *\d+\.\d\d, stdev= *\d+\.\d\d, samples=\d+$/;
const IOPS_LINE = /^ {3}iops {8}: min= *\d+, max= *\d+, avg= *\d+\.\d\d, stdev= *\d+\.\d\d, samples=\d+$/;

// The normal output's lines around the sample lines, reduced to their shapes.
function sampleShape(text: string): string[] {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => BW_LINE.test(l));
  if (i < 0) return [];
  return [lines[i - 1].replace(/[\d.]+/g, 'N').replace(/\s+/g, ''), 'bw', IOPS_LINE.test(lines[i + 1]) ? 'iops' : lines[i + 1], lines[i + 2].replace(/[\d.=%,]+/g, '').trim().split(' ')[0]];
}

t.test('normal output: fio\'s bw and iops lines, in fio\'s place', async (t) => {
  const mine = phyr(JOB);
  t.equal(mine.status, 0, mine.stderr);
  const theirs = fio(JOB);
  t.same(sampleShape(mine.stdout), sampleShape(theirs), 'after the clat percentiles, before the latency buckets');
  t.ok(sampleShape(mine.stdout).length === 4, 'phyr prints them');
  const samples = Number(/bw \(.*samples=(\d+)/.exec(mine.stdout)?.[1]);
  // 3 or 4 on an idle machine, as fio; each interval starts when the last was noticed, so a
  // thread preempted on busy shared cores can fit one fewer.
  t.ok(samples >= 2 && samples <= 4, `2 s at 500 ms: ${samples} samples (fio: ${/bw \(.*samples=(\d+)/.exec(theirs)?.[1]})`);
});

t.test('JSON: the per-sample fields in fio\'s order, consistent with the timeline', async (t) => {
  const r = phyr([...JOB, '--bwavgtime=250', '--iopsavgtime=250', '--output-format=json']);
  t.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout).jobs[0];
  const theirs = JSON.parse(fio([...JOB, '--bwavgtime=250', '--iopsavgtime=250', '--output-format=json'])).jobs[0];
  t.same(Object.keys(j.read), Object.keys(theirs.read), 'the read object\'s keys, in fio\'s order');
  const n = j.read.bw_samples;
  t.ok(n >= 5 && n <= 8, `2 s at 250 ms: ${n} samples (fio: ${theirs.read.bw_samples}; fewer when the thread is preempted on busy cores)`);
  t.equal(j.read.iops_samples, n);
  t.ok(j.read.bw_min <= j.read.bw_mean && j.read.bw_mean <= j.read.bw_max && j.read.bw_min > 0, 'min <= mean <= max');
  t.ok(j.read.bw_agg > 0 && j.read.bw_agg <= 100, `bw_agg ${j.read.bw_agg} is a percentage`);
  t.ok(Number.isInteger(j.read.bw_min) && Number.isInteger(j.read.iops_max), 'fio\'s integer rates');
  t.equal(j.write.bw_samples, 0, 'no writes: no write samples');
  const tl = j.phyr.timeline;
  t.equal(tl.interval_ms, 250);
  t.equal(tl.t_ms.length, n, 'one timeline entry per sample');
  t.notOk('write' in tl || 'trim' in tl, 'directions with no IO are left out');
  for (const k of ['iops', 'bw_bytes', 'clat_p50_ns', 'clat_p99_ns', 'clat_p99_9_ns']) t.equal(tl.read[k].length, n, `read.${k} has an entry per interval`);
  tl.t_ms.forEach((ms: number, i: number) => t.ok(ms >= 250 * (i + 1) && ms < 250 * (i + 1) + 50 * (i + 1), `interval ${i} ends at ${ms} ms`));
  // The same intervals: the timeline's mean KiB/s is the samples' mean within rounding.
  const meanKiB = tl.read.bw_bytes.reduce((a: number, b: number) => a + b, 0) / n / 1024;
  t.ok(Math.abs(meanKiB - j.read.bw_mean) / j.read.bw_mean < 0.01, `timeline mean ${meanKiB.toFixed(0)} KiB/s ~ bw_mean ${j.read.bw_mean.toFixed(0)}`);
  tl.read.clat_p50_ns.forEach((p: number, i: number) => t.ok(p > 0 && p <= tl.read.clat_p99_ns[i] && tl.read.clat_p99_ns[i] <= tl.read.clat_p99_9_ns[i], `interval ${i}: p50 <= p99 <= p99.9`));
});

t.test('group_reporting adds the clones\' samples up, as fio does', async (t) => {
  const r = phyr([...JOB, '--numjobs=2', '--group_reporting', '--output-format=json']);
  t.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout).jobs[0];
  t.ok(j.read.bw_samples >= 4 && j.read.bw_samples <= 8, `two clones, 2 to 4 each: ${j.read.bw_samples}`);
  t.ok(j.phyr.timeline.read.iops.length >= 3, 'a summed timeline');
});

t.test('bwavgtime and iopsavgtime apart: each its own clock, as in fio', async (t) => {
  const r = phyr([...JOB, '--bwavgtime=250', '--output-format=json']);
  t.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout).jobs[0];
  t.ok(j.read.bw_samples > j.read.iops_samples, `bandwidth every 250 ms (${j.read.bw_samples}), IOPS every 500 ms (${j.read.iops_samples})`);
  t.ok(j.read.iops_samples >= 2 && j.read.iops_samples <= 4);
  t.equal(j.phyr.timeline.interval_ms, 250, 'the timeline follows the bandwidth samples');
});

t.test('a zero interval is refused, naming the option', async (t) => {
  const zero = phyr([...JOB, '--bwavgtime=0']);
  t.not(zero.status, 0);
  t.match(zero.stderr, /bwavgtime/);
});
