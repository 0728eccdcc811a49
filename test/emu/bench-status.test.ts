// --status-interval: full reports of the results so far (cumulative, fio's semantics)
// while jobs run, in the run's output format, then the final report.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import type { JobResult } from '../../bench/cli/results';
import { runJobs } from '../../bench/cli/runner';
import { run } from '../../tools/commands/bench';

t.test('the runner hands out growing cumulative snapshots of every running job', async (t) => {
  const cfg = parseBenchArgs(['emu:backend=null', '--name=a', '--rw=randread', '--iodepth=8', '--runtime=900ms', '--time_based', '--status-interval=200ms', '--name=b', '--rw=randwrite', '--iodepth=4', '--runtime=900ms', '--time_based']);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  t.teardown(() => d.close());
  const dumps: JobResult[][] = [];
  const lines: string[] = [];
  const final = await runJobs(d, cfg.jobs, cfg.run, { isTty: false, write: (s) => void lines.push(s), dump: (r) => void dumps.push(r) });
  t.ok(dumps.length >= 2, `${dumps.length} interval reports`);
  t.equal(lines.length, 0, 'no status lines when reports are dumped');
  for (const dump of dumps) t.same(dump.map((r) => r.name), ['a', 'b'], 'every job in every report');
  const ios = dumps.map((dump) => dump[0].read.ios);
  for (let i = 1; i < ios.length; i++) t.ok(ios[i] > ios[i - 1], `cumulative: ${ios[i - 1]} -> ${ios[i]}`);
  t.ok(final[0].read.ios >= ios[ios.length - 1], 'the final report has at least what the last dump had');
  t.equal(dumps[0][1].write.clat.count, dumps[0][1].write.ios, 'latency histograms come with the counts');
  t.ok(dumps[0][0].runtimeNs > 0 && dumps[0][0].runtimeNs < final[0].runtimeNs);
});

t.test('a job that ended keeps its final figures in the later interval reports', async (t) => {
  // 'short' ends after 250 ms, 'long' runs on: fio's interval reports carry every job of the
  // group, the ended one with its final figures.
  const cfg = parseBenchArgs(['emu:backend=null', '--name=short', '--rw=randread', '--iodepth=4', '--runtime=250ms', '--time_based', '--status-interval=100ms', '--name=long', '--rw=randread', '--iodepth=4', '--runtime=900ms', '--time_based']);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  t.teardown(() => d.close());
  const dumps: JobResult[][] = [];
  const final = await runJobs(d, cfg.jobs, cfg.run, { isTty: false, write: () => undefined, dump: (r) => void dumps.push(r) });
  t.ok(dumps.length >= 5, `${dumps.length} interval reports`);
  t.same(dumps.filter((dump) => dump.length !== 2).map((dump) => dump.map((r) => r.name)), [], 'every report carries both jobs');
  const last = dumps[dumps.length - 1];
  t.equal(last.find((r) => r.name === 'short')?.read.ios, final.find((r) => r.name === 'short')?.read.ios, 'after it ended, the short job shows its final IO count');
});

t.test('phyr bench --status-interval writes each report to the output, JSON documents one after another', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-status-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'out.json');
  const origErr = console.error;
  console.error = () => undefined;
  try {
    t.equal(await run(['emu:backend=null', '--name=s', '--rw=randread', '--runtime=700ms', '--time_based', '--status-interval=200ms', '--output-format=json', `--output=${out}`, '--eta=never']), 0);
  } finally {
    console.error = origErr;
  }
  // Split the concatenated documents at each top-level "{" that starts a line.
  const docs = fs.readFileSync(out, 'utf8').split(/\n(?=\{)/).map((s) => JSON.parse(s) as { jobs: Array<{ jobname: string; read: { total_ios: number } }> });
  t.ok(docs.length >= 3, `${docs.length} JSON documents: interval reports then the final one`);
  t.ok(docs.every((d) => d.jobs.length === 1), `every report carries the job: ${docs.map((d) => d.jobs.length).join(', ')} jobs`);
  const totals = docs.map((d) => d.jobs[0]?.read.total_ios ?? -1);
  for (let i = 1; i < totals.length; i++) t.ok(totals[i] >= totals[i - 1], 'cumulative totals never shrink');
  t.equal(docs[docs.length - 1].jobs[0].jobname, 's');
});
