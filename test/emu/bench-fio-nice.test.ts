// nice=N next to real fio (psync on a regular file of the namespace's size, --thread so
// its jobs are threads like phyr's): while a job runs, one of the program's threads has a
// nice value N above the program's own (capped at 19), and the program's main thread keeps
// its own. Read from /proc/PID/task/TID/stat (field 19, the nice value) during the run.
import t from 'tap';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { fioOracle, PHYR_CLI } from '../helpers/fio-oracle';

const o = fioOracle(t, 'nice');

/** The nice values of a process's threads (main thread first). */
function threadNices(pid: number): number[] {
  const tasks = fs.readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  const out: number[] = [];
  for (const tid of tasks) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/** Runs `cmd` and samples its threads' nice values every 100 ms until it exits. */
function sampleNices(cmd: string, args: string[]): Promise<{ status: number | null; seen: Set<number>; main: Set<number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const seen = new Set<number>();
    const main = new Set<number>();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setInterval(() => {
      try {
        const n = threadNices(child.pid!);
        if (n.length) main.add(n[0]);
        for (const x of n) seen.add(x);
      } catch {
        /* exited */
      }
    }, 100);
    child.on('error', reject);
    child.on('exit', (status) => {
      clearInterval(timer);
      if (status !== 0) reject(new Error(`${cmd} exited ${status}: ${stderr}`));
      else resolve({ status, seen, main });
    });
  });
}

const own = os.getPriority();
const want = Math.min(own + 5, 19);

t.test('the job thread runs N nicer, the main thread keeps its value, as in fio', async (t) => {
  const job = ['--name=n', '--rw=read', '--bs=4k', '--runtime=2', '--time_based', '--nice=5'];
  const f = await sampleNices('fio', ['--ioengine=psync', `--filename=${o.image()}`, '--thread', ...job]);
  const p = await sampleNices(process.execPath, [PHYR_CLI, 'bench', o.target, '--eta=never', ...job]);
  for (const [who, r] of [['fio', f], ['phyr', p]] as const) {
    t.ok(r.seen.has(want), `${who}: a thread at nice ${want} (own ${own}; seen ${[...r.seen].join(',')})`);
    t.same([...r.main], [own], `${who}: the main thread stays at ${own}`);
  }
});

t.test('bad values name the option', async (t) => {
  for (const [v, re] of [['20', /nice.*between -20 and 19/], ['-21', /nice.*between -20 and 19/], ['1.5', /nice.*expected an integer/], ['high', /nice.*expected an integer/], ['', /nice.*expected an integer/]] as const) {
    let err = '';
    try {
      o.phyr(['--name=x', '--rw=read', '--bs=4k', '--size=64k', `--nice=${v}`]);
    } catch (e) {
      err = (e as Error).message;
    }
    t.match(err, re, v || '(empty)');
  }
});
