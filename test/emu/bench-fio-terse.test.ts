// phyr bench's terse output (--minimal, --output-format=terse) next to real fio's for the
// same jobs (Debian's fio package is the oracle, psync on a regular file of the namespace's
// size, disk utilisation off since phyr's target has no kernel block device): the same
// number of columns, and every column that does not depend on timing equal.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const NS_BYTES = 64 << 20;
const TARGET = `emu:backend=null,size=${NS_BYTES}`;

let dir = '';
let image = '';

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const probe = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error('fio is not installed (Debian package fio): this test compares phyr with it');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-terse-'));
  image = path.join(dir, 'ns.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, NS_BYTES);
});

t.teardown(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function lines(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => l.split(';'));
}

function phyr(args: string[]): string[][] {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--eta=never', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`phyr bench ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return lines(r.stdout);
}

function fio(args: string[]): string[][] {
  const r = spawnSync('fio', ['--ioengine=psync', `--filename=${image}`, '--disk_util=0', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`fio ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return lines(r.stdout);
}

// Terse v3 column numbers (1-based, fio's HOWTO): per direction 41 columns from 6 (read)
// and 47 (write): kb, bw, iops, runtime, slat x4, clat x4, 20 percentiles, lat x4, bw x5.
const READ = 6;
const WRITE = 47;
const PCT = 12; // offset of the first percentile column inside a direction
const label = (cell: string) => cell.split('=')[0];

const JOBS = [
  '--name=writer', '--rw=write', '--bs=4k', '--size=4m', '--description=two words',
  '--name=reader', '--rw=read', '--bs=8k', '--size=2m', '--percentile_list=50:99:99.9',
];

for (const form of [['--minimal'], ['--output-format=terse', '--terse-version=3']]) {
  t.test(`${form.join(' ')}: fio's columns`, async (t) => {
    const ours = phyr([...form, ...JOBS]);
    const theirs = fio([...form, ...JOBS]);
    t.equal(ours.length, 2, 'one line per job');
    t.equal(theirs.length, 2, 'fio: one line per job');
    for (let j = 0; j < 2; j++) {
      const a = ours[j], b = theirs[j];
      t.equal(a.length, b.length, `${b[2]}: ${b.length} columns as fio`);
      t.equal(a[0], '3', 'terse version 3');
      t.match(a[1], /^phyr-/, 'the producer is phyr, not fio');
      for (const c of [3, 4, 5]) t.equal(a[c - 1], b[c - 1], `column ${c} (job name, group, error)`);
      for (const d of [READ, WRITE]) {
        t.equal(a[d - 1], b[d - 1], `column ${d}: KiB moved`);
        for (let i = 0; i < 20; i++) t.equal(label(a[d - 1 + PCT + i]), label(b[d - 1 + PCT + i]), `column ${d + PCT + i}: percentile label`);
        // A direction without IO is all zero in fio, its percentile values too.
        const idle = b[d - 1] === '0';
        if (idle) for (let c = d; c < d + 41; c++) t.equal(a[c - 1], b[c - 1], `idle direction column ${c}`);
      }
      // io depths at iodepth=1 (fio's columns 93..99)
      t.same(a.slice(92, 99), b.slice(92, 99), 'IO depth distribution');
      if (b.length > 121) t.equal(a[121], b[121], 'description last');
    }
  });
}

t.test('terse and json together: both reports, terse line first as asked', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--eta=never', '--output-format=terse,json', '--name=x', '--rw=read', '--size=1m'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, 'exit 0');
  const [first, ...rest] = r.stdout.split('\n');
  t.equal(first.split(';').length, 121, 'terse line');
  t.equal(JSON.parse(rest.join('\n')).jobs[0].jobname, 'x', 'then the JSON');
});

t.test('other terse versions are refused, naming the one phyr writes', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--eta=never', '--minimal', '--terse-version=2', '--name=x', '--size=1m'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 2);
  t.match(r.stderr, /--terse-version=2: phyr writes terse version 3 only/);
});
