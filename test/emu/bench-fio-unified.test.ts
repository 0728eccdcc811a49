// unified_rw_reporting (none/mixed/both, 0/1/2) next to real fio (psync on a regular file
// of the namespace's size): the JSON's direction entries, the normal output's direction
// blocks, issued counts and group summary lines, and the terse line's column count.
import t from 'tap';
import { fioOracle, PHYR_CLI } from '../helpers/fio-oracle';
import { spawnSync } from 'child_process';

const oracle = fioOracle(t, 'unified', { fioOptions: ['--ioengine=psync', '--disk_util=0'] });
const { phyr, fio } = oracle;
const CLI = PHYR_CLI;
const TARGET = oracle.target;

const DIRS = ['read', 'write', 'trim', 'sync', 'mixed'];
// The direction entries of the JSON job, with mixed's IO count and bytes (deterministic:
// 1 MiB of 4 KiB IOs, whatever the mix).
function jsonShape(out: string) {
  const job = JSON.parse(out).jobs[0];
  return { dirs: DIRS.filter((d) => d in job), mixed: job.mixed ? [job.mixed.total_ios, job.mixed.io_bytes] : null };
}
function normalShape(out: string) {
  const lines = out.split('\n');
  return {
    blocks: lines.filter((l) => /^ {2}(read|write|trim|mixed): IOPS=/.test(l)).map((l) => l.trim().split(':')[0]),
    issued: lines.find((l) => l.includes('issued rwts'))?.trim().split(' ')[2],
    summary: lines.filter((l) => /^ *(READ|WRITE|TRIM|MIXED): bw=/.test(l)).map((l) => l.trim().split(':')[0]),
  };
}

for (const mode of ['none', 'mixed', 'both', '0', '1', '2']) {
  t.test(`unified_rw_reporting=${mode}: shaped as fio's`, async (t) => {
    const job = ['--name=u', '--rw=randrw', '--size=1m', `--unified_rw_reporting=${mode}`];
    t.same(jsonShape(phyr(['--output-format=json', ...job])), jsonShape(fio(['--output-format=json', ...job])), 'JSON direction entries; mixed IOs and bytes');
    const ours = normalShape(phyr(job)), theirs = normalShape(fio(job));
    t.same(ours.blocks, theirs.blocks, 'normal: direction blocks');
    t.same(ours.summary, theirs.summary, 'normal: group summary lines');
    // The split of a random mix differs run to run; with mixed every IO is in the first column.
    if (mode === 'mixed' || mode === '1') t.equal(ours.issued, theirs.issued, 'issued counts');
    t.equal(phyr(['--minimal', ...job]).split(';').length, fio(['--minimal', ...job]).split(';').length, 'terse: as many columns as fio');
  });
}

t.test('a value fio does not know is refused, naming the values', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--unified_rw_reporting=3', '--name=x'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /--unified_rw_reporting=3: expected none, mixed or both/);
});
