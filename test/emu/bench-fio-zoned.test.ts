// phyr bench against real fio on random_distribution=zoned / zoned_abs: the share of random
// IOs each zone gets, and no IO outside the zones. fio's offsets come from its --write_iolog
// (null engine, the namespace's size); phyr's from reading its writes back on the embedded
// controller: the 4 KiB blocks of a range that carry verify headers are the distinct blocks
// written there, from which the number of writes follows (n = -N ln(1 - d/N) for uniform
// draws over N blocks).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-zoned-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const MIB = 1 << 20;

function spawn(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL', cwd: tmp });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** fio's share of IOs in [0, 10%), [10%, 90%) and [90%, 100%) of 64 MiB. */
function fioShares(dist: string): number[] {
  const log = path.join(tmp, 'z.log');
  fs.rmSync(log, { force: true });
  const r = spawn('fio', ['--ioengine=null', '--size=64m', '--name=z', '--rw=randread', `--random_distribution=${dist}`, '--number_ios=2000', `--write_iolog=${log}`]);
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const offs = [...fs.readFileSync(log, 'utf8').matchAll(/\sread (\d+) \d+/g)].map((m) => Number(m[1]));
  const edges = [0, 6.4 * MIB, 57.6 * MIB, 64 * MIB];
  return [0, 1, 2].map((i) => offs.filter((o) => o >= edges[i] && o < edges[i + 1]).length / offs.length);
}

/** phyr's writes per range, from the distinct blocks that carry headers after 2000 writes. */
function phyrWrites(dist: string): number[] {
  const file = path.join(tmp, 'z.fio');
  const read = (name: string, offset: string, size: string) => [`[${name}]`, 'stonewall', 'rw=read', 'bs=64k', `offset=${offset}`, `size=${size}`, 'verify=crc32c'];
  fs.writeFileSync(file, [
    '[w]', 'rw=randwrite', 'bs=4k', 'size=64m', `random_distribution=${dist}`, 'number_ios=2000', 'verify=crc32c', 'do_verify=0',
    // 64 KiB-aligned ranges inside [0, 10%), [10%, 90%) and [90%, 100%) of 64 MiB.
    ...read('a', '0', '6684672'), ...read('b', '6750208', '53542912'), ...read('c', '60424192', '6684672'),
  ].join('\n') + '\n');
  const r = spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', '--eta=never', file]);
  const lines = [...r.stdout.matchAll(/verify {7}: blocks checked=(\d+), errors=(\d+)/g)];
  if (lines.length !== 3) throw new Error(`expected three verify lines: ${r.stdout}${r.stderr}`);
  return lines.map((m) => {
    const n = Number(m[1]) / 8; // 512-byte LBAs -> 4 KiB blocks
    const d = (Number(m[1]) - Number(m[2])) / 8;
    return d >= n ? Infinity : -n * Math.log(1 - d / n);
  });
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
});

t.test('zoned and zoned_abs give each zone fio\'s share, and nothing outside them', async (t) => {
  for (const dist of ['zoned:60/10:40/80', 'zoned_abs:60/6684672:40/53673984']) {
    const f = fioShares(dist);
    t.ok(Math.abs(f[0] - 0.6) < 0.05 && f[2] === 0, `fio ${dist}: ${f.map((x) => x.toFixed(3)).join(' ')}`);
    const [a, b, c] = phyrWrites(dist);
    t.equal(c, 0, `${dist}: no write in the last 10%`);
    t.ok(Math.abs(a / (a + b) - f[0]) < 0.07, `${dist}: phyr ${(a / (a + b)).toFixed(3)} of writes in the first zone, fio ${f[0].toFixed(3)}`);
  }
});

t.test('zone lists fio refuses are refused', async (t) => {
  for (const [d, re] of [['zoned:60/10:30/90', /add up to 90, not 100/], ['zoned:60/60:40/60', /more than 100/], ['zoned:50/10,50/10', /one zone list/]] as const) {
    const p = spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', '--eta=never', '--name=z', '--rw=randread', `--random_distribution=${d}`]);
    t.not(p.status, 0, d);
    t.match(p.stderr, re, d);
  }
  t.not(spawn('fio', ['--ioengine=null', '--size=64m', '--name=z', '--rw=randread', '--random_distribution=zoned:60/10:30/90', '--parse-only']).status, 0, 'fio refuses the first too');
});
