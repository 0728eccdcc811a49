// phyr bench against real fio (psync on a regular file of the namespace's size) on
// bs_is_seq_rand=1: bs=R,W sizes sequential IOs by R and random ones by W, whatever their
// direction. Sequential jobs are compared IO by IO through both programs' write_iolog;
// random ones where fio covers size= exactly; where fio's random map (in units of the
// smallest size of any direction) trims IOs or ends the job short of size=, the intended
// difference is asserted as it stands: phyr covers size= with IOs of the random size.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { fioOracle } from '../helpers/fio-oracle';

const o = fioOracle(t, 'bs-seq-rand');

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

/** The logged IOs as "direction offset length" (fio's iolog v2 lines, either program's). */
function loggedIos(file: string): string[] {
  const words = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim().split(/\s+/));
  return words.filter((w) => w.includes('read') || w.includes('write')).map((w) => w.slice(w.findIndex((x) => x === 'read' || x === 'write')).join(' '));
}

function both(args: string[], log = false): { f: JsonJob; p: JsonJob; fLog: string[]; pLog: string[] } {
  const fFile = path.join(o.dir(), 'fio.log');
  const pFile = path.join(o.dir(), 'phyr.log');
  const logArgs = (file: string) => (log ? [`--write_iolog=${file}`] : []);
  const f = job(o.fio([...args, ...logArgs(fFile), '--output-format=json']));
  const p = job(o.phyr([...args, ...logArgs(pFile), '--output-format=json']));
  const out = { f, p, fLog: log ? loggedIos(fFile) : [], pLog: log ? loggedIos(pFile) : [] };
  for (const file of [fFile, pFile]) fs.rmSync(file, { force: true });
  return out;
}

const counts = (j: JsonJob) => ({ error: j.error, reads: j.read.total_ios, readBytes: j.read.io_bytes, writes: j.write.total_ios, writeBytes: j.write.io_bytes });

t.test('sequential jobs take the first size in both directions: the same IOs, offset by offset', async (t) => {
  for (const rw of ['read', 'write']) {
    const r = both(['--name=s', `--rw=${rw}`, '--bs=4k,16k', '--size=1m', '--bs_is_seq_rand=1'], true);
    t.same(counts(r.p), counts(r.f), rw);
    t.equal(r.f.read.total_ios + r.f.write.total_ios, 256, `${rw}: 4k IOs, not 16k`);
    t.same(r.pLog, r.fLog, `${rw}: the logged IOs`);
  }
  // A sequential mix: both directions 4k, the split drawn by each program's generator.
  const mix = both(['--name=m', '--rw=rw', '--bs=4k,16k', '--size=1m', '--bs_is_seq_rand=1']);
  for (const j of [mix.f, mix.p]) t.equal(j.read.io_bytes + j.write.io_bytes, 1 << 20);
  t.equal(mix.p.read.total_ios + mix.p.write.total_ios, 256, 'all 4k');
  t.ok(Math.abs(mix.p.read.total_ios - mix.f.read.total_ios) <= 26, `reads: phyr ${mix.p.read.total_ios} vs fio ${mix.f.read.total_ios}`);
});

t.test('random jobs take the second size in both directions', async (t) => {
  // The random size is the smaller one: fio's map unit, so fio covers size= as phyr does.
  const w = both(['--name=r', '--rw=randwrite', '--bs=16k,4k', '--size=1m', '--bs_is_seq_rand=1']);
  t.same(counts(w.p), counts(w.f), 'randwrite bs=16k,4k: 256 writes of 4k');
  t.equal(w.p.write.total_ios, 256);
  // The random size is the larger one. Measured on fio 3.33: its map counts 4k units, so it
  // trims random reads to the free run it finds (73 IOs) and ends random writes short of
  // size= (29 IOs, 475,136 bytes): intended differences, phyr does 64 IOs of 16k.
  for (const rw of ['randread', 'randwrite']) {
    const r = both(['--name=r', `--rw=${rw}`, '--bs=4k,16k', '--size=1m', '--bs_is_seq_rand=1']);
    const dir = rw === 'randread' ? 'read' : 'write';
    t.same(counts(r.p), { error: 0, reads: dir === 'read' ? 64 : 0, readBytes: dir === 'read' ? 1 << 20 : 0, writes: dir === 'write' ? 64 : 0, writeBytes: dir === 'write' ? 1 << 20 : 0 }, `${rw}: 64 IOs of 16k`);
    t.ok(r.f[dir].io_bytes <= 1 << 20 && r.f[dir].total_ios > 0, `${rw}: fio ${r.f[dir].total_ios} IOs, ${r.f[dir].io_bytes} bytes`);
  }
  // Without the option the same job is a 4k-read, 16k-write job (fio's default meaning).
  const plain = both(['--name=p', '--rw=randread', '--bs=4k,16k', '--size=1m']);
  t.same(counts(plain.p), counts(plain.f), 'bs_is_seq_rand=0: reads take the first size');
  t.equal(plain.p['job options'].bs_is_seq_rand, undefined, 'not reported when not given');
  const given = both(['--name=g', '--rw=read', '--bs=4k,16k', '--size=64k', '--bs_is_seq_rand=1']);
  t.equal(given.p['job options'].bs_is_seq_rand, given.f['job options'].bs_is_seq_rand, 'reported as written');
});

t.test('bad values and unsupported mixes name the option', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--rw=read', '--bs_is_seq_rand=2'], /bs_is_seq_rand.*expected 0 or 1/],
    [['--rw=read', '--bs_is_seq_rand=sometimes'], /bs_is_seq_rand.*expected 0 or 1/],
    [['--rw=randread', '--bs_is_seq_rand=1', '--percentage_random=50'], /bs_is_seq_rand=1 with percentage_random=50 is not supported.*give one block size/],
    [['--rw=randread:4', '--bs_is_seq_rand=1'], /bs_is_seq_rand=1 with rw=randread:4 is not supported/],
  ];
  for (const [args, re] of cases) {
    let err = '';
    try {
      o.phyr(['--name=x', '--bs=4k,16k', '--size=64k', ...args]);
    } catch (e) {
      err = (e as Error).message;
    }
    t.match(err, re, args.join(' '));
  }
});
