// wait_for next to real fio (psync on a regular file of the namespace's size): the waiting
// job starts once the named one has ended, so two 1-second jobs take 2 seconds together
// instead of 1, and both stay in one reporting group; a name not defined before is refused.
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
  if (spawnSync('fio', ['--version']).status !== 0) throw new Error('fio is not installed (Debian package fio): this test compares phyr with it');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-waitfor-'));
  image = path.join(dir, 'ns.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, NS_BYTES);
});

t.teardown(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function timed(cmd: string, args: string[]): { seconds: number; groups: number[] } {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { seconds: (Date.now() - t0) / 1000, groups: JSON.parse(r.stdout).jobs.map((j: { groupid: number }) => j.groupid) };
}
const phyr = (args: string[]) => timed(process.execPath, [CLI, 'bench', TARGET, '--eta=never', '--output-format=json', ...args]);
const fio = (args: string[]) => timed('fio', ['--ioengine=psync', `--filename=${image}`, '--output-format=json', ...args]);

const ONE_SECOND = ['--rw=read', '--time_based', '--runtime=1', '--size=16m'];

t.test('the waiting job runs after the named one, in the same group', async (t) => {
  const args = ['--name=a', ...ONE_SECOND, '--name=b', '--wait_for=a', ...ONE_SECOND];
  const waited = phyr(args);
  for (const [who, r] of [['phyr', waited], ['fio', fio(args)]] as const) {
    t.ok(r.seconds >= 2, `${who}: one after the other (${r.seconds} s)`);
    t.same(r.groups, [0, 0], `${who}: one reporting group`);
  }
  // Against the waiting run, not a fixed bound: process start-up on a loaded machine can
  // take a second by itself, but it costs both runs alike.
  const together = phyr(['--name=a', ...ONE_SECOND, '--name=b', ...ONE_SECOND]);
  t.ok(together.seconds < waited.seconds - 0.6, `without wait_for they run together (${together.seconds} s, ${waited.seconds} s with it)`);
});

t.test('a name not defined before the job is refused', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--eta=never', '--name=a', '--wait_for=z', '--size=64k'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /job 'a': wait_for=z: no job of that name is defined before it/);
});
