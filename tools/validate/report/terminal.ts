// The terminal report: a line per case as it finishes (with the running case shown on a
// live status line when the output is a terminal), failure details inline, and a closing
// summary per suite.
import { SUITE_NAMES } from '../suites';
import type { CaseResult, RunReport, ValidateCase } from '../types';
import { OUTCOME_STATUSES } from '../types';
import { outcomeSummary, totalsOf } from './build';

/** Where terminal output goes. */
export interface TerminalStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const COLOURS: Record<string, string> = { pass: '32', fail: '31;1', deviation: '33', skipped: '90', 'not-applicable': '90' };

/** Prints progress and the summary of a run. */
export class TerminalReporter {
  private readonly colour: boolean;
  private statusLine = false;

  constructor(private readonly out: TerminalStream, options: { colour?: boolean } = {}) {
    this.colour = options.colour ?? (!!out.isTTY && !process.env.NO_COLOR);
  }

  private paint(status: string, text: string): string {
    return this.colour ? `\x1b[${COLOURS[status] ?? '0'}m${text}\x1b[0m` : text;
  }

  private clearStatus(): void {
    if (this.statusLine) this.out.write('\r\x1b[2K');
    this.statusLine = false;
  }

  /** The header naming the device. */
  header(report: Pick<RunReport, 'target' | 'device' | 'platform' | 'quirks'>, count: number, destructive: boolean): void {
    const d = report.device;
    this.out.write(
      `phyr validate ${report.target}: ${d.model} (serial ${d.serial}, firmware ${d.firmware}, ` +
        `${d.vendorId.toString(16).padStart(4, '0')}:${d.deviceId.toString(16).padStart(4, '0')})\n` +
        `platform: kernel ${report.platform.kernel}, IOMMU ${report.platform.iommu}\n` +
        (report.quirks.length ? `known deviations of this device: ${report.quirks.map((q) => q.id).join(', ')}\n` : '') +
        `${count} case(s), ${destructive ? 'DESTRUCTIVE (writes to the media)' : 'non-destructive'}\n\n`,
    );
  }

  /** A case is starting (shown only on a terminal). */
  start(c: ValidateCase, index: number, total: number): void {
    if (!this.out.isTTY) return;
    this.clearStatus();
    this.out.write(`[${String(index).padStart(String(total).length)}/${total}] running ${c.id} ...`);
    this.statusLine = true;
  }

  /** A case finished. */
  result(r: CaseResult, index: number, total: number): void {
    this.clearStatus();
    const o = r.outcome;
    const label = this.paint(o.status, (o.status === 'fail' ? 'FAIL' : o.status).padEnd(14));
    const counter = `[${String(index).padStart(String(total).length)}/${total}]`;
    let line = `${counter} ${label} ${r.id}  (${r.durationMs.toFixed(1)} ms)`;
    if (o.status === 'skipped' || o.status === 'not-applicable') line += `: ${o.reason}`;
    if (o.status === 'deviation') line += `: ${o.quirk}`;
    const indent = ' '.repeat(counter.length + 1);
    const lines = [line];
    if (o.status === 'fail') {
      lines.push(`${indent}checks:   ${r.purpose} (${r.spec})`);
      if (o.sent) lines.push(`${indent}sent:     ${o.sent}`);
      lines.push(`${indent}expected: ${o.expected}`, `${indent}received: ${o.received}`);
      if (o.detail) lines.push(...o.detail.split('\n').map((l) => `${indent}${l}`));
    } else if (o.status === 'deviation') {
      lines.push(`${indent}expected: ${o.expected}`, `${indent}received: ${o.received}`);
    }
    this.out.write(`${lines.join('\n')}\n`);
  }

  /** The closing summary. */
  summary(report: RunReport): void {
    this.clearStatus();
    const rows = [['suite', ...OUTCOME_STATUSES]];
    for (const s of SUITE_NAMES) {
      const cases = report.cases.filter((c) => c.suite === s);
      if (!cases.length) continue;
      const t = totalsOf(cases);
      rows.push([s, ...OUTCOME_STATUSES.map((k) => String(t[k]))]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const table = rows.map((r) => r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')).join('\n');
    const t = report.totals;
    const failed = report.cases.filter((c) => c.outcome.status === 'fail');
    this.out.write(`\n${table}\n\n`);
    if (failed.length) this.out.write(`failed: ${failed.map((c) => `${c.id} (${outcomeSummary(c.outcome)})`).join('\n        ')}\n`);
    const verdict = t.fail ? this.paint('fail', 'FAIL') : this.paint('pass', 'PASS');
    this.out.write(
      `${verdict}: ${OUTCOME_STATUSES.map((k) => `${t[k]} ${k}`).join(', ')} of ${report.cases.length} case(s) in ${(report.durationMs / 1000).toFixed(1)} s\n`,
    );
  }
}
