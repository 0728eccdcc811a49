// bench/fio-engine.js, the fio-engine rows of the results: one short dry run produces a run
// file that bench/results accepts, with a row per side and shape, measured figures and
// the ratio note for each shape.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const { validateRun } = require(path.join(ROOT, 'bench', 'results', 'validate.js')) as { validateRun: (run: unknown, file: string) => void };

t.test('a dry run of bench/fio-engine.js', async (t) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'fio-engine.js'), '--seconds', '1', '--repeat', '1', '--dry-run'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `exits 0 (stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')})`);
  const run = JSON.parse(r.stdout) as { script: string; rows: Array<{ key: string; figures: Record<string, number> }>; notes: string[] };
  t.doesNotThrow(() => validateRun(run, 'dry run'), 'bench/results accepts the run file');
  t.equal(run.script, 'bench/fio-engine.js');
  t.same(run.rows.map((x) => x.key), ['fio-engine-randread-qd1', 'phyr-bench-randread-qd1', 'fio-engine-randread-qd32', 'phyr-bench-randread-qd32'], 'a row per side and shape');
  for (const row of run.rows) {
    t.ok(row.figures.iops > 0, `${row.key}: ${Math.round(row.figures.iops)} IOPS measured`);
    t.ok(row.figures.cpuNsPerIo > 0, `${row.key}: ${Math.round(row.figures.cpuNsPerIo)} ns of CPU per IO measured`);
    t.ok(row.figures.p50 > 0 && row.figures.p99 >= row.figures.p50, `${row.key}: p50 ${row.figures.p50} <= p99 ${row.figures.p99} µs`);
  }
  for (const key of ['fio-engine-randread-qd1', 'fio-engine-randread-qd32']) {
    const f = run.rows.find((x) => x.key === key)!.figures;
    const b = run.rows.find((x) => x.key === key.replace('fio-engine', 'phyr-bench'))!.figures;
    t.equal(f.vsBench, f.iops / b.iops, `${key}: the ratio is the two rows' IOPS`);
  }
  t.equal(run.notes.filter((n) => /fio through the engine .*× phyr bench's IOPS/.test(n)).length, 2, 'a ratio note per shape');
});
