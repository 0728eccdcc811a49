// The JS-level API fuzzer: fixed seeds, one child process per seed
// (test/helpers/api-fuzz-child.ts), each a seeded random sequence of calls on up to three
// embedded controllers with valid and invalid arguments, buffer detaching, reset and
// close at random points. Per seed:
//   - the child does not crash (no signal, exit status 0) and exits by itself once every
//     controller is closed (nothing left keeping the process alive);
//   - every error thrown or rejected was a PhyrError with a PHYR_ code;
//   - every promise settled within the bound;
//   - every controller's IOMMU mappings were gone after close().
//   PHYR_FUZZ_SEEDS=1,2,3 and PHYR_FUZZ_ITERATIONS=N pick other runs.
import t from 'tap';
import { spawn } from 'child_process';
import * as path from 'path';

const CHILD = path.join(__dirname, '..', 'helpers', 'api-fuzz-child.ts');
const SEEDS = (process.env.PHYR_FUZZ_SEEDS ?? '1,2,3,4,5,6').split(',').map(Number);
const ITERATIONS = Number(process.env.PHYR_FUZZ_ITERATIONS ?? 300);
const CHILD_LIMIT_MS = 30_000;

interface FuzzReport {
  seed: number;
  ops: number;
  resolved: number;
  rejected: number;
  thrown: number;
  opened: number;
  closed: number;
  detached: number;
  codes: Record<string, number>;
  violations: string[];
  hangs: string[];
}

function runSeed(seed: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number; exitAfterReportMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    // The parent's execArgv carries the TypeScript loader tap runs this file with.
    const child = spawn(process.execPath, [...process.execArgv, CHILD, String(seed), String(ITERATIONS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let reportAt = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      stdout += s;
      if (!reportAt && /\n\{"seed".*\}\n/.test(stdout)) reportAt = Date.now();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (stderr += s.length > 20000 ? s.slice(-20000) : s));
    const limit = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, exitAfterReportMs: reportAt ? Date.now() - reportAt : -1 });
    });
  });
}

let totalOps = 0;
let totalErrors = 0;
for (const seed of SEEDS) {
  t.test(`seed ${seed}`, async (t) => {
    const r = await runSeed(seed);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let report: FuzzReport | undefined;
    try {
      report = JSON.parse(line) as FuzzReport;
    } catch {
      report = undefined;
    }
    const tail = r.stderr.split('\n').filter((l) => !/PHYR_NO_HUGEPAGES|--trace-warnings/.test(l)).slice(-25).join('\n');
    t.equal(r.signal, null, `no crash (signal ${r.signal}${r.signal === 'SIGKILL' ? `: still running after ${CHILD_LIMIT_MS} ms` : ''})${tail ? `\n${tail}` : ''}`);
    t.equal(r.code, 0, `exit status 0${r.code !== 0 && tail ? `\n${tail}` : ''}`);
    t.ok(report, 'the child reported');
    if (!report) return;
    totalOps += report.ops;
    totalErrors += report.rejected + report.thrown;
    t.ok(report.ops > 0 && report.opened > 0, `${report.ops} calls on ${report.opened} controllers (${report.rejected} rejected, ${report.thrown} threw, ${report.detached} buffers detached)`);
    // One line per kind of violation (the call's arguments stripped), with a count.
    const kinds = new Map<string, number>();
    for (const v of report.violations) {
      const k = v.replace(/\(.*?\) \((threw|rejected)\)/, '() ($1)');
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    t.same([...kinds].map(([k, n]) => `${n}x ${k}`), [], 'every error is a PhyrError with a PHYR_ code; every mapping is released by close()');
    t.same(report.hangs, [], 'every promise settled within the bound');
    t.ok(r.exitAfterReportMs >= 0 && r.exitAfterReportMs < 5000, `the process exits by itself once every controller is closed (${r.exitAfterReportMs} ms after the report)`);
    t.comment(`error codes: ${JSON.stringify(report.codes)}; ${r.ms} ms`);
  });
}

t.test('totals', async (t) => {
  t.ok(totalOps > 0, `${totalOps} calls in all, ${totalErrors} refused with a typed error`);
});
