// fio's latency target mode next to real fio 3.33 (libaio on a regular file of the
// namespace's size; phyr on the embedded controller). The devices differ in speed, so the
// logic is compared, not the numbers: the search's steps (fio's --debug=rate lines "Ramped
// up: LOW DEPTH HIGH", "Quiesce and final run", "We are done"; phyr's jobs[].phyr.
// latency_steps), the depth reported (latency_depth), the error, and how long the job ran
// against the window. The targets are chosen so the outcome does not depend on either
// device's speed: 1 s is met by both at any depth (99 % of a window's IOs, so a stall of a
// loaded machine does not move it), 1 us by neither: fio's IOs through libaio take longer
// than that, and phyr runs those cases on a controller whose every command takes 100 us
// (the embedded controller alone completes half its reads within 1 us on a quiet machine).
// A search that ramps down needs a device whose latency grows with depth at a known point:
// fio's side has none, so the last case runs phyr alone on a controller that executes one
// command at a time for 1 ms each (latency = depth x 1 ms) and checks the steps fio 3.33's
// algorithm takes there (io_u.c lat_target_*; also test/native/bench_latency_target_test.cc).
import t from 'tap';
import { PHYR_CLI, fioOracle, spawnIn } from '../helpers/fio-oracle';

const oracle = fioOracle(t, 'lattarget', { fioOptions: ['--ioengine=libaio'] });

interface JobJson {
  error: number;
  latency_depth: number;
  latency_target: number;
  latency_percentile: number;
  latency_window: number;
  read: { runtime: number; total_ios: number };
  phyr?: { latency_steps?: Array<{ step: string; low: number; depth: number; high: number }> };
}

interface Outcome {
  job: JobJson;
  steps: string[];
}

const JOB = ['--name=j', '--rw=randread', '--bs=4k', '--size=64m'];

// fio's search as its debug output prints it, one line per decision.
function fioSteps(debug: string): string[] {
  const out: string[] = [];
  for (const line of debug.split('\n')) {
    const m = /^rate\s+\d+\s+(Ramped (?:up|down): \d+ \d+ \d+|Quiesce and final run|We are done)\s*$/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

// phyr's decisions in fio's words, for the comparison.
function phyrSteps(j: JobJson): string[] {
  return (j.phyr?.latency_steps ?? []).map((s) =>
    s.step === 'up' ? `Ramped up: ${s.low} ${s.depth} ${s.high}` : s.step === 'down' ? `Ramped down: ${s.low} ${s.depth} ${s.high}` : s.step === 'final' ? 'Quiesce and final run' : 'We are done',
  );
}

// fio writes its debug lines to stdout before the report (with --output they are lost), so
// the JSON is the part from its first line "{". Its "Success rate" line comes every loop
// pass while a window fails at depth 1 (megabytes a second), so it is filtered in the pipe.
function fio(args: string[], status = 0): Outcome {
  const r = spawnIn(oracle.dir(), 'bash', ['-c', 'set -o pipefail; fio "$@" | grep -v "Success rate"', 'fio', '--ioengine=libaio', `--filename=${oracle.image()}`, '--debug=rate', '--output-format=json', ...args]);
  if (r.status !== status) throw new Error(`fio ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const start = r.stdout.search(/^\{$/m);
  if (start < 0) throw new Error(`fio ${args.join(' ')}: no JSON report in its output: ${r.stdout}`);
  const job = (JSON.parse(r.stdout.slice(start)) as { jobs: JobJson[] }).jobs[0];
  return { job, steps: fioSteps(r.stdout.slice(0, start)) };
}

// A controller no 1 us target is met on.
const SLOW = `${oracle.target},latency=100us`;

function phyr(args: string[], status = 0, target = oracle.target): Outcome {
  const r = spawnIn(oracle.dir(), process.execPath, [PHYR_CLI, 'bench', target, '--eta=never', '--output-format=json', ...args]);
  if (r.status !== status) throw new Error(`phyr ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const job = (JSON.parse(r.stdout) as { jobs: JobJson[] }).jobs[0];
  return { job, steps: phyrSteps(job) };
}

t.test('a target met at every depth: both double up to iodepth, run one final window and stop', async (t) => {
  for (const depth of [6, 8]) {
    const args = [...JOB, `--iodepth=${depth}`, '--latency_target=1s', '--latency_window=50ms', '--latency_percentile=99', '--time_based', '--runtime=20'];
    const f = fio(args);
    const p = phyr(args);
    const expected = depth === 6
      ? ['Ramped up: 1 2 6', 'Ramped up: 2 4 6', 'Ramped up: 4 6 6', 'Ramped up: 6 6 6', 'Quiesce and final run', 'Ramped up: 6 6 6', 'We are done']
      : ['Ramped up: 1 2 8', 'Ramped up: 2 4 8', 'Ramped up: 4 8 8', 'Ramped up: 8 8 8', 'Quiesce and final run', 'Ramped up: 8 8 8', 'We are done'];
    t.same(f.steps, expected, `fio, iodepth=${depth}: the steps`);
    t.same(p.steps, f.steps, `phyr, iodepth=${depth}: fio's steps`);
    for (const [who, o] of [['fio', f], ['phyr', p]] as const) {
      t.equal(o.job.error, 0, `${who}: no error`);
      t.equal(o.job.latency_depth, depth, `${who}: latency_depth is iodepth`);
      t.equal(o.job.latency_target, 1e9, `${who}: latency_target in ns`);
      t.equal(o.job.latency_window, 50e3, `${who}: latency_window in us`);
      t.equal(o.job.latency_percentile, 99, `${who}: latency_percentile`);
      // The statistics are the final window's: at least one window, far below the 20 s
      // runtime the search ended before (a loaded machine can stretch a pass, hence 10 s).
      t.ok(o.job.read.runtime >= 50 && o.job.read.runtime < 10_000, `${who}: the final window's runtime (${o.job.read.runtime} ms)`);
      t.ok(o.job.read.total_ios > 0, `${who}: IO in the final window`);
    }
  }
});

t.test('a target never met at percentile 100: the first IO ends both jobs with ETIMEDOUT at depth 1', async (t) => {
  const args = [...JOB, '--iodepth=8', '--latency_target=1', '--time_based', '--runtime=5'];
  const f = fio(args, 1);
  const p = phyr(args, 1, SLOW);
  for (const [who, o] of [['fio', f], ['phyr', p]] as const) {
    t.equal(o.job.error, 110, `${who}: ETIMEDOUT`);
    t.equal(o.job.latency_depth, 1, `${who}: depth 1`);
    t.same(o.steps, [], `${who}: no ramp`);
  }
});

t.test('a target never met below percentile 100: both stay at depth 1 for the whole runtime', async (t) => {
  const args = [...JOB, '--iodepth=8', '--latency_target=1', '--latency_window=50ms', '--latency_percentile=50', '--time_based', '--runtime=1'];
  const f = fio(args);
  const p = phyr(args, 0, SLOW);
  for (const [who, o] of [['fio', f], ['phyr', p]] as const) {
    t.equal(o.job.error, 0, `${who}: no error`);
    t.equal(o.job.latency_depth, 1, `${who}: depth 1`);
    t.same(o.steps, [], `${who}: no ramp (each window fails at depth 1)`);
    t.ok(o.job.read.runtime >= 900, `${who}: ran the whole runtime (${o.job.read.runtime} ms)`);
  }
});

t.test('latency_run: both keep deciding each window and never take the final window', async (t) => {
  const args = [...JOB, '--iodepth=4', '--latency_target=1s', '--latency_window=100ms', '--latency_percentile=99', '--latency_run=1', '--time_based', '--runtime=1'];
  const f = fio(args);
  const p = phyr(args);
  for (const [who, o] of [['fio', f], ['phyr', p]] as const) {
    t.equal(o.job.error, 0, `${who}: no error`);
    t.equal(o.job.latency_depth, 4, `${who}: at iodepth`);
    t.same(o.steps.slice(0, 3), ['Ramped up: 1 2 4', 'Ramped up: 2 4 4', 'Ramped up: 4 4 4'], `${who}: doubles to iodepth`);
    t.notOk(o.steps.includes('Quiesce and final run'), `${who}: no final window`);
    // One decision per window of the 1 s runtime: at most 10, and a loaded machine's long
    // passes only make fewer (each decision waits for a whole window).
    t.ok(o.steps.length >= 3 && o.steps.length <= 10, `${who}: ${o.steps.length} decisions in 1 s of 100 ms windows`);
    t.ok(o.job.read.runtime >= 900, `${who}: ran the whole runtime (${o.job.read.runtime} ms)`);
  }
});

t.test('phyr alone: a depth that misses the target is bisected back to the deepest that meets it', async (t) => {
  // One command at a time, 20 ms each (more on a loaded machine: the controller's timer
  // overshoots): depth 2 takes about 40-50 ms, depth 3 at least 60 ms once the queue is
  // full, so a 60 ms target met by half a window's IOs holds at 2 and fails at 3 and 4,
  // with margin either side. fio 3.33's steps for this device: up to 2, up to 4, 4 fails:
  // down to (4 + 2) / 2 = 3, 3 fails: down to (3 + 2) / 2 = 2, 2 succeeds and stays, the
  // final window, done. The controller's own timing is what this case depends on; the
  // other cases do not.
  const serial = `${oracle.target},latency=20ms,inflight=1`;
  const p = phyr([...JOB, '--iodepth=8', '--latency_target=60ms', '--latency_window=500ms', '--latency_percentile=50', '--time_based', '--runtime=50'], 0, serial);
  t.same(p.steps, ['Ramped up: 1 2 8', 'Ramped up: 2 4 8', 'Ramped down: 2 3 4', 'Ramped down: 2 2 3', 'Ramped up: 2 2 3', 'Quiesce and final run', 'Ramped up: 2 2 3', 'We are done'], 'fio\'s steps');
  t.equal(p.job.latency_depth, 2);
  t.equal(p.job.error, 0);
});
