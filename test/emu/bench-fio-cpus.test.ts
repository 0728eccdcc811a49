// cpus_allowed, cpumask and cpus_allowed_policy on the embedded controller: while the built
// CLI runs a job, the job threads (named phyr-job) are found in /proc/PID/task and their
// CPU affinity read from Cpus_allowed_list, as the kernel reports it. A CPU the process may
// not run on is refused before any IO, naming it.
import t from 'tap';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');

function allowedOf(statusText: string): string {
  const m = /^Cpus_allowed_list:\s*(.*)$/m.exec(statusText);
  if (!m) throw new Error('no Cpus_allowed_list in a /proc status file');
  return m[1].trim();
}

function cpusOf(list: string): number[] {
  return list.split(',').flatMap((p) => {
    const [a, b] = p.split('-').map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
  });
}

const mine = cpusOf(allowedOf(fs.readFileSync('/proc/self/status', 'utf8')));

/** Runs a 2 s job and returns the affinity of each job thread seen while it ran (in thread-id order). */
async function jobThreadAffinity(args: string[]): Promise<{ status: number | null; lists: string[]; stderr: string }> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const child = spawn(process.execPath, [CLI, 'bench', 'emu:backend=null', '--eta=never', '--rw=randread', '--time_based', '--runtime=2', ...args], { env: { ...process.env, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const seen = new Map<number, string>();
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exited = false;
  void done.then(() => (exited = true));
  while (!exited) {
    await new Promise((r) => setTimeout(r, 100));
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${child.pid}/task`);
    } catch {
      break;
    }
    for (const tid of tasks) {
      try {
        if (fs.readFileSync(`/proc/${child.pid}/task/${tid}/comm`, 'utf8').trim() !== 'phyr-job') continue;
        seen.set(Number(tid), allowedOf(fs.readFileSync(`/proc/${child.pid}/task/${tid}/status`, 'utf8')));
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  const status = await done;
  return { status, lists: [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l), stderr };
}

t.test('pinning', { skip: mine.length < 2 ? `this process may run on ${mine.length} CPU only: pinning could not be told from the default` : false }, async (t) => {
  const last = mine[mine.length - 1];
  t.test('cpus_allowed pins the job thread', async (t) => {
    const r = await jobThreadAffinity([`--cpus_allowed=${last}`]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.lists, [String(last)]);
  });
  t.test('without it the job thread keeps the process\'s CPUs', async (t) => {
    const r = await jobThreadAffinity([]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.lists, [allowedOf(fs.readFileSync('/proc/self/status', 'utf8'))]);
  });
  t.test('cpumask: bit N is CPU N', async (t) => {
    const r = await jobThreadAffinity([`--cpumask=${2 ** mine[0]}`]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.lists, [String(mine[0])]);
  });
  t.test('split: one CPU of the set per job thread, in thread order; shared: the set', async (t) => {
    const set = `${mine[0]},${mine[1]}`;
    const split = await jobThreadAffinity([`--cpus_allowed=${set}`, '--cpus_allowed_policy=split', '--numjobs=2']);
    t.equal(split.status, 0, split.stderr);
    t.same(split.lists, [String(mine[0]), String(mine[1])]);
    const shared = await jobThreadAffinity([`--cpus_allowed=${set}`, '--numjobs=2']);
    t.equal(shared.status, 0, shared.stderr);
    const asKernel = mine[1] === mine[0] + 1 ? `${mine[0]}-${mine[1]}` : set;
    t.same(shared.lists, [asKernel, asKernel]);
  });
});

t.test('a CPU the process may not run on is refused before any IO, naming it', async (t) => {
  const outside = mine[mine.length - 1] + 1;
  const r = spawnSync(process.execPath, [CLI, 'bench', 'emu:backend=null', '--eta=never', '--size=1m', `--cpus_allowed=${mine[0]},${outside}`], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  t.equal(r.status, 2, 'a configuration error');
  t.match(r.stderr, new RegExp(`cpus_allowed / cpumask: CPU ${outside} is not one this process may run on \\(it may run on [0-9,-]+\\); name CPUs of that set`));
  t.equal(r.stdout, '', 'no report: nothing ran');
});
