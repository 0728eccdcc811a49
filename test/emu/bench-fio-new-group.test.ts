// new_group next to real fio (psync on a regular file of the namespace's size): the
// reporting group of every job entry, the group summaries, and group_reporting folding only
// within a group.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { reportGroupIds } from '../../bench/cli/runner';
import { defaultJob } from '../../bench/cli/job';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const NS_BYTES = 64 << 20;
const TARGET = `emu:backend=null,size=${NS_BYTES}`;

let dir = '';
let image = '';

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  if (spawnSync('fio', ['--version']).status !== 0) throw new Error('fio is not installed (Debian package fio): this test compares phyr with it');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-newgroup-'));
  image = path.join(dir, 'ns.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, NS_BYTES);
});

t.teardown(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const phyr = (args: string[]) => run(process.execPath, [CLI, 'bench', TARGET, '--eta=never', ...args]);
const fio = (args: string[]) => run('fio', ['--ioengine=psync', `--filename=${image}`, ...args]);

const entries = (json: string) => (JSON.parse(json).jobs as Array<{ jobname: string; groupid: number }>).map((j) => `${j.jobname}@${j.groupid}`);
const summaries = (normal: string) => normal.split('\n').filter((l) => l.startsWith('Run status group'));

const job = (name: string, ...extra: string[]) => [`--name=${name}`, '--rw=read', '--size=256k', ...extra];
const CASES: Array<[string, string[]]> = [
  ['second job starts a group', [...job('a'), ...job('b', '--new_group')]],
  ['new_group on the first job changes nothing', [...job('a', '--new_group'), ...job('b')]],
  ['new_group and stonewall', [...job('a'), ...job('b', '--new_group'), ...job('c', '--stonewall'), ...job('d')]],
  ['group_reporting folds within a group only', [...job('a', '--group_reporting'), ...job('b', '--group_reporting', '--new_group'), ...job('c', '--group_reporting')]],
];

for (const [what, args] of CASES) {
  t.test(what, async (t) => {
    t.same(entries(phyr(['--output-format=json', ...args])), entries(fio(['--output-format=json', ...args])), 'job entries and their groups');
    t.same(summaries(phyr(args)), summaries(fio(args)), 'group summaries');
  });
}

t.test('reportGroupIds: stonewall or new_group after a job starts the next group', async (t) => {
  const [a, b, c] = [defaultJob('a'), { ...defaultJob('b'), newGroup: true }, { ...defaultJob('c'), stonewall: true, newGroup: true }];
  t.same([...reportGroupIds([a, b, c]).values()], [0, 1, 2]);
  t.same([...reportGroupIds([b, a]).values()], [0, 0], 'the first job starts no group');
});
