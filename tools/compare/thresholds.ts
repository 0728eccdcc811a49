// `--fail-if EXPR`: a limit on the relative change of one metric against the baseline,
// e.g. `iops<-5%` (fail when IOPS fell by more than 5 %) or `p99>+10%` (fail when the
// 99th percentile latency grew by more than 10 %).
import { CompareUsageError } from './errors';
import { DIRECTIONS, type Direction } from './metrics';

/** A metric a threshold names. */
export type Metric = { kind: 'iops' } | { kind: 'bw' } | { kind: 'cpu' } | { kind: 'percentile'; q: number };

/** One parsed `--fail-if` expression. */
export interface Threshold {
  /** The expression as written. */
  text: string;
  metric: Metric;
  /** Only this direction; absent: every direction the baseline job did IO in. */
  direction?: Direction;
  /** `<`: broken when the change is below the limit; `>`: when it is above. */
  op: '<' | '>';
  /** The limit, in percent of the baseline's value (signed). */
  limitPercent: number;
}

/** The accepted forms, for every error message about a threshold. */
export const THRESHOLD_FORMS = "METRIC<CHANGE% or METRIC>CHANGE%, METRIC one of iops, bw, cpu (CPU ns per IO), pN (a latency percentile the inputs carry: p50, p99, p99.9, ...), optionally prefixed by a direction (read., write., trim., mixed.; not for cpu), CHANGE a signed percentage: e.g. 'iops<-5%', 'bw<-5%', 'p99>+10%', 'read.p99.9>+10%', 'cpu>+10%'";

const FORM = /^\s*(?:(read|write|trim|mixed)\.)?(iops|bw|cpu|p(\d+(?:\.\d+)?))\s*([<>])\s*([+-]?\d+(?:\.\d+)?)\s*%\s*$/;

/** Parses one `--fail-if` expression; a malformed one is a usage error naming the accepted forms. */
export function parseThreshold(text: string): Threshold {
  const m = FORM.exec(text);
  if (!m) throw new CompareUsageError(`--fail-if '${text}': not a threshold; the accepted forms: ${THRESHOLD_FORMS}`);
  const [, dir, name, q, op, limit] = m;
  let metric: Metric;
  if (q !== undefined) {
    const p = Number(q);
    if (!(p > 0 && p < 100)) throw new CompareUsageError(`--fail-if '${text}': percentile ${q} is outside (0, 100); the accepted forms: ${THRESHOLD_FORMS}`);
    metric = { kind: 'percentile', q: p };
  } else {
    metric = { kind: name as 'iops' | 'bw' | 'cpu' };
  }
  if (dir && metric.kind === 'cpu') throw new CompareUsageError(`--fail-if '${text}': cpu is per job, not per direction; write 'cpu${op}${limit}%'`);
  const direction = dir as Direction | undefined;
  if (direction !== undefined && !DIRECTIONS.includes(direction)) throw new CompareUsageError(`--fail-if '${text}': unknown direction; the accepted forms: ${THRESHOLD_FORMS}`);
  return { text, metric, ...(direction ? { direction } : {}), op: op as '<' | '>', limitPercent: Number(limit) };
}

/** The metric's name as the table heads it: iops, bw, p99.9, cpu. */
export function metricName(m: Metric): string {
  return m.kind === 'percentile' ? `p${m.q}` : m.kind;
}

/** Whether a change (percent) breaks the threshold. */
export function breaks(t: Threshold, changePercent: number): boolean {
  return t.op === '<' ? changePercent < t.limitPercent : changePercent > t.limitPercent;
}
