// phyr compare over hand-made fio-shaped documents: jobs matched by name and order, the
// unmatched ones named, changes against the baseline, CPU per IO from phyr's field or
// derived from fio's usr/sys CPU, thresholds broken or held, and every usage error.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareRuns, brokenThresholds, DEFAULT_PERCENTILES } from '../../tools/compare/compare';
import { CompareUsageError } from '../../tools/compare/errors';
import { parseRun, type FioDocument } from '../../tools/compare/runs';
import { parseThreshold } from '../../tools/compare/thresholds';
import { run } from '../../tools/commands/compare';

interface Dir {
  iops: number;
  p: Record<number, number>;
}

function dir(d: Dir | undefined): Record<string, unknown> {
  if (!d) return { total_ios: 0, iops: 0, bw_bytes: 0, bw: 0, clat_ns: { N: 0 } };
  const percentile = Object.fromEntries(Object.entries(d.p).map(([q, v]) => [Number(q).toFixed(6), v]));
  return { total_ios: d.iops * 2, iops: d.iops, bw_bytes: d.iops * 4096, bw: (d.iops * 4096) / 1024, clat_ns: { N: d.iops * 2, percentile } };
}

function job(name: string, read?: Dir, write?: Dir, cpu?: { phyr?: number; usr?: number; sys?: number }): Record<string, unknown> {
  return {
    jobname: name,
    read: dir(read),
    write: dir(write),
    trim: dir(undefined),
    job_runtime: 2000,
    usr_cpu: cpu?.usr ?? 50,
    sys_cpu: cpu?.sys ?? 10,
    ...(cpu?.phyr !== undefined ? { phyr: { cpu_ns_per_io: cpu.phyr } } : {}),
  };
}

const P = (p50: number, p99: number, p999: number) => ({ 50: p50, 99: p99, 99.9: p999 });

function doc(writer: string, jobs: Array<Record<string, unknown>>): FioDocument {
  return { [writer.startsWith('fio') ? 'fio version' : 'phyr version']: writer, jobs } as unknown as FioDocument;
}

const base = doc('phyr-0.1.0', [job('a', { iops: 1000, p: P(100, 200, 300) }, undefined, { phyr: 500 }), job('b', { iops: 500, p: P(10, 20, 30) }, { iops: 500, p: P(11, 21, 31) }, { phyr: 100 })]);
const slower = doc('phyr-0.1.0', [job('a', { iops: 900, p: P(110, 260, 300) }, undefined, { phyr: 560 }), job('b', { iops: 500, p: P(10, 20, 30) }, { iops: 400, p: P(11, 21, 31) }, { phyr: 100 })]);
const runs = () => [
  { file: 'A.json', document: base },
  { file: 'B.json', document: slower },
];
const opts = (...fail: string[]) => ({ latency: 'clat' as const, percentiles: DEFAULT_PERCENTILES, thresholds: fail.map(parseThreshold) });

t.test('rows per direction with changes against the baseline', async (t) => {
  const c = compareRuns(runs(), opts());
  t.same(c.jobs.map((j) => j.name), ['a', 'b']);
  const a = c.jobs[0];
  t.same(a.rows.map((r) => [r.file, r.direction]), [['A.json', 'read'], ['B.json', 'read']]);
  t.equal(a.rows[0].iops.changePercent, null, 'the baseline has no change');
  t.equal(a.rows[1].iops.value, 900);
  t.ok(Math.abs((a.rows[1].iops.changePercent ?? 0) + 10) < 1e-9, 'IOPS -10%');
  t.ok(Math.abs((a.rows[1].latency['99'].changePercent ?? 0) - 30) < 1e-9, 'p99 +30%');
  t.ok(Math.abs((a.cpu[1].nsPerIo.changePercent ?? 0) - 12) < 1e-9, 'cpu +12%');
  t.equal(a.cpu[1].derived, false, "phyr's own cpu_ns_per_io is used");
  t.same(c.jobs[1].rows.map((r) => r.direction), ['read', 'read', 'write', 'write']);
});

t.test('thresholds: broken ones are named with file, job, direction and change; held ones pass', async (t) => {
  const c = compareRuns(runs(), opts('iops<-5%', 'p99>+10%', 'p99.9>+10%', 'cpu>+10%', 'bw<-50%'));
  const broken = brokenThresholds(c);
  t.same(broken.map((b) => [b.threshold, b.job, b.direction ?? '']), [
    ['iops<-5%', 'a', 'read'],
    ['iops<-5%', 'b', 'write'],
    ['p99>+10%', 'a', 'read'],
    ['cpu>+10%', 'a', ''],
  ]);
  t.match(broken[0].message, /^B\.json: job 'a' read: iops -10\.0% \(900 against the baseline's 1\.00k\) breaks iops<-5%$/);
  t.same(c.thresholds.map((x) => x.broken.length), [2, 1, 0, 1, 0]);
  t.same(brokenThresholds(compareRuns(runs(), opts('iops<-30%', 'p99>+50%'))), [], 'wider limits hold');
  t.same(brokenThresholds(compareRuns(runs(), opts('read.iops<-5%'))).map((b) => b.job), ['a'], 'a direction prefix limits the check');
});

t.test('CPU per IO of a fio document is derived from usr/sys CPU, runtime and IOs', async (t) => {
  const fioA = doc('fio-3.33', [job('a', { iops: 1000, p: P(1, 2, 3) }, undefined, { usr: 50, sys: 10 })]);
  const fioB = doc('fio-3.33', [job('a', { iops: 1000, p: P(1, 2, 3) }, undefined, { usr: 60, sys: 12 })]);
  const c = compareRuns([{ file: 'A', document: fioA }, { file: 'B', document: fioB }], opts('cpu>+10%'));
  // 60 % of 2000 ms over 2000 IOs = 600000 ns per IO.
  t.equal(c.jobs[0].cpu[0].nsPerIo.value, 600000);
  t.equal(c.jobs[0].cpu[0].derived, true);
  t.ok(Math.abs((c.jobs[0].cpu[1].nsPerIo.changePercent ?? 0) - 20) < 1e-9);
  t.equal(brokenThresholds(c).length, 1);
});

t.test('jobs are matched by name and order; the unmatched are listed', async (t) => {
  const other = doc('phyr-0.1.0', [job('b', { iops: 1, p: P(1, 1, 1) }), job('c', { iops: 1, p: P(1, 1, 1) }), job('b', { iops: 1, p: P(1, 1, 1) })]);
  const c = compareRuns([{ file: 'A', document: base }, { file: 'C', document: other }], opts());
  t.same(c.jobs.map((j) => j.name), ['b']);
  t.same(c.unmatched, [
    { job: 'a', occurrence: 0, in: 'A', missingFrom: 'C' },
    { job: 'c', occurrence: 0, in: 'C', missingFrom: 'A' },
    { job: 'b', occurrence: 1, in: 'C', missingFrom: 'A' },
  ]);
});

t.test('a run that did no IO in a direction the baseline did breaks its latency and rate thresholds', async (t) => {
  const none = doc('phyr-0.1.0', [job('a', undefined, undefined, { phyr: 0 })]);
  const c = compareRuns([{ file: 'A', document: base }, { file: 'N', document: none }], opts('p99>+10%', 'iops<-5%'));
  const broken = brokenThresholds(c);
  t.same(broken.map((b) => b.threshold), ['p99>+10%', 'iops<-5%']);
  t.match(broken[0].message, /no p99 \(the run did no read IO/);
});

t.test('usage errors: a metric an input lacks, a direction the baseline did not do, no matched job', async (t) => {
  t.throws(() => compareRuns(runs(), opts('p42>+1%')), new CompareUsageError("--fail-if 'p42>+1%': A.json: job 'a' read has no clat percentile 42 (it lists: 50, 99, 99.9); name one the inputs carry, or run them with percentile_list including 42"));
  t.throws(() => compareRuns(runs(), opts('write.iops<-1%')), { message: /the baseline's job 'a' did no write IO/ });
  t.throws(() => compareRuns(runs(), { ...opts(), latency: 'lat' }), { message: /no lat_ns percentiles; run it with lat_percentiles=1/ });
  const noCpu = doc('fio-3.33', [{ jobname: 'a', read: dir({ iops: 1000, p: P(1, 2, 3) }) }]);
  t.throws(() => compareRuns([{ file: 'A', document: base }, { file: 'X', document: noCpu }], opts('cpu>+1%')), { message: /X: job 'a' carries no CPU time per IO/ });
  const other = doc('phyr-0.1.0', [job('z', { iops: 1, p: P(1, 1, 1) })]);
  t.throws(() => compareRuns([{ file: 'A', document: base }, { file: 'Z', document: other }], opts('iops<-5%')), { message: /Z: none of its jobs has a name of the baseline's/ });
  t.throws(() => compareRuns([{ file: 'A', document: base }], opts()), { message: /at least two result files/ });
});

t.test('inputs: fio notes before the document are skipped; non-fio files are refused', async (t) => {
  const r = parseRun('f.json', `note: both iodepth >= 1 and synchronous I/O engine are selected, queue depth will be capped at 1\n${JSON.stringify(base)}`);
  t.equal(r.document.jobs.length, 2);
  t.throws(() => parseRun('x.json', 'hello'), { message: /x\.json: not a JSON document/ });
  t.throws(() => parseRun('x.json', '{"a":1}'), { message: /x\.json: no "jobs" array/ });
  t.throws(() => parseRun('x.json', '{"jobs":[{}]}'), { message: /jobs\[0\] has no "jobname"/ });
});

t.test('the command: exit 0 / 1 / 2, the table, JSON, broken thresholds on stderr', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-compare-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = path.join(dir, 'A.json');
  const b = path.join(dir, 'B.json');
  fs.writeFileSync(a, JSON.stringify(base));
  fs.writeFileSync(b, JSON.stringify(slower));
  const call = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const ok = await call(a, b, '--fail-if', 'iops<-20%');
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, /job 'a'\n\s+file\s+dir\s+iops\s+bw\s+clat p50\s+clat p99\s+clat p99\.9\s+cpu\/IO/);
  t.match(ok.out, /B\.json\s+read\s+900 \(-10\.0%\)/);
  t.match(ok.out, /iops<-20%: ok/);
  t.equal(ok.err, '');
  const bad = await call(a, b, '--fail-if', 'iops<-5%', '--fail-if', 'p99>+10%');
  t.equal(bad.code, 1);
  t.match(bad.err, /threshold broken: .*B\.json: job 'a' read: iops -10\.0%/);
  t.match(bad.err, /threshold broken: .*B\.json: job 'b' write: iops -20\.0%/);
  t.match(bad.err, /threshold broken: .*B\.json: job 'a' read: p99 \+30\.0% \(260ns against the baseline's 200ns\) breaks p99>\+10%/);
  const json = await call(a, b, '--output-format', 'json', '--fail-if', 'iops<-5%');
  t.equal(json.code, 1);
  const parsed = JSON.parse(json.out) as { baseline: string; thresholds: Array<{ ok: boolean; broken: unknown[] }>; jobs: Array<{ rows: Array<{ clat_ns: Record<string, { value: number }> }> }> };
  t.equal(parsed.baseline, a);
  t.equal(parsed.thresholds[0].ok, false);
  t.equal(parsed.thresholds[0].broken.length, 2);
  t.equal(parsed.jobs[0].rows[1].clat_ns['99.000000'].value, 260);
  for (const argv of [[a, b, '--fail-if', 'iops<5'], [a], [a, b, '--latency', 'total'], [a, b, '--output-format', 'terse'], [a, path.join(dir, 'missing.json')], [a, b, '--plot-nonsense'], [a, b, '--fail-if', 'p12>+1%']]) {
    const r = await call(...argv);
    t.equal(r.code, 2, `usage error: ${argv.join(' ')}`);
    t.match(r.err, /^phyr compare: .+\n\(see phyr compare --help\)$/);
  }
  const help = await call('--help');
  t.equal(help.code, 0);
  t.match(help.out, /usage: phyr compare BASELINE\.json OTHER\.json/);
});
