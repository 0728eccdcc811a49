// rw=randMODE:N and rw_sequencer next to real fio (psync on a regular file of the
// namespace's size), from both programs' write_iolog: with identical, each random offset
// is issued N times and the job covers size= (as many IOs and distinct offsets as fio);
// with sequential (fio's default), the N-1 IOs after a random offset continue from it and
// a run reaching the region's end ends the job, in both. The random offsets themselves
// are each program's own.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { parseBenchArgs } from '../../bench/cli/config';
import { planJob } from '../../bench/cli/plan';
import { fioOracle } from '../helpers/fio-oracle';

const NS_BYTES = 4 << 20;
const BS = 4096;
const REGION = 1 << 20;
const oracle = fioOracle(t, 'rwseq', { nsBytes: NS_BYTES });

interface Io { dir: string; offset: number }

function ios(iolog: string): Io[] {
  const out: Io[] = [];
  for (const line of fs.readFileSync(iolog, 'utf8').split('\n')) {
    const m = / (read|write) (\d+) \d+$/.exec(line);
    if (m) out.push({ dir: m[1], offset: Number(m[2]) });
  }
  return out;
}

function run(who: 'fio' | 'phyr', args: string[]): Io[] {
  const log = path.join(oracle.dir(), `${who}.iolog`);
  fs.rmSync(log, { force: true });
  const all = ['--name=s', `--bs=${BS}`, `--size=${REGION}`, ...args, `--write_iolog=${log}`, '--output=/dev/null'];
  if (who === 'fio') oracle.fio(all);
  else oracle.phyr(all);
  return ios(log);
}

// fio's rule: IO 1, N+1, 2N+1, ... (of all directions, one count) takes a new random
// offset; each other IO takes its direction's last offset again (identical) or the next
// one on (sequential), from the region's start when the direction has had none yet.
function follows(list: Io[], n: number, step: number): boolean {
  const last: Record<string, number | undefined> = {};
  return list.every((x, i) => {
    const ok = i % n === 0 || x.offset === (last[x.dir] === undefined ? 0 : last[x.dir]! + step);
    last[x.dir] = x.offset;
    return ok;
  });
}
const groupsRepeat = (list: Io[], n: number): boolean => follows(list, n, 0);
const groupsContinue = (list: Io[], n: number): boolean => follows(list, n, BS);

t.test('rw_sequencer=identical: each random offset N times, as many IOs and offsets as fio', async (t) => {
  for (const args of [['--rw=randread:4'], ['--rw=randwrite:8'], ['--rw=randrw:4'], ['--rw=randwrite:3', '--iodepth=8']]) {
    const all = [...args, '--rw_sequencer=identical'];
    const name = all.join(' ');
    const f = run('fio', all);
    const p = run('phyr', all);
    const n = Number(args[0].split(':')[1]);
    t.equal(p.length, f.length, `${name}: ${f.length} IOs in both`);
    // One per random draw (1 in n IOs), and in a mix the offset 0 a direction starts at
    // when its first IO is not a draw (fio's rule): 65 of 256 for randrw:4, either side.
    const distinct = (l: Io[]) => new Set(l.map((x) => `${x.dir} ${x.offset}`)).size;
    const draws = Math.ceil(f.length / n);
    t.ok(distinct(f) >= draws && distinct(f) <= draws + 2, `fio ${name}: ${distinct(f)} distinct offsets (${draws} draws)`);
    t.ok(distinct(p) >= draws && distinct(p) <= draws + 2, `phyr ${name}: ${distinct(p)} distinct offsets (${draws} draws)`);
    t.ok(groupsRepeat(f, n), `fio ${name}: groups of ${n} at one offset`);
    t.ok(groupsRepeat(p, n), `phyr ${name}: groups of ${n} at one offset`);
  }
});

t.test('rw_sequencer=sequential (the default): runs of N from each random offset, ending at the region\'s end', async (t) => {
  for (const args of [['--rw=randread:4'], ['--rw=randwrite:2', '--rw_sequencer=sequential'], ['--rw=randrw:3']]) {
    const name = args.join(' ');
    const n = Number(args[0].split(':')[1].split(' ')[0]);
    for (const [who, list] of [['fio', run('fio', args)], ['phyr', run('phyr', args)]] as const) {
      t.ok(groupsContinue(list, n), `${who} ${name}: each IO in a run of ${n} continues from the last`);
      // The job ends once a run has reached the region's end, before covering size=.
      t.ok(list.length < REGION / BS && list.some((x) => x.offset + BS === REGION), `${who} ${name}: ended after ${list.length} IOs, a run at the region's end`);
    }
  }
});

t.test('rw_sequencer has no effect on sequential modes, as in fio', async (t) => {
  for (const args of [['--rw=read', '--rw_sequencer=identical'], ['--rw=write:8k', '--rw_sequencer=identical']]) {
    t.same(run('phyr', args), run('fio', args), `${args.join(' ')}: fio's exact offsets`);
  }
});

t.test('bad rw=randMODE:N and rw_sequencer values are refused, naming what is wrong', async (t) => {
  t.throws(() => parseBenchArgs(['--name=a', '--rw=randread:0']), /rw.*a count of IOs.*from 1/);
  t.throws(() => parseBenchArgs(['--name=a', '--rw=randread:4k']), /rw.*a count of IOs/);
  t.throws(() => parseBenchArgs(['--name=a', '--rw=randread:-4']), /rw.*a count of IOs/);
  t.throws(() => parseBenchArgs(['--name=a', '--rw_sequencer=same']), /rw_sequencer.*expected sequential or identical/);
  t.equal(parseBenchArgs(['--name=a', '--rw=randrw:16']).jobs[0].randomEvery, 16);
});

t.test('verify with rw=randwrite:N is refused with the reason; lfsr lifts norandommap\'s refusal', async (t) => {
  const ns = { nsid: 1, lbaSize: 512, blocks: 8192 };
  const job = (...args: string[]) => parseBenchArgs(['--name=a', '--size=1m', ...args]).jobs[0];
  t.throws(() => planJob(job('--rw=randwrite:4', '--verify=crc32c'), ns), /verify with rw=randwrite:4 is not supported.*drop the :N/);
  t.throws(() => planJob(job('--rw=randwrite', '--norandommap', '--verify=crc32c'), ns), /verify with norandommap/);
  t.match(planJob(job('--rw=randwrite', '--norandommap', '--random_generator=lfsr', '--verify=crc32c'), ns), { randomMap: true, verify: true });
  t.match(planJob(job('--rw=randread:4', '--rw_sequencer=identical'), ns), { randomEvery: 4, randomIdentical: true });
  t.notOk('randomEvery' in planJob(job('--rw=read', '--rw_sequencer=identical'), ns), 'a sequential mode passes no randomEvery');
});
