// The HTML report: one self-contained file (inline style and script, no external assets, no
// network) a person can open from a CI artifact or a mail attachment. The summary and every
// case are static HTML; the small script only adds filtering by outcome.
import { SUITES } from '../suites';
import { OUTCOME_STATUSES, type CaseResult, type RunReport } from '../types';
import { outcomeSummary, totalsOf } from './build';
import { escapeXml as h } from './xml';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header .verdict{font-weight:600;margin-top:4px}main{padding:16px 24px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:0 0 16px;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-weight:600;color:#4a5263}td.id{font-family:ui-monospace,Menlo,monospace;white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.pass{background:#2e7d32}.fail{background:#c62828}.deviation{background:#ef6c00}.skipped{background:#78849e}.not-applicable{background:#9aa3b5}
.totals span{margin-right:12px}pre{white-space:pre-wrap;margin:4px 0;font:12px ui-monospace,Menlo,monospace;background:#f3f4f7;padding:6px;border-radius:4px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}dt{color:#4a5263}dd{margin:0;font-family:ui-monospace,Menlo,monospace}
#filters button{margin-right:6px;border:1px solid #c5cad3;background:#fff;border-radius:4px;padding:2px 10px;cursor:pointer}
#filters button.on{background:#1d2330;color:#fff}tr.hidden{display:none}
`;

const SCRIPT = `
(function(){
  var rows=[].slice.call(document.querySelectorAll('tr.case'));
  var buttons=[].slice.call(document.querySelectorAll('#filters button'));
  function show(status){
    rows.forEach(function(r){r.classList.toggle('hidden',status!=='all'&&r.getAttribute('data-status')!==status);});
    buttons.forEach(function(b){b.classList.toggle('on',b.getAttribute('data-status')===status);});
    document.getElementById('shown').textContent=String(rows.filter(function(r){return !r.classList.contains('hidden');}).length);
  }
  buttons.forEach(function(b){b.addEventListener('click',function(){show(b.getAttribute('data-status'));});});
  show(document.body.getAttribute('data-verdict')==='fail'?'fail':'all');
})();
`;

function badge(status: string): string {
  return `<span class="badge ${h(status)}">${h(status)}</span>`;
}

function caseDetail(r: CaseResult): string {
  const o = r.outcome;
  const parts: string[] = [];
  if (o.status === 'fail') {
    if (o.sent) parts.push(`<pre>sent:     ${h(o.sent)}</pre>`);
    parts.push(`<pre>expected: ${h(o.expected)}\nreceived: ${h(o.received)}</pre>`);
    if (o.detail) parts.push(`<pre>${h(o.detail)}</pre>`);
  } else if (o.status === 'deviation') {
    parts.push(`<div>known deviation <b>${h(o.quirk)}</b></div><pre>expected: ${h(o.expected)}\nreceived: ${h(o.received)}</pre>`);
  } else {
    const s = outcomeSummary(o);
    if (s) parts.push(`<div>${h(s)}</div>`);
  }
  if (r.log.length) parts.push(`<details><summary>log (${r.log.length})</summary><pre>${h(r.log.join('\n'))}</pre></details>`);
  return parts.join('');
}

function dl(entries: [string, unknown][]): string {
  return `<dl>${entries
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`)
    .join('')}</dl>`;
}

/** Serialises a report as one self-contained HTML page. */
export function htmlReport(report: RunReport): string {
  const t = report.totals;
  const verdict = t.fail ? 'fail' : 'pass';
  const d = report.device;
  const pciId = `${d.vendorId.toString(16).padStart(4, '0')}:${d.deviceId.toString(16).padStart(4, '0')}`;
  const suiteRows = SUITES.map((s) => {
    const cases = report.cases.filter((c) => c.suite === s.name);
    if (!cases.length) return '';
    const st = totalsOf(cases);
    return `<tr><td class="id">${h(s.name)}</td><td>${h(s.description)}</td>${OUTCOME_STATUSES.map((k) => `<td>${st[k]}</td>`).join('')}</tr>`;
  }).join('');
  const caseRows = report.cases
    .map(
      (r) =>
        `<tr class="case" data-status="${h(r.outcome.status)}" id="case-${h(r.id)}"><td>${badge(r.outcome.status)}</td><td class="id">${h(r.id)}</td><td>${h(r.purpose)}<div><small>${h(r.spec)}${r.destructive ? ' · destructive' : ''} · ${r.durationMs.toFixed(1)} ms</small></div>${caseDetail(r)}</td></tr>`,
    )
    .join('\n');
  const identify = d.identify ? `<details><summary>Identify Controller</summary>${dl(Object.entries(d.identify))}</details>` : '';
  const nsIdentify = d.namespace ? `<details><summary>Identify Namespace ${report.options.nsid}</summary>${dl(Object.entries(d.namespace))}</details>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>phyr validate: ${h(d.model || report.target)} — ${verdict.toUpperCase()}</title>
<style>${STYLE}</style></head>
<body data-verdict="${verdict}">
<header><h1>phyr validate ${h(report.target)}</h1>
<div class="verdict" id="verdict">${verdict === 'fail' ? `FAIL: ${t.fail} case(s) failed` : 'PASS: no case failed'}</div>
<div>${h(d.model)} · serial ${h(d.serial)} · firmware ${h(d.firmware)} · ${h(pciId)} · ${h(report.startedAt)}</div></header>
<main>
<section id="summary"><h2>Summary</h2>
<div class="totals">${OUTCOME_STATUSES.map((k) => `<span id="total-${k}">${badge(k)} ${t[k]}</span>`).join('')}<span>of ${report.cases.length} cases in ${(report.durationMs / 1000).toFixed(1)} s</span></div>
<table><thead><tr><th>suite</th><th>checks</th>${OUTCOME_STATUSES.map((k) => `<th>${h(k)}</th>`).join('')}</tr></thead><tbody>${suiteRows}</tbody></table>
</section>
<section id="device"><h2>Device and platform</h2>
${dl([
  ['target', report.target],
  ['model', d.model],
  ['serial', d.serial],
  ['firmware', d.firmware],
  ['PCI id', pciId],
  ['NVMe version', d.version],
  ['kernel', report.platform.kernel],
  ['IOMMU', report.platform.iommu],
  ['node', report.platform.node],
  ['host', `${report.platform.hostname} (${report.platform.cpus} CPUs, ${report.platform.arch})`],
  ['options', `suites ${report.options.suites.join(',') || 'all'}${report.options.casePattern ? `, cases ${report.options.casePattern}` : ''}, nsid ${report.options.nsid}, ${report.options.destructive ? 'destructive' : 'non-destructive'}`],
  ['phyr', report.tool.version],
])}
${identify}${nsIdentify}
${report.quirks.length ? `<h2>Known deviations of this device</h2><ul>${report.quirks.map((q) => `<li><b>${h(q.id)}</b>: ${h(q.description)}</li>`).join('')}</ul>` : ''}
</section>
<section id="cases"><h2>Cases (<span id="shown">${report.cases.length}</span> shown)</h2>
<div id="filters"><button data-status="all">all</button>${OUTCOME_STATUSES.map((k) => `<button data-status="${k}">${k} (${t[k]})</button>`).join('')}</div>
<table><thead><tr><th>outcome</th><th>case</th><th>checks</th></tr></thead><tbody>
${caseRows}
</tbody></table></section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
