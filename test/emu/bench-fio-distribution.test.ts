// random_distribution next to real fio (psync on a regular file of the namespace's size):
// which specs each accepts, and the shape of the accesses each draws — the share of IOs on
// the hottest 1 % and 10 % of blocks and the fraction of blocks touched — from both
// programs' write_iolog. Positions differ (each scatters ranks with its own hash); with a
// center, both put the hottest rank at center × blocks (zipf, pareto).
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { fioOracle, PHYR_CLI, spawnIn } from '../helpers/fio-oracle';

const NS_BYTES = 16 << 20;
const BLOCKS = NS_BYTES / 4096;
const oracle = fioOracle(t, 'dist', { nsBytes: NS_BYTES });

interface Shape {
  ios: number;
  touched: number;
  top1: number;
  top10: number;
  hottest: number;
}

function shape(iolog: string): Shape {
  const counts = new Map<number, number>();
  let ios = 0;
  for (const line of fs.readFileSync(iolog, 'utf8').split('\n')) {
    const m = / read (\d+) 4096$/.exec(line);
    if (!m) continue;
    const block = Number(m[1]) / 4096;
    counts.set(block, (counts.get(block) ?? 0) + 1);
    ios++;
  }
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const share = (fraction: number): number => sorted.slice(0, Math.ceil(BLOCKS * fraction)).reduce((a, [, n]) => a + n, 0) / ios;
  return { ios, touched: counts.size / BLOCKS, top1: share(0.01), top10: share(0.1), hottest: sorted[0][0] };
}

const JOB = ['--name=d', '--rw=randread', '--bs=4k', '--size=16m', '--io_size=160m'];

function run(who: 'fio' | 'phyr', dist: string): Shape {
  const log = path.join(oracle.dir(), `${who}.iolog`);
  fs.rmSync(log, { force: true });
  const args = [...JOB, `--random_distribution=${dist}`, `--write_iolog=${log}`, '--output=/dev/null'];
  if (who === 'fio') oracle.fio(args);
  else oracle.phyr(args);
  return shape(log);
}

t.test('the access shape of each distribution matches fio\'s', async (t) => {
  // Shares within 0.03 of fio's, the fraction of blocks touched within 0.04 (about 40,000
  // draws over 4096 blocks; measured differences are below half of that).
  for (const dist of ['zipf:1.2', 'zipf:0.8', 'pareto:0.3', 'normal', 'normal:20', 'normal:5:0.3', 'zipf:1.2:0.25', 'pareto:0.3:0.5']) {
    const f = run('fio', dist);
    const p = run('phyr', dist);
    t.equal(p.ios, f.ios, `${dist}: the same number of IOs (${p.ios})`);
    const near = (what: keyof Shape, tol: number): void => {
      t.ok(Math.abs(p[what] - f[what]) <= tol, `${dist}: ${what} phyr ${p[what].toFixed(3)}, fio ${f[what].toFixed(3)}`);
    };
    near('top1', 0.03);
    near('top10', 0.03);
    near('touched', 0.04);
    const center = /^(zipf|pareto):[0-9.]+:([0-9.]+)$/.exec(dist);
    if (center) {
      const at = Math.floor(BLOCKS * Number(center[2]));
      t.equal(f.hottest, at, `${dist}: fio's hottest block is center × blocks (${at})`);
      t.equal(p.hottest, at, `${dist}: so is phyr's`);
    }
  }
});

t.test('phyr accepts the specs fio accepts, and refuses those fio refuses', async (t) => {
  // Refused by phyr though fio takes them (phyr is stricter, with a reason): a postfix on
  // random, a third parameter, a negative zipf theta.
  const stricter = new Set(['random:3', 'zipf:1.2:0.25:0.1', 'zipf:-1']);
  const specs = ['zipf', 'pareto', 'normal', 'normal:0', 'normal:99.5', 'normal:100', 'zipf:1', 'zipf:0.5', 'zipf:1.2:0.25', 'zipf:1.2:1.5', 'normal:5:0.3', 'pareto:0.3:0', 'pareto:1', 'pareto:0', 'gauss:4', 'random', ...stricter];
  for (const spec of specs) {
    const fio = spawnIn(oracle.dir(), 'fio', ['--parse-only', '--name=x', `--filename=${oracle.image()}`, '--size=1m', '--rw=randread', `--random_distribution=${spec}`]);
    const phyr = spawnIn(oracle.dir(), process.execPath, [PHYR_CLI, 'bench', oracle.target, '--eta=never', '--name=x', '--rw=randread', '--size=64k', `--random_distribution=${spec}`, '--output=/dev/null']);
    if (stricter.has(spec)) {
      t.equal(fio.status, 0, `${spec}: fio accepts it`);
      t.equal(phyr.status, 2, `${spec}: phyr refuses it`);
      t.match(phyr.stderr, /random_distribution/, `${spec}: naming the option`);
      continue;
    }
    t.equal(phyr.status === 0, fio.status === 0, `${spec}: fio ${fio.status === 0 ? 'accepts' : 'refuses'}, phyr ${phyr.status === 0 ? 'accepts' : `refuses (${phyr.stderr.trim().split('\n').pop()})`}`);
  }
});
