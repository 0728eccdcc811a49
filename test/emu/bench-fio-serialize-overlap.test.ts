// phyr bench against real fio on serialize_overlap=1: an IO whose blocks overlap an IO in
// flight waits until that one has completed. fio runs libaio (buffered, so any filesystem
// takes it) at the same depth on a regular file of the namespace's size. What the option
// changes is the order in flight, not which IOs run: the counts and bytes per direction are
// compared (a mix within its draw's tolerance); that no two overlapping IOs are ever in
// flight is checked on a device that holds completions back (bench_engine_test.cc,
// serialize_overlap_never_has_two_overlapping_ios_in_flight).
import t from 'tap';
import { fioOracle } from '../helpers/fio-oracle';

const o = fioOracle(t, 'serialize-overlap', { fioOptions: ['--ioengine=libaio'] });

interface JsonDir {
  io_bytes: number;
  total_ios: number;
}
interface JsonJob {
  error: number;
  read: JsonDir;
  write: JsonDir;
  'job options': Record<string, string>;
}

function job(out: string): JsonJob {
  return (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: JsonJob[] }).jobs[0];
}

function both(args: string[]): { f: JsonJob; p: JsonJob } {
  return { f: job(o.fio([...args, '--output-format=json'])), p: job(o.phyr([...args, '--output-format=json'])) };
}

const counts = (j: JsonJob) => ({ error: j.error, reads: j.read.total_ios, readBytes: j.read.io_bytes, writes: j.write.total_ios, writeBytes: j.write.io_bytes });

t.test('the same IOs as fio, serialized or not', async (t) => {
  const exact: string[][] = [
    ['--rw=write', '--bs=4k', '--size=1m', '--iodepth=8'],
    // Random writes that repeat blocks (norandommap) over a small region: overlaps are common.
    ['--rw=randwrite', '--bs=4k', '--size=256k', '--iodepth=16', '--norandommap', '--io_size=4m', '--number_ios=1000'],
    ['--rw=randread', '--bs=16k', '--size=1m', '--iodepth=16', '--norandommap'],
  ];
  for (const args of exact) {
    const r = both(['--name=s', ...args, '--serialize_overlap=1']);
    t.same(counts(r.p), counts(r.f), args.join(' '));
    t.equal(r.p['job options'].serialize_overlap, r.f['job options'].serialize_overlap, 'reported as written');
  }
  // rw=rw: the read and write streams both start at 0, so the write of a block comes while
  // its read may be in flight. The split is each program's draw: totals exact, reads within 10%.
  const mix = both(['--name=m', '--rw=rw', '--bs=4k', '--size=1m', '--iodepth=8', '--serialize_overlap=1']);
  for (const j of [mix.f, mix.p]) t.equal(j.read.io_bytes + j.write.io_bytes, 1 << 20);
  t.ok(Math.abs(mix.p.read.total_ios - mix.f.read.total_ios) <= 26, `reads: phyr ${mix.p.read.total_ios} vs fio ${mix.f.read.total_ios}`);
});

t.test('bad values name the option', async (t) => {
  for (const v of ['2', 'always', '-1']) {
    let err = '';
    try {
      o.phyr(['--name=x', '--rw=write', '--bs=4k', '--size=64k', `--serialize_overlap=${v}`]);
    } catch (e) {
      err = (e as Error).message;
    }
    t.match(err, /serialize_overlap.*expected 0 or 1/, v);
  }
});
