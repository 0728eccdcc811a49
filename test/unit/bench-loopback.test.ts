// The native LoopbackQueue handle (bench/native/loopback_napi.h) a BenchJob runs on for
// `phyr bench null`: a job on it issues exactly the IOs planned and the loopback answers
// each; the queue is one job's at a time; closing it at odd moments (while a job runs,
// twice, before a job is given it, at process exit with a job running) never frees it
// under a job thread.
import t from 'tap';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { benchNative, type NativeBenchJob, type NativeJobParams } from '../../bench/cli/native';
import { defaultJob } from '../../bench/cli/job';
import { planJob } from '../../bench/cli/plan';

const NS = { nsid: 1, lbaSize: 512, blocks: 2 ** 21 };

function params(over: Partial<ReturnType<typeof defaultJob>> = {}): NativeJobParams {
  const spec = { ...defaultJob('loop'), rw: 'randread' as const, iodepth: 8, ...over };
  return { ...planJob(spec, NS, 0), bufIova: 2 ** 40, bufFlags: 0 };
}

function start(q: object, p: NativeJobParams): { job: NativeBenchJob; buffer: ArrayBuffer } {
  const n = benchNative();
  const buffer = new ArrayBuffer(p.iodepth * p.slotBytes);
  return { job: new n.BenchJob(q, p, buffer, 0, new Float64Array(n.progressFields.count)), buffer };
}

async function settle(job: NativeBenchJob): Promise<void> {
  while (!job.done) await new Promise((r) => setTimeout(r, 5));
}

t.test('a job on a loopback queue issues the IOs planned, and the loopback answers each', async (t) => {
  const q = new (benchNative().LoopbackQueue)({ qsize: 16 });
  t.equal(q.capacity, 12, 'qsize - qsize/4 commands in flight (the driver\'s rule)');
  t.equal(q.answered(), 0);
  const { job } = start(q, params({ numberIos: 10000 }));
  await settle(job);
  const r = job.join();
  t.equal(r.error, 0, r.errorText);
  t.equal(r.read.ios, 10000);
  t.equal(r.prpCommands, 10000, 'one PRP command per 4 KiB read');
  t.equal(q.answered(), 10000, 'the loopback answered every command the driver wrote');
  q.close();
});

t.test('one job at a time; no close, no counter read while it runs', async (t) => {
  const q = new (benchNative().LoopbackQueue)({ qsize: 16 });
  const { job } = start(q, params({ runtimeNs: 10e9, timeBased: true }));
  t.equal(q.busy, true, 'busy while the job drives it');
  t.throws(() => start(q, params()), { name: 'TypeError', message: /already driven by another bench job/ });
  t.throws(() => q.close(), { name: 'TypeError', message: /driven by a bench job; it cannot be closed until the job has ended/ });
  t.throws(() => q.answered(), { name: 'TypeError', message: /read answered\(\) after the job is joined/ });
  job.stop();
  await settle(job);
  const r = job.join();
  t.equal(r.error, 0, r.errorText);
  t.equal(q.busy, false, 'released when the job ended');
  t.equal(q.answered(), r.read.ios, 'every IO the stopped job counted was answered');
  q.close();
  q.close();
  t.throws(() => q.capacity, { name: 'TypeError', message: /the loopback queue is closed/ });
  t.throws(() => start(q, params()), { name: 'TypeError', message: /the loopback queue is closed/ });
});

t.test('a job deeper than the queue, and bad data-pointer settings, are refused', async (t) => {
  const n = benchNative();
  const q = new n.LoopbackQueue({ qsize: 8 });
  t.throws(() => start(q, params({ iodepth: 7 })), { name: 'RangeError', message: /iodepth 7 exceeds the queue pair's capacity of 6 commands/ });
  t.equal(q.busy, false, 'a refused job does not take the queue');
  q.close();
  t.throws(() => new n.LoopbackQueue({ qsize: 8, preferSgl: true }), { name: 'RangeError', message: /preferSgl needs sglSupport 1 or 2/ });
  t.throws(() => new n.LoopbackQueue({ qsize: 8, maxTransfer: 4097 }), { name: 'RangeError', message: /multiple of 4096/ });
  t.throws(() => new n.LoopbackQueue({ qsize: 1.5 }), { name: 'RangeError', message: /qsize must be an integer from 2 to 65536, got 1.5/ });
  t.throws(() => new n.LoopbackQueue({ qsize: 2 ** 53 }), RangeError);
  t.throws(() => new n.LoopbackQueue({ qsize: '8' as never }), { name: 'TypeError', message: /qsize must be a number/ });
});

t.test('SGL and splits: the driver builds what the declared capabilities ask for', async (t) => {
  const n = benchNative();
  const sgl = new n.LoopbackQueue({ qsize: 16, sglSupport: 1, preferSgl: true });
  const a = start(sgl, params({ numberIos: 500 }));
  await settle(a.job);
  t.equal(a.job.join().sglCommands, 500);
  sgl.close();
  const small = new n.LoopbackQueue({ qsize: 16, maxTransfer: 65536 });
  const big = { min: 262144, max: 262144, split: [] };
  const b = start(small, params({ numberIos: 100, bs: { read: big, write: big } }));
  await settle(b.job);
  const r = b.job.join();
  t.equal(r.splitCommands, 100);
  t.equal(r.childCommands, 400, 'each 256 KiB read is four 64 KiB commands');
  t.equal(small.answered(), 400);
  small.close();
});

t.test('process exit with a job still running on a dropped loopback queue ends cleanly', async (t) => {
  const code = `
    const { benchNative } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/bench/cli/native.js'))});
    const { planJob } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/bench/cli/plan.js'))});
    const { defaultJob } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/bench/cli/job.js'))});
    const n = benchNative();
    const p = { ...planJob({ ...defaultJob('x'), rw: 'randread', iodepth: 4, runtimeNs: 30e9, timeBased: true }, { nsid: 1, lbaSize: 512, blocks: 1 << 20 }, 0), bufIova: 2 ** 40, bufFlags: 0 };
    let q = new n.LoopbackQueue({ qsize: 8 });
    let job = new n.BenchJob(q, p, new ArrayBuffer(4 * p.slotBytes), 0, new Float64Array(n.progressFields.count));
    q = null; job = null;
    global.gc();
    setTimeout(() => { global.gc(); process.exit(0); }, 200);
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.signal, null, `ended by itself (${r.stderr})`);
  t.equal(r.status, 0, r.stderr);
});
