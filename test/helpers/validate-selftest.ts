// The self-test's per-configuration check: a correct embedded controller passes every
// suite of phyr validate (destructive included) with 0 fail, and every case either runs or
// says why it cannot apply.
import type { Test } from 'tap';
import { validateEmu } from './validate-emu';

/** Runs validate on `target` and expects 0 fail, no silent skip, reasons for not-applicable. */
export async function expectNoFail(t: Test, target: string): Promise<void> {
  const r = await validateEmu([target, '--destructive', '--yes']);
  const failed = r.report.cases.filter((c) => c.outcome.status === 'fail');
  t.same(failed.map((c) => `${c.id}: ${JSON.stringify(c.outcome)}`), [], 'no case fails');
  t.equal(r.code, 0, 'exit status 0');
  // Only the peer cases (no --peer given) may be skipped in a destructive run.
  for (const c of r.report.cases) {
    if (c.outcome.status === 'skipped') t.match(c.id, /^p2p\.peer\./, `${c.id} skipped: ${c.outcome.reason}`);
    if (c.outcome.status === 'not-applicable') t.match(c.outcome.reason, /\S{3}/, `${c.id} says why it cannot apply`);
  }
  t.ok(r.report.totals.pass >= 50, `${r.report.totals.pass} cases pass`);
}
