// phyr bench against real fio on the thinktime shaping options: thinktime_blocks_type
// (complete, fio's default, and issue), thinktime_iotime and rate_ignore_thinktime. fio
// runs on a regular file of the namespace's size (psync; libaio where the queue depth
// matters, buffered so any filesystem takes it: fio counts a completion when it reaps it,
// which at iodepth > 1 is what the complete/issue difference is about). Counts fixed by the
// options are compared exactly; counts paced by time within the stated tolerance; a think
// is at least its thinktime long, so runtimes give the number of thinks from below.
import t from 'tap';
import { fioOracle } from '../helpers/fio-oracle';

const psync = fioOracle(t, 'thinktime');
const libaio = fioOracle(t, 'thinktime-aio', { fioOptions: ['--ioengine=libaio'] });

interface JsonDir {
  io_bytes: number;
  total_ios: number;
}
interface JsonJob {
  error: number;
  job_runtime: number;
  read: JsonDir;
  write: JsonDir;
  'job options': Record<string, string>;
}

function job(out: string): JsonJob {
  return (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: JsonJob[] }).jobs[0];
}

function both(oracle: typeof psync, args: string[]): { f: JsonJob; p: JsonJob } {
  return { f: job(oracle.fio([...args, '--output-format=json'])), p: job(oracle.phyr([...args, '--output-format=json'])) };
}

const counts = (j: JsonJob) => ({ error: j.error, reads: j.read.total_ios, readBytes: j.read.io_bytes, writes: j.write.total_ios, writeBytes: j.write.io_bytes });

t.test('thinktime_blocks_type: complete (the default) counts IOs completed, issue counts IOs issued', async (t) => {
  // 16 IOs at iodepth 8, a 50 ms think after every block. issue: 16 thinks, one IO each.
  // complete: a first full queue of 8 goes before any completes, the reap that frees it
  // sets off a think, and from then on one IO completes per think: 9 thinks.
  const T = 50;
  const base = ['--name=c', '--rw=read', '--bs=4k', '--size=64k', '--iodepth=8', `--thinktime=${T}ms`];
  const complete = both(libaio, base);
  const issue = both(libaio, [...base, '--thinktime_blocks_type=issue']);
  for (const r of [complete, issue]) t.same(counts(r.p), counts(r.f), 'the same IOs');
  for (const [who, c, i] of [['fio', complete.f, issue.f], ['phyr', complete.p, issue.p]] as const) {
    t.ok(c.job_runtime >= 9 * T, `${who} complete: ${c.job_runtime} ms, at least 9 thinks`);
    t.ok(i.job_runtime >= 16 * T, `${who} issue: ${i.job_runtime} ms, at least 16 thinks`);
    t.ok(i.job_runtime - c.job_runtime >= 5 * T, `${who}: issue thinks far more often than complete (${i.job_runtime} vs ${c.job_runtime} ms)`);
  }
  t.ok(Math.abs(complete.p.job_runtime - complete.f.job_runtime) <= 2 * T, `complete: phyr ${complete.p.job_runtime} ms vs fio ${complete.f.job_runtime} ms`);
  t.equal(issue.p['job options'].thinktime_blocks_type, 'issue', 'reported as given');
});

t.test('at iodepth=1 the two counts are the same, as in fio', async (t) => {
  const args = ['--name=q', '--rw=write', '--bs=4k', '--size=32k', '--thinktime=20ms', '--thinktime_blocks=2'];
  for (const type of ['complete', 'issue']) {
    const { f, p } = both(psync, [...args, `--thinktime_blocks_type=${type}`]);
    t.same(counts(p), counts(f), type);
    // 8 IOs, a think after every 2 (the last one too, as fio): 4 thinks.
    for (const [who, j] of [['fio', f], ['phyr', p]] as const) t.ok(j.job_runtime >= 80 && j.job_runtime < 400, `${type}: ${who} ${j.job_runtime} ms`);
  }
});

t.test('thinktime_iotime alternates IO and thought; with rate_ignore_thinktime the IOs are those of the IO time', async (t) => {
  // fio 3.33: IO for iotime + thinktime from the start (400 ms), then a 300 ms think, then
  // 100 ms of IO between thinks: ~400 + ~100 IOs at 1000 IOPS in 1 s.
  const args = ['--name=i', '--rw=read', '--bs=4k', '--rate_iops=1000', '--thinktime=300ms', '--thinktime_iotime=100ms', '--runtime=1', '--time_based'];
  const ignore = both(psync, [...args, '--rate_ignore_thinktime=1']);
  t.ok(Math.abs(ignore.f.read.total_ios - 500) <= 60, `fio: ${ignore.f.read.total_ios}`);
  t.ok(Math.abs(ignore.p.read.total_ios - ignore.f.read.total_ios) <= 60, `phyr ${ignore.p.read.total_ios} vs fio ${ignore.f.read.total_ios}`);
  // Catching up (the default), the IOs a think skipped go after it (fio ~800: its last
  // think runs past the runtime, phyr's is cut at it; the IOs it skips are owed either way).
  const catchUp = both(psync, args);
  t.ok(catchUp.f.read.total_ios - ignore.f.read.total_ios >= 200, `fio: ${catchUp.f.read.total_ios} catching up`);
  t.ok(Math.abs(catchUp.p.read.total_ios - catchUp.f.read.total_ios) <= 100, `phyr ${catchUp.p.read.total_ios} vs fio ${catchUp.f.read.total_ios}`);
  // The unit defaults to seconds, as fio's.
  const secs = both(psync, ['--name=s', '--rw=read', '--bs=4k', '--rate_iops=200', '--thinktime=500ms', '--thinktime_iotime=1', '--runtime=2', '--time_based', '--rate_ignore_thinktime=1']);
  // 1.5 s of IO, then the think to the end: ~300 IOs.
  for (const [who, j] of [['fio', secs.f], ['phyr', secs.p]] as const) t.ok(Math.abs(j.read.total_ios - 300) <= 30, `${who}: ${j.read.total_ios}`);
});

t.test('thinktime_iotime with thinktime_blocks: whichever comes first', async (t) => {
  // 10 IOs between thinks long before 10 s of IO: the blocks decide, the same IOs as fio.
  const { f, p } = both(psync, ['--name=b', '--rw=read', '--bs=4k', '--size=160k', '--thinktime=10ms', '--thinktime_blocks=10', '--thinktime_iotime=10s']);
  t.same(counts(p), counts(f));
  for (const [who, j] of [['fio', f], ['phyr', p]] as const) t.ok(j.job_runtime >= 40, `${who}: ${j.job_runtime} ms, 4 thinks`);
});

t.test('rate_ignore_thinktime: the schedule restarts after a think instead of catching up', async (t) => {
  // 100 IOPS, a 200 ms think after every 10 IOs, 2 s. Catching up, the 10 IOs owed go at
  // once after each think (~100); ignoring the think, they take their 100 ms (~67).
  // Within one think's IOs and a little (a think cut at the runtime, or late on a loaded
  // machine, moves a cycle).
  const args = ['--name=r', '--rw=read', '--bs=4k', '--rate_iops=100', '--thinktime=200ms', '--thinktime_blocks=10', '--runtime=2', '--time_based'];
  const catchUp = both(psync, args);
  const ignore = both(psync, [...args, '--rate_ignore_thinktime=1']);
  t.ok(catchUp.f.read.total_ios - ignore.f.read.total_ios >= 20, `fio: catching up ${catchUp.f.read.total_ios}, ignoring ${ignore.f.read.total_ios}`);
  t.ok(Math.abs(catchUp.p.read.total_ios - catchUp.f.read.total_ios) <= 12, `catching up: phyr ${catchUp.p.read.total_ios} vs fio ${catchUp.f.read.total_ios}`);
  t.ok(Math.abs(ignore.p.read.total_ios - ignore.f.read.total_ios) <= 12, `ignoring: phyr ${ignore.p.read.total_ios} vs fio ${ignore.f.read.total_ios}`);
  // Writes too: the direction of the IO before the think is the one that restarts.
  const w = both(psync, ['--name=w', '--rw=write', '--bs=4k', '--rate=400k', '--thinktime=200ms', '--thinktime_blocks=10', '--runtime=2', '--time_based', '--rate_ignore_thinktime=1']);
  t.ok(Math.abs(w.p.write.total_ios - w.f.write.total_ios) <= 12, `writes: phyr ${w.p.write.total_ios} vs fio ${w.f.write.total_ios}`);
});

t.test('bad values name the option and say what to give', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['--thinktime_blocks_type=completed', /thinktime_blocks_type.*expected complete or issue/],
    ['--thinktime_iotime=1.5s', /thinktime_iotime.*fractions are not accepted/],
    ['--thinktime_iotime=-1', /thinktime_iotime.*must not be negative/],
    ['--thinktime_iotime=fast', /thinktime_iotime/],
    ['--thinktime_iotime=200d', /thinktime_iotime.*too long/],
    ['--thinktime_iotime=10q', /thinktime_iotime.*unknown time unit/],
    ['--rate_ignore_thinktime=2', /rate_ignore_thinktime.*expected 0 or 1/],
    ['--rate_ignore_thinktime=maybe', /rate_ignore_thinktime.*expected 0 or 1/],
    ['--thinktime_blocks=0', /thinktime_blocks/],
    ['--thinktime_blocks=4294967296', /thinktime_blocks.*between/],
  ];
  for (const [opt, re] of cases) {
    let err = '';
    try {
      psync.phyr(['--name=x', '--rw=read', '--bs=4k', '--size=64k', '--thinktime=1ms', opt]);
    } catch (e) {
      err = (e as Error).message;
    }
    t.match(err, re, opt);
  }
});
