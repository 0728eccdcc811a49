// new_group next to real fio (psync on a regular file of the namespace's size): the
// reporting group of every job entry, the group summaries, and group_reporting folding only
// within a group.
import t from 'tap';
import { fioOracle } from '../helpers/fio-oracle';
import { reportGroupIds } from '../../bench/cli/runner';
import { defaultJob } from '../../bench/cli/job';

const oracle = fioOracle(t, 'newgroup', { fioOptions: ['--ioengine=psync'] });
const { phyr, fio } = oracle;

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
