// Report assembly helpers: platform description, IOMMU backend naming, totals, summaries,
// and the terminal reporter's colouring.
import t from 'tap';
import { iommuBackendOf, outcomeSummary, platformInfo, toolVersion, totalsOf } from '../../tools/validate/report/build';
import { TerminalReporter } from '../../tools/validate/report/terminal';
import { syntheticReport } from '../helpers/validate-report';

t.test('platform and IOMMU backend', async (t) => {
  const p = platformInfo('x');
  t.match(p, { kernel: /\S/, arch: process.arch, node: process.version, iommu: 'x' });
  t.ok(p.cpus >= 1);
  t.equal(iommuBackendOf({ kind: 'emu' }), 'embedded controller IOMMU table');
  t.equal(iommuBackendOf({ kind: 'vfio', iommuBackend: 'vfio-type1v2' }), 'vfio-type1v2');
  t.match(iommuBackendOf({ kind: 'vfio' }), /^vfio \(backend not reported/);
  t.match(toolVersion(), /^\d+\.\d+\.\d+/);
});

t.test('totals and one-line summaries', async (t) => {
  const r = await syntheticReport();
  t.same(totalsOf(r.cases), r.totals);
  t.equal(outcomeSummary({ status: 'pass' }), '');
  t.equal(outcomeSummary({ status: 'pass', detail: 'd' }), 'd');
  t.equal(outcomeSummary({ status: 'skipped', reason: 'r' }), 'r');
  t.equal(outcomeSummary({ status: 'deviation', quirk: 'q', expected: 'e', received: 'v' }), 'known deviation q: expected e; received v');
});

t.test('terminal colours when asked', async (t) => {
  const r = await syntheticReport();
  let out = '';
  const term = new TerminalReporter({ write: (s: string) => (out += s) }, { colour: true });
  r.cases.forEach((c, i) => term.result(c, i + 1, r.cases.length));
  term.summary(r);
  t.match(out, /\x1b\[31;1mFAIL/);
  t.match(out, /\x1b\[33mdeviation/);
  t.match(out, /\x1b\[90mnot-applicable/);
});
