// exitall_on_error: a job that ends in error (here a lost completion, injected by the
// embedded controller, ending it at its command timeout) stops the jobs running with it,
// which report what they did without an error of their own. Without the option the other
// job runs on. (fio cannot be made to lose a completion on a regular file,
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
  const r = spawnSync(process.execPath, [CLI, 'bench', 'emu:backend=null,faults=drop:nth=300', '--eta=never', '--output-format=json', '--cmd_timeout=300ms', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: r.status, jobs: JSON.parse(r.stdout).jobs as Job[] };
}
// The controller drops each queue's 300th command: a reaches it at once and fails 300 ms
// later; b, paced at 100 IOPS, would reach it after 3 s.
const JOBS = ['--name=a', '--rw=randread', '--time_based', `--runtime=${RUNTIME_S}`, '--name=b', '--rw=randread', '--time_based', `--runtime=${RUNTIME_S}`, '--rate_iops=100'];

t.test('the failed job stops the others', async (t) => {
  const r = bench(['--exitall_on_error', ...JOBS]);
  t.equal(r.status, 1, 'a job failed: exit 1');
  const [a, b] = r.jobs;
  t.not(a.error, 0, 'a has the error');
  t.equal(b.error, 0, 'b has none of its own');
  t.ok(b.job_runtime < 2000, `b stopped early (${b.job_runtime} ms)`);
});

t.test('without exitall_on_error the other job runs on (to its own lost command)', async (t) => {
  const [, b] = bench(JOBS).jobs;
  t.ok(b.job_runtime >= 2500, `b ran on (${b.job_runtime} ms)`);
});
