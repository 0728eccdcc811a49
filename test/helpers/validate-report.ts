// Builds a finished report from the synthetic cases (every outcome present) for the report
// format tests.
import { CaseRegistry } from '../../tools/validate/registry';
import { quirksFor } from '../../tools/validate/quirks';
import { buildReport } from '../../tools/validate/report/build';
import { runCases } from '../../tools/validate/runner';
import type { RunReport } from '../../tools/validate/types';
import { qemuIdentity, syntheticCases, syntheticSession } from './validate-fixtures';

export async function syntheticReport(): Promise<RunReport> {
  const session = syntheticSession();
  const quirks = quirksFor(qemuIdentity);
  const startedAt = new Date();
  const results = await runCases(new CaseRegistry().add(syntheticCases()).all(), session, { target: 'emu:sgl=on', nsid: 1, destructive: false, quirks, timeoutMs: 2000 });
  return buildReport({
    target: 'emu:sgl=on',
    options: { suites: [], destructive: false, nsid: 1 },
    device: session.device,
    platform: session.platform,
    quirks,
    results,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 1234),
  });
}
