// The JSON output of `phyr compare` (--output-format=json): the comparison with the same
// snake_case keys as phyr's other JSON.
import type { Cell, Comparison } from './compare';

const cell = (c: Cell) => ({ value: c.value, change_percent: c.changePercent });

/** The comparison as a JSON document. */
export function comparisonJson(c: Comparison): string {
  return JSON.stringify(
    {
      baseline: c.baseline,
      files: c.files,
      latency: c.latency,
      percentiles: c.percentiles,
      jobs: c.jobs.map((j) => ({
        jobname: j.name,
        occurrence: j.occurrence,
        rows: j.rows.map((r) => ({
          file: r.file,
          direction: r.direction,
          total_ios: r.ios,
          iops: cell(r.iops),
          bw_bytes: cell(r.bwBytes),
          [`${c.latency}_ns`]: Object.fromEntries(Object.entries(r.latency).map(([q, v]) => [Number(q).toFixed(6), cell(v)])),
        })),
        cpu_ns_per_io: j.cpu.map((x) => ({ file: x.file, ...cell(x.nsPerIo), derived: x.derived })),
      })),
      unmatched: c.unmatched.map((u) => ({ jobname: u.job, occurrence: u.occurrence, in: u.in, missing_from: u.missingFrom })),
      thresholds: c.thresholds.map((t) => ({
        threshold: t.threshold,
        ok: t.broken.length === 0,
        broken: t.broken.map((b) => ({ file: b.file, jobname: b.job, ...(b.direction ? { direction: b.direction } : {}), baseline: b.baseline, value: b.value, change_percent: b.changePercent, message: b.message })),
      })),
    },
    null,
    2,
  );
}
