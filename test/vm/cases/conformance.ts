// The raw conformance cases (conformance/) against QEMU's NVMe through the kernel's VFIO.
// A case that fails where a documented QEMU quirk explains it counts as a deviation: it
// passes here and is listed in results.json (docs/TESTBED.md keeps the table).
import * as assert from 'node:assert/strict';
import { allCases } from '../../../conformance';
import { runRawCase } from '../../../conformance/runner';
import { quirkForCase, quirksFor } from '../../../tools/validate/quirks';
import { closePool, poolFor, targetFn } from '../fixture';
import { note, test } from '../harness';
import { TARGET } from '../topology';
import { QEMU_DEVIATIONS } from '../qemu-deviations';

const qemuQuirks = quirksFor({ target: TARGET, kind: 'vfio', vendorId: 0x1b36, deviceId: 0x0010, model: 'QEMU NVMe Ctrl', serial: 'phyr-vm-0', firmware: '' });
const quirkIds = new Set(qemuQuirks.map((q) => q.id));

for (const c of allCases) {
  test(`conformance: ${c.id} (${c.spec})`, async () => {
    const outcome = await runRawCase(c, targetFn(), poolFor(targetFn()), { quirks: quirkIds, destructive: true, timeoutMs: 15000 });
    if (outcome.status === 'fail') {
      const q = quirkForCase(c.id, qemuQuirks);
      const known = QEMU_DEVIATIONS[c.id];
      assert.ok(q || known, `${c.purpose}: expected ${outcome.expected}, received ${outcome.received}${outcome.detail ? ` (${outcome.detail})` : ''}`);
      if (q) note(`${c.id}: deviation ${q.id} — expected ${outcome.expected}, received ${outcome.received}`);
      else note(`${c.id}: known ${known.kind === 'case' ? 'case/spec disagreement' : 'QEMU deviation'} (${known.spec}): ${known.observed} — received ${outcome.received}`);
    } else if (outcome.status === 'deviation') {
      note(`${c.id}: deviation ${outcome.quirk} — expected ${outcome.expected}, received ${outcome.received}`);
    } else if (outcome.status === 'skipped' || outcome.status === 'not-applicable') {
      note(`${c.id}: ${outcome.status}: ${outcome.reason}`);
    }
  });
}

test('conformance: release the raw queues\' DMA pool', () => {
  closePool(targetFn());
});
