// exit_what with exitall, next to real fio (psync on a regular file of the namespace's
// size). Job a (1 MiB, exitall) ends first; b (time-based, 3 s) runs beside it in its own
// reporting group (new_group); c (time-based, 1 s) is the next stonewall group. Measured on
// fio 3.33: group stops nothing (a is alone in its group), stonewall stops b and c still
// runs, all stops b and c runs no IO (listed with 0 IOs, runtime 0, no error).
import t from 'tap';
import { fioOracle } from '../helpers/fio-oracle';

const o = fioOracle(t, 'exit-what');

interface JsonJob {
  jobname: string;
  groupid: number;
  error: number;
  job_runtime: number;
  read: { total_ios: number };
  'job options': Record<string, string>;
}

function jobs(out: string): JsonJob[] {
  return (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: JsonJob[] }).jobs;
}

const args = (what: string) => [
  '--output-format=json',
  '--name=a', '--rw=read', '--bs=4k', '--size=1m', '--exitall', `--exit_what=${what}`,
  '--name=b', '--rw=read', '--bs=4k', '--runtime=3', '--time_based', '--new_group',
  '--name=c', '--rw=read', '--bs=4k', '--runtime=1', '--time_based', '--stonewall',
];

for (const what of ['group', 'stonewall', 'all']) {
  t.test(`exit_what=${what}`, async (t) => {
    const f = jobs(o.fio(args(what)));
    const p = jobs(o.phyr(args(what)));
    const shape = (js: JsonJob[]) => js.map((j) => ({ name: j.jobname, group: j.groupid, error: j.error, aFull: j.jobname === 'a' ? j.read.total_ios === 256 : undefined }));
    t.same(shape(p), shape(f), 'the same jobs, groups, errors; a does its 256 IOs');
    const [, bf, cf] = f;
    const [, bp, cp] = p;
    for (const [who, b, c] of [['fio', bf, cf], ['phyr', bp, cp]] as const) {
      if (what === 'group') t.ok(b.job_runtime >= 2900, `${who}: b runs its 3 s (${b.job_runtime} ms)`);
      else t.ok(b.job_runtime < 2000, `${who}: b stopped when a ended (${b.job_runtime} ms)`);
      if (what === 'all') {
        t.equal(c.read.total_ios, 0, `${who}: c runs no IO`);
        t.equal(c.job_runtime, 0, `${who}: c's runtime is 0`);
      } else {
        t.ok(c.job_runtime >= 900 && c.read.total_ios > 0, `${who}: c runs (${c.job_runtime} ms)`);
      }
    }
    t.equal(p[0]['job options'].exit_what, f[0]['job options'].exit_what, 'reported as written');
  });
}

t.test('a bad value names the option and the choices', async (t) => {
  for (const v of ['everything', '1', '']) {
    let err = '';
    try {
      o.phyr(['--name=x', '--rw=read', '--bs=4k', '--size=64k', '--exitall', `--exit_what=${v}`]);
    } catch (e) {
      err = (e as Error).message;
    }
    t.match(err, v === '' ? /exit_what.*a value is required/ : /exit_what.*expected group, stonewall or all/, v || '(empty)');
  }
});
