// phyr validate on QEMU's NVMe through VFIO: the whole catalogue, destructive, with the peer
// controller for the p2p suite. QEMU's known departures from the spec must come out as
// deviations (tools/validate/quirks.ts), never as failures, and nothing may fail.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { releaseShared } from '../fixture';
import { note, test } from '../harness';
import { PEER, TARGET } from '../topology';

const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');

interface ReportCase {
  id: string;
  outcome: { status: string; expected?: string; received?: string; reason?: string };
}

test('validate: the full suite on QEMU passes, with QEMU quirks reported as deviations', () => {
  releaseShared(); // phyr validate opens the target and the peer in its own process
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-validate-')), 'report.json');
  const r = spawnSync(process.execPath, [PHYR, 'validate', TARGET, '--destructive', '--yes', '--peer', PEER, '--json', out], {
    encoding: 'utf8',
    timeout: 10 * 60 * 1000,
  });
  assert.ok(fs.existsSync(out), `no JSON report: ${r.stdout}${r.stderr}`);
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { cases: ReportCase[] };
  const by = (s: string) => report.cases.filter((c) => c.outcome.status === s);
  const failed = by('fail');
  note(`validate on QEMU: ${report.cases.length} cases, ${by('pass').length} pass, ${by('deviation').length} deviations, ${by('skipped').length} skipped, ${by('not-applicable').length} n/a, ${failed.length} fail`);
  assert.deepEqual(
    failed.map((c) => `${c.id}: expected ${c.outcome.expected}, received ${c.outcome.received}`),
    [],
    'cases that failed on QEMU',
  );
  assert.equal(r.status, 0, `exit status ${r.status}: ${r.stderr}`);
  assert.ok(by('pass').length > 50, 'most cases ran and passed');
  assert.ok(by('deviation').length > 0, "QEMU's documented quirks are reported as deviations");
});
