// exitall_on_error: a job that ends in error (here a lost completion, injected by the
// embedded controller, ending it at its command timeout) stops the jobs running with it,
// which report what they did without an error of their own. Without the option the other
// job runs its whole runtime. (fio cannot be made to lose a completion on a regular file,
// so this one is not compared with it.)
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const RUNTIME_S = 4;

type Job = { jobname: string; error: number; job_runtime: number };
function bench(args: string[]): { status: number | null; jobs: Job[] } {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const r = spawnSync(process.execPath, [CLI, 'bench', 'emu:backend=null,faults=drop:nth=300:qid=2', '--eta=never', '--output-format=json', '--cmd_timeout=300ms', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: r.status, jobs: JSON.parse(r.stdout).jobs as Job[] };
}
// The controller drops the 300th command of queue 2, which is job a's on the embedded controller (the first
// the bench creates for a job):
// a fails 300 ms later; b's queue loses nothing.
const JOBS = ['--name=a', '--rw=randread', '--time_based', `--runtime=${RUNTIME_S}`, '--name=b', '--rw=randread', '--time_based', `--runtime=${RUNTIME_S}`];

t.test('the failed job stops the others', async (t) => {
  const r = bench(['--exitall_on_error', ...JOBS]);
  t.equal(r.status, 1, 'a job failed: exit 1');
  const [a, b] = r.jobs;
  t.not(a.error, 0, 'a has the error');
  t.equal(b.error, 0, 'b has none of its own');
  t.ok(b.job_runtime < 2000, `b stopped early (${b.job_runtime} ms)`);
});

t.test('without exitall_on_error the other job runs its whole runtime', async (t) => {
  const [a, b] = bench(JOBS).jobs;
  t.not(a.error, 0, 'a failed');
  t.equal(b.error, 0, 'b did not');
  t.ok(b.job_runtime >= RUNTIME_S * 1000 - 100, `b ran in full (${b.job_runtime} ms)`);
});
