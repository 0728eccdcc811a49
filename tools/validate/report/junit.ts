// The JUnit XML report, in the shape CI systems (Jenkins, GitLab, GitHub annotations) read:
// <testsuites> of one <testsuite> per validate suite, one <testcase> per case.
// Mapping of outcomes: fail -> <failure> (message = expected vs received, body = sent,
// expected, received, detail); skipped and not-applicable -> <skipped message>; a deviation
// passes (the device's documented behaviour) but carries properties outcome=deviation and
// quirk=NAME, and its explanation in <system-out>, so it is visible without failing CI.
import { SUITE_NAMES } from '../suites';
import type { CaseResult, RunReport } from '../types';
import { outcomeSummary, totalsOf } from './build';
import { escapeXml as x } from './xml';

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function caseXml(r: CaseResult): string {
  const o = r.outcome;
  const head = `    <testcase classname="phyr.validate.${x(r.suite)}" name="${x(r.id)}" time="${seconds(r.durationMs)}">`;
  const body: string[] = [];
  const props: [string, string][] = [
    ['purpose', r.purpose],
    ['spec', r.spec],
    ['outcome', o.status],
  ];
  if (o.status === 'deviation') props.push(['quirk', o.quirk]);
  body.push('      <properties>', ...props.map(([k, v]) => `        <property name="${x(k)}" value="${x(v)}"/>`), '      </properties>');
  if (o.status === 'fail') {
    const text = [o.sent && `sent:     ${o.sent}`, `expected: ${o.expected}`, `received: ${o.received}`, o.detail && `detail:   ${o.detail}`].filter(Boolean).join('\n');
    body.push(`      <failure message="${x(outcomeSummary(o))}" type="${x(r.suite)}">${x(text)}</failure>`);
  } else if (o.status === 'skipped') {
    body.push(`      <skipped message="${x(`skipped: ${o.reason}`)}"/>`);
  } else if (o.status === 'not-applicable') {
    body.push(`      <skipped message="${x(`not applicable: ${o.reason}`)}"/>`);
  }
  const out = [...(o.status === 'deviation' ? [outcomeSummary(o)] : o.status === 'pass' && o.detail ? [o.detail] : []), ...r.log];
  if (out.length) body.push(`      <system-out>${x(out.join('\n'))}</system-out>`);
  return [head, ...body, '    </testcase>'].join('\n');
}

/** Serialises a report as JUnit XML. */
export function junitReport(report: RunReport): string {
  const d = report.device;
  const runProps: [string, string][] = [
    ['target', report.target],
    ['device.model', d.model],
    ['device.serial', d.serial],
    ['device.firmware', d.firmware],
    ['device.pci-id', `${d.vendorId.toString(16).padStart(4, '0')}:${d.deviceId.toString(16).padStart(4, '0')}`],
    ['platform.kernel', report.platform.kernel],
    ['platform.iommu', report.platform.iommu],
    ['destructive', String(report.options.destructive)],
    ['quirks', report.quirks.map((q) => q.id).join(',')],
  ];
  const suites: string[] = [];
  for (const suite of SUITE_NAMES) {
    const cases = report.cases.filter((c) => c.suite === suite);
    if (!cases.length) continue;
    const t = totalsOf(cases);
    const time = cases.reduce((s, c) => s + c.durationMs, 0);
    suites.push(
      [
        `  <testsuite name="${x(suite)}" tests="${cases.length}" failures="${t.fail}" errors="0" skipped="${t.skipped + t['not-applicable']}" time="${seconds(time)}" timestamp="${x(report.startedAt)}" hostname="${x(report.platform.hostname)}">`,
        '    <properties>',
        ...runProps.map(([k, v]) => `      <property name="${x(k)}" value="${x(v)}"/>`),
        '    </properties>',
        ...cases.map(caseXml),
        '  </testsuite>',
      ].join('\n'),
    );
  }
  const t = report.totals;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="phyr validate ${x(report.target)}" tests="${report.cases.length}" failures="${t.fail}" errors="0" skipped="${t.skipped + t['not-applicable']}" time="${seconds(report.durationMs)}" timestamp="${x(report.startedAt)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
