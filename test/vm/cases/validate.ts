// phyr validate on QEMU's NVMe through VFIO, on every configuration the tier boots
// (test/vm/topology.ts), each its own case named by its configuration: 0 fail on each, QEMU's
// known departures from the spec reported as deviations (tools/validate/quirks.ts). The
// null backend runs non-destructive; destructive, a device that keeps no data must fail
// the integrity suite with "read back all zeros (write lost ...)".
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { releaseShared } from '../fixture';
import { note, test } from '../harness';
import { NULL_BACKEND, ONE_QUEUE_PAIR, ONE_VECTOR, PEER, TARGET } from '../topology';

const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');

interface ReportCase {
  id: string;
  suite?: string;
  outcome: { status: string; expected?: string; received?: string; reason?: string };
}
interface Run {
  cases: ReportCase[];
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs phyr validate on `bdf` with `args` in its own process and returns its JSON report. */
function validate(what: string, bdf: string, args: string[]): Run {
  releaseShared(); // phyr validate opens the controllers in its own process
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-validate-')), 'report.json');
  const r = spawnSync(process.execPath, [PHYR, 'validate', bdf, ...args, '--json', out], { encoding: 'utf8', timeout: 10 * 60 * 1000 });
  assert.ok(fs.existsSync(out), `${what}: no JSON report (exit ${r.status}): ${r.stdout}${r.stderr}`);
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { cases: ReportCase[] };
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const by = (s: string) => report.cases.filter((c) => c.outcome.status === s).length;
  note(`validate on ${what}: ${report.cases.length} cases, ${by('pass')} pass, ${by('deviation')} deviations, ${by('skipped')} skipped, ${by('not-applicable')} n/a, ${by('fail')} fail`);
  return { cases: report.cases, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const failures = (r: Run): string[] =>
  r.cases.filter((c) => c.outcome.status === 'fail').map((c) => `${c.id}: expected ${c.outcome.expected}, received ${c.outcome.received}${c.outcome.reason ? ` (${c.outcome.reason})` : ''}`);

/** 0 fail, exit 0, and most of the catalogue ran and passed. */
function assertClean(what: string, r: Run, minPass: number): void {
  assert.deepEqual(failures(r), [], `cases that failed on ${what}`);
  assert.equal(r.status, 0, `${what}: exit status ${r.status}: ${r.stderr}`);
  const passed = r.cases.filter((c) => c.outcome.status === 'pass').length;
  assert.ok(passed >= minPass, `${what}: ${passed} cases passed, at least ${minPass} expected`);
}

test('validate: CMB (target with a 16 MiB CMB, peer for p2p), destructive: 0 fail, QEMU quirks as deviations', () => {
  const r = validate('the CMB target', TARGET, ['--destructive', '--yes', '--peer', PEER]);
  assertClean('the CMB target', r, 50);
  assert.ok(r.cases.some((c) => c.outcome.status === 'deviation'), "QEMU's documented quirks are reported as deviations");
});

test('validate: two namespaces with 512 B and 4 KiB LBAs (peer, namespace 2 of 4 KiB), destructive: 0 fail', () => {
  assertClean('two namespaces, 4 KiB under test', validate('two namespaces, 4 KiB under test', PEER, ['--destructive', '--yes', '--nsid', '2']), 50);
});

test('validate: mdts=1 with max_ioqpairs=1, destructive: 0 fail', () => {
  assertClean('mdts=1 max_ioqpairs=1', validate('mdts=1 max_ioqpairs=1', ONE_QUEUE_PAIR, ['--destructive', '--yes']), 40);
});

test('validate: msix_qsize=1 (one interrupt vector), destructive: 0 fail', () => {
  assertClean('msix_qsize=1', validate('msix_qsize=1', ONE_VECTOR, ['--destructive', '--yes']), 40);
});

test('validate: null backend, non-destructive: 0 fail', () => {
  assertClean('the null backend', validate('the null backend', NULL_BACKEND, []), 30);
});

test('validate: null backend, destructive: a device that keeps no data fails the integrity suite with "read back all zeros (write lost"', () => {
  const r = validate('the null backend, integrity suite', NULL_BACKEND, ['--suite', 'integrity', '--destructive', '--yes']);
  const failed = r.cases.filter((c) => c.outcome.status === 'fail');
  assert.ok(failed.length > 0, 'a controller that drops every write must fail the destructive suite');
  assert.equal(r.status, 1, 'exit 1: a case failed');
  assert.ok(
    failed.some((c) => JSON.stringify(c.outcome).includes('read back all zeros (write lost')),
    `the failure says the writes were lost: ${failures(r).join('; ')}`,
  );
});
