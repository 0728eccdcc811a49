// The JUnit XML and JSON reports, checked structurally: the XML is well-formed and has the
// shape CI systems read, counts agree with the cases, failure details survive escaping; the
// JSON carries the device identify data, the platform and every case's outcome.
import t from 'tap';
import { jsonReport } from '../../tools/validate/report/json';
import { junitReport } from '../../tools/validate/report/junit';
import { escapeXml } from '../../tools/validate/report/xml';
import { OUTCOME_STATUSES } from '../../tools/validate/types';
import { syntheticReport } from '../helpers/validate-report';
import { childrenNamed, parseXml } from '../helpers/xml-check';

t.test('JUnit XML is well-formed and shaped for CI', async (t) => {
  const report = await syntheticReport();
  const xml = junitReport(report);
  const root = parseXml(xml);
  t.equal(root.name, 'testsuites');
  t.equal(Number(root.attrs.tests), report.cases.length, 'total tests');
  t.equal(Number(root.attrs.failures), report.totals.fail);
  t.equal(Number(root.attrs.skipped), report.totals.skipped + report.totals['not-applicable']);
  t.match(root.attrs.time, /^\d+\.\d{3}$/);
  const suites = childrenNamed(root, 'testsuite');
  t.same(suites.map((s) => s.attrs.name), ['admin', 'errors'], 'one testsuite per suite present, in run order');
  let cases = 0;
  for (const s of suites) {
    const tcs = childrenNamed(s, 'testcase');
    cases += tcs.length;
    t.equal(Number(s.attrs.tests), tcs.length, `${s.attrs.name}: tests attribute`);
    t.equal(Number(s.attrs.failures), tcs.filter((c) => childrenNamed(c, 'failure').length).length, `${s.attrs.name}: failures`);
    t.equal(Number(s.attrs.skipped), tcs.filter((c) => childrenNamed(c, 'skipped').length).length, `${s.attrs.name}: skipped`);
    const props = Object.fromEntries(childrenNamed(childrenNamed(s, 'properties')[0], 'property').map((p) => [p.attrs.name, p.attrs.value]));
    t.match(props, { 'device.model': 'QEMU NVMe Ctrl', 'device.serial': 'SYN<&>"1', 'device.pci-id': '1b36:0010', 'platform.kernel': '6.1.0-test' });
    for (const tc of tcs) {
      t.equal(tc.attrs.classname, `phyr.validate.${s.attrs.name}`);
      t.match(tc.attrs.time, /^\d+\.\d{3}$/);
      t.ok(childrenNamed(tc, 'failure').length + childrenNamed(tc, 'skipped').length <= 1, `${tc.attrs.name}: one verdict element at most`);
    }
  }
  t.equal(cases, report.cases.length);

  const all = suites.flatMap((s) => childrenNamed(s, 'testcase'));
  const byName = (n: string) => all.find((c) => c.attrs.name === n)!;
  const failure = childrenNamed(byName('errors.synthetic.fail'), 'failure')[0];
  t.match(failure.attrs.message, /expected status 0080h LBA Out of Range with DNR; received status 0000h Success/);
  t.match(failure.text, /sent: +Read nsid=1 slba=0x100000000[\s\S]*expected: status 0080h[\s\S]*received: status 0000h/);
  t.match(childrenNamed(byName('errors.synthetic.throws'), 'failure')[0].text, /boom <&>/, 'special characters survive escaping');
  t.match(childrenNamed(byName('errors.synthetic.na'), 'skipped')[0].attrs.message, /^not applicable: /);
  t.match(childrenNamed(byName('errors.synthetic.skip'), 'skipped')[0].attrs.message, /^skipped: no peer/);
  const dev = byName('admin.abort.synthetic');
  t.equal(childrenNamed(dev, 'failure').length + childrenNamed(dev, 'skipped').length, 0, 'a deviation does not fail CI');
  const devProps = Object.fromEntries(childrenNamed(childrenNamed(dev, 'properties')[0], 'property').map((p) => [p.attrs.name, p.attrs.value]));
  t.match(devProps, { outcome: 'deviation', quirk: 'qemu-abort-not-aborted', spec: 'NVMe 1.4 §0.0' });
  t.match(childrenNamed(dev, 'system-out')[0].text, /known deviation qemu-abort-not-aborted/);
});

t.test('escaping keeps XML well-formed for any text', async (t) => {
  const nasty = 'a\u0000b\u001b<c>&"\'\uD800 ]]> \u{1F600}';
  const root = parseXml(`<x a="${escapeXml(nasty)}">${escapeXml(nasty)}</x>`);
  t.equal(root.attrs.a, root.text);
  t.equal(root.text, 'a\\u0000b\\u001b<c>&"\'\\ud800 ]]> \u{1F600}');
});

t.test('JSON report carries device, platform and every outcome', async (t) => {
  const report = await syntheticReport();
  const text = jsonReport(report);
  t.ok(text.endsWith('\n'));
  const j = JSON.parse(text) as Record<string, unknown> & { cases: Record<string, unknown>[]; totals: Record<string, number> };
  t.equal(j.schema, 'phyr-validate/1');
  t.match(j.tool, { name: 'phyr validate', version: /^\d+\.\d+\.\d+/ });
  t.equal(j.target, 'emu:sgl=on');
  t.ok(!Number.isNaN(Date.parse(j.startedAt as string)) && !Number.isNaN(Date.parse(j.finishedAt as string)));
  t.equal(j.durationMs, 1234);
  t.match(j.device, { model: 'QEMU NVMe Ctrl', serial: 'SYN<&>"1', firmware: '7.2.0', vendorId: 0x1b36, identify: { mdts: 7 }, namespace: { nsze: 2048 } });
  t.match(j.platform, { kernel: String, iommu: 'synthetic', node: /^v\d+/, cpus: Number });
  t.same((j.quirks as { id: string }[]).map((q) => q.id), ['qemu-abort-not-aborted', 'silent-dma-fault', 'qemu-no-interrupt-coalescing', 'qemu-prp1-offset-unchecked', 'qemu-dnr-missing', 'qemu-sgl-status-codes', 'qemu-cq-in-cmb-accepted', 'qemu-log-pages', 'qemu-bme-off-fatal', 'qemu-dsm-range-unchecked']);
  t.same(Object.keys(j.totals), [...OUTCOME_STATUSES]);
  t.equal(Object.values(j.totals).reduce((a, b) => a + b, 0), j.cases.length);
  for (const c of j.cases) {
    t.match(c, { id: String, suite: String, purpose: String, spec: String, destructive: Boolean, durationMs: Number, log: Array, outcome: { status: String } });
    t.ok((OUTCOME_STATUSES as readonly unknown[]).includes((c.outcome as { status: string }).status));
  }
  const fail = j.cases.find((c) => c.id === 'errors.synthetic.fail')!;
  t.match(fail.outcome, { status: 'fail', sent: String, expected: String, received: String });
  t.equal(JSON.stringify(JSON.parse(text)), JSON.stringify(report), 'round-trips');
});
