// The case runner turns every way a case can end into the right outcome: synthetic cases
// exercise pass, fail (with sent/expected/received), deviation (by quirk and by the case
// itself), skipped (by the case, by the environment, by the destructive gate),
// not-applicable, throws, hangs and malformed outcomes.
import t from 'tap';
import { QUIRKS, quirkForCase, quirksFor } from '../../tools/validate/quirks';
import { CaseRegistry } from '../../tools/validate/registry';
import { describeError, runCases } from '../../tools/validate/runner';
import type { CaseResult } from '../../tools/validate/types';
import { plainIdentity, qemuIdentity, syntheticCases, syntheticSession } from '../helpers/validate-fixtures';

async function runAll(destructive: boolean, device = qemuIdentity) {
  const session = syntheticSession(device);
  const starts: string[] = [];
  const results = await runCases(new CaseRegistry().add(syntheticCases()).all(), session, {
    target: 'synthetic',
    nsid: 3,
    destructive,
    quirks: quirksFor(device),
    timeoutMs: 2000,
    onStart: (c, i, n) => starts.push(`${i}/${n} ${c.id}`),
  });
  const byId = new Map<string, CaseResult>(results.map((r) => [r.id, r]));
  return { session, results, byId, starts };
}

t.test('each outcome path', async (t) => {
  const { byId, session, starts, results } = await runAll(false);
  t.equal(starts.length, results.length, 'onStart for every case');
  t.match(starts[0], /^1\/11 admin\.abort\.synthetic$/, 'admin suite runs before errors');

  const pass = byId.get('errors.synthetic.pass')!;
  t.same(pass.outcome, { status: 'pass', detail: 'nsid 3' });
  t.same(pass.log, ['about to pass'], 'log lines recorded');
  t.ok(pass.durationMs >= 0);

  const fail = byId.get('errors.synthetic.fail')!;
  t.equal(fail.outcome.status, 'fail');
  t.match(fail.outcome, { sent: /opcode 02h/, expected: /LBA Out of Range/, received: /Success/ });

  t.same(byId.get('errors.synthetic.na')!.outcome, { status: 'not-applicable', reason: 'the controller does not claim SGL support (SGLS=0)' });
  t.same(byId.get('errors.synthetic.skip')!.outcome, { status: 'skipped', reason: 'no peer device attached' });
  t.match(byId.get('errors.synthetic.self-deviation')!.outcome, { status: 'deviation', quirk: 'made-up' });

  const threw = byId.get('errors.synthetic.throws')!;
  t.match(threw.outcome, { status: 'fail', received: /an exception: Error: boom <&>/, detail: /boom/ });
  const hung = byId.get('errors.synthetic.hangs')!;
  t.match(hung.outcome, { status: 'fail', expected: /within 50 ms/, received: /did not finish within 50 ms/ });
  t.equal(session.log.recovered.length, 2, 'device recovered after the throw and after the hang');
  t.match(hung.log.join('\n'), /device recovered after: CaseTimeout/);

  t.match(byId.get('errors.synthetic.malformed')!.outcome, { status: 'fail', received: /malformed outcome: \{"status":"maybe"\}/ });

  const gated = byId.get('errors.synthetic.destructive')!;
  t.match(gated.outcome, { status: 'skipped', reason: /--destructive/ });
  t.equal(gated.durationMs, 0);
  t.notOk(session.log.prepared.includes('errors.synthetic.destructive'), 'a gated case is never prepared');

  t.same(byId.get('errors.synthetic.unpreparable')!.outcome, { status: 'skipped', reason: 'synthetic device has no raw queues' });

  const dev = byId.get('admin.abort.synthetic')!;
  t.same(dev.outcome, { status: 'deviation', quirk: 'qemu-abort-not-aborted', expected: 'Abort CQE DW0 bit 0 = 0 (aborted)', received: 'DW0 bit 0 = 1 (not aborted)' });
  t.match(dev.log.join('\n'), /known deviation qemu-abort-not-aborted[\s\S]*sent: Abort sqid=1 cid=7/);

  t.same(session.log.released.sort(), session.log.prepared.sort(), 'every prepared case released');
});

t.test('destructive cases run with --destructive', async (t) => {
  const { byId } = await runAll(true);
  t.equal(byId.get('errors.synthetic.destructive')!.outcome.status, 'pass');
});

t.test('without the quirk the same failure stays a failure', async (t) => {
  const { byId } = await runAll(false, plainIdentity);
  t.equal(byId.get('admin.abort.synthetic')!.outcome.status, 'fail');
});

t.test('quirk table matching', async (t) => {
  t.same(quirksFor(qemuIdentity).map((q) => q.id), ['qemu-abort-not-aborted', 'silent-dma-fault', 'qemu-no-interrupt-coalescing', 'qemu-prp1-offset-unchecked', 'qemu-dnr-missing', 'qemu-sgl-status-codes', 'qemu-cq-in-cmb-accepted', 'qemu-log-pages', 'qemu-bme-off-fatal', 'qemu-dsm-range-unchecked']);
  t.same(quirksFor(plainIdentity), []);
  t.same(quirksFor({ ...qemuIdentity, model: 'Other' }), [], 'model must match too');
  const fw = [{ ...QUIRKS[0], match: { ...QUIRKS[0].match, firmware: /^8\./ } }];
  t.same(quirksFor(qemuIdentity, fw), [], 'firmware must match when given');
  t.equal(quirkForCase('admin.abort.queued-command', quirksFor(qemuIdentity))?.id, 'qemu-abort-not-aborted');
  t.equal(quirkForCase('dptr.iommu.data-unmapped', quirksFor(qemuIdentity))?.id, 'silent-dma-fault');
  t.equal(quirkForCase('dptr.prp.offset', quirksFor(qemuIdentity)), undefined);
  for (const q of QUIRKS) {
    t.ok(q.cases.length && q.description && /§/.test(q.spec), `${q.id} names cases, says what happens and cites the spec`);
  }
});

t.test('a release failure and a failing recovery are logged, not thrown', async (t) => {
  const session = syntheticSession();
  session.prepare = async () => ({
    release: async () => {
      throw new Error('unmap failed');
    },
  });
  session.recover = async () => {
    throw new Error('reset failed');
  };
  const [r] = await runCases([syntheticCases()[0]], session, { target: 's', nsid: 1, destructive: false, quirks: [], timeoutMs: 1000 });
  t.equal(r.outcome.status, 'pass');
  t.match(r.log.join('\n'), /release failed: Error: unmap failed[\s\S]*recovery failed: Error: reset failed/);
});

t.test('describeError', async (t) => {
  const e = Object.assign(new Error('m'), { code: 'PHYR_X' });
  t.equal(describeError(e), 'Error PHYR_X: m');
  t.equal(describeError('plain'), 'plain');
});
