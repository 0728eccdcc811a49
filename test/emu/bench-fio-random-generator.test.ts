// random_generator next to real fio (psync on a regular file of the namespace's size): all
// three values run, and the property each promises holds in both programs' write_iolog —
// every block exactly once per pass, the same number of IOs per pass, and each pass
// repeating the first's order (fio re-walks a pass's offsets, for loops and for io_size
// over size). lfsr keeps that with norandommap too. The offsets themselves are not fio's
// (phyr has its own generators): only these properties are compared.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { parseBenchArgs } from '../../bench/cli/config';
import { fioOracle } from '../helpers/fio-oracle';

const NS_BYTES = 4 << 20;
const oracle = fioOracle(t, 'randgen', { nsBytes: NS_BYTES });

// The IOs' offsets, in order, of an iolog (fio's version 3 or phyr's version 2).
function offsets(iolog: string): number[] {
  const out: number[] = [];
  for (const line of fs.readFileSync(iolog, 'utf8').split('\n')) {
    const m = / (?:read|write) (\d+) \d+$/.exec(line);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

function run(who: 'fio' | 'phyr', args: string[]): number[] {
  const log = path.join(oracle.dir(), `${who}.iolog`);
  fs.rmSync(log, { force: true });
  const all = ['--name=g', '--bs=4k', '--size=1m', ...args, `--write_iolog=${log}`, '--output=/dev/null'];
  if (who === 'fio') oracle.fio(all);
  else oracle.phyr(all);
  return offsets(log);
}

interface Passes { count: number; perPass: number[]; everyBlockOnce: boolean; repeats: boolean }

function passes(offs: number[], blocks: number): Passes {
  const perPass: number[] = [];
  let everyBlockOnce = true;
  let repeats = true;
  for (let i = 0; i < offs.length; i += blocks) {
    const pass = offs.slice(i, i + blocks);
    perPass.push(pass.length);
    everyBlockOnce &&= pass.length === blocks && new Set(pass).size === blocks;
    repeats &&= pass.every((o, k) => o === offs[k]);
  }
  return { count: offs.length, perPass, everyBlockOnce, repeats };
}

const BLOCKS = (1 << 20) / 4096;
const CASES: string[][] = [
  ['--rw=randread', '--random_generator=lfsr', '--loops=2'],
  ['--rw=randwrite', '--random_generator=lfsr', '--io_size=3m'],
  ['--rw=randread', '--random_generator=lfsr', '--norandommap', '--loops=2'],
  ['--rw=randread', '--random_generator=tausworthe', '--loops=2'],
  ['--rw=randwrite', '--random_generator=tausworthe64', '--io_size=2m'],
  ['--rw=randread', '--io_size=2m'],
];

t.test('every block once per pass, each pass the first\'s order, as fio', async (t) => {
  for (const args of CASES) {
    const name = args.join(' ');
    const f = passes(run('fio', args), BLOCKS);
    const p = passes(run('phyr', args), BLOCKS);
    t.ok(f.everyBlockOnce && f.repeats, `fio ${name}: every block once per pass (${f.perPass.join(', ')} IOs), passes repeat: ${f.repeats}`);
    t.same(p, f, `phyr ${name}: the same passes as fio (${p.perPass.join(', ')} IOs)`);
  }
});

t.test('norandommap without lfsr repeats blocks in both', async (t) => {
  const args = ['--rw=randread', '--norandommap'];
  const f = passes(run('fio', args), BLOCKS);
  const p = passes(run('phyr', args), BLOCKS);
  t.notOk(f.everyBlockOnce, 'fio draws some block twice');
  t.notOk(p.everyBlockOnce, 'phyr draws some block twice');
  t.equal(p.count, f.count, `the same ${f.count} IOs`);
});

t.test('random_generator names one of fio\'s three, or says which', async (t) => {
  for (const g of ['tausworthe', 'lfsr', 'tausworthe64']) t.equal(parseBenchArgs(['--name=a', `--random_generator=${g}`]).jobs[0].randomGenerator, g);
  t.throws(() => parseBenchArgs(['--name=a', '--random_generator=mt19937']), /random_generator.*expected tausworthe, lfsr or tausworthe64/);
  t.throws(() => parseBenchArgs(['--name=a', '--random_generator=']), /random_generator.*expected tausworthe, lfsr or tausworthe64/);
});
