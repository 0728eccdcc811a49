// Controllers that are never closed do not keep their locked memory and device threads
// forever: once unreachable they are released, with a warning (PHYR_CONTROLLER_LEAKED)
// naming the leak. Run in a child process so that the count of threads and locked memory
// is this case's alone.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as path from 'path';

t.test('20 controllers never closed: released when unreachable, each with a warning', async (t) => {
  const fixture = path.join(__dirname, 'fixtures', 'leak-controllers.ts');
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fixture, '20'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `exit status (stderr: ${r.stderr.slice(-400)})`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
    n: number;
    before: { threads: number; lockedKiB: number };
    opened: { threads: number; lockedKiB: number };
    after: { threads: number; lockedKiB: number };
    warnings: number;
    sample: string;
  };
  t.comment(JSON.stringify(out));
  t.ok(out.opened.threads >= out.before.threads + 20, `each open controller had its device thread (${out.before.threads} -> ${out.opened.threads})`);
  t.equal(out.warnings, 20, 'one warning per leaked controller');
  t.match(out.sample, /garbage-collected without close\(\).*released.*ctrl\.close\(\)/);
  t.ok(out.after.threads <= out.before.threads + 1, `threads released (${out.after.threads} <= ${out.before.threads} + 1)`);
  t.ok(out.after.lockedKiB <= out.before.lockedKiB + 1024, `locked memory released (${out.after.lockedKiB} KiB, before ${out.before.lockedKiB} KiB)`);
});

t.test('controllers still open at exit: the process exits 0 by itself, without a crash', async (t) => {
  const fixture = path.join(__dirname, 'fixtures', 'exit-open.ts');
  const started = Date.now();
  const r = spawnSync(process.execPath, [...process.execArgv, fixture], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.signal, null, 'no signal');
  t.equal(r.status, 0, `exit status (stderr: ${r.stderr.slice(-400)})`);
  t.equal(r.stdout, 'opened 3\n');
  t.ok(Date.now() - started < 30_000, 'idle controllers did not keep the process alive');
  t.notMatch(r.stderr, /PHYR_CONTROLLER_LEAKED/, 'reachable until exit: not reported as a leak');
});
