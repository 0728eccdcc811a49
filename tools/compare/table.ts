// The normal output of `phyr compare`: one table per job, one row per file and direction,
// each figure followed by its change against the baseline.
import type { Cell, Comparison, JobComparison } from './compare';
import { formatBw, formatChange, formatIops, formatNs } from './format';

function show(c: Cell, fmt: (x: number) => string): string {
  if (c.value === null) return '-';
  return c.changePercent === null ? fmt(c.value) : `${fmt(c.value)} (${formatChange(c.changePercent)})`;
}

function layout(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((x, i) => (i < 2 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ')}`.trimEnd());
}

function jobTable(j: JobComparison, c: Comparison): string[] {
  const head = ['file', 'dir', 'iops', 'bw', ...c.percentiles.map((q) => `${c.latency} p${q}`), 'cpu/IO'];
  const rows: string[][] = [head];
  const firstDir = j.rows[0]?.direction;
  for (const r of j.rows) {
    // CPU time is the job's, not a direction's: shown once, in the rows of its first direction.
    const cpu = r.direction === firstDir ? j.cpu.find((x) => x.file === r.file) : undefined;
    const cpuText = cpu ? `${show(cpu.nsPerIo, (x) => `${x.toFixed(1)}ns`)}${cpu.derived && cpu.nsPerIo.value !== null ? '*' : ''}` : '';
    rows.push([r.file, r.direction, show(r.iops, formatIops), show(r.bwBytes, formatBw), ...c.percentiles.map((q) => show(r.latency[String(q)], formatNs)), cpuText]);
  }
  const title = `job '${j.name}'${j.occurrence ? ` (entry ${j.occurrence + 1} of that name)` : ''}`;
  return j.rows.length ? [title, ...layout(rows)] : [title, '  no IO in any file'];
}

/** The comparison as text: header, tables, unmatched jobs, thresholds. */
export function formatComparison(c: Comparison): string {
  const out: string[] = [];
  out.push(`baseline: ${c.files[0].file} (${c.files[0].writer})`);
  for (const f of c.files.slice(1)) out.push(`compared: ${f.file} (${f.writer})`);
  out.push(`changes are relative to the baseline; latency: ${c.latency} percentiles`, '');
  for (const j of c.jobs) out.push(...jobTable(j, c), '');
  if (c.jobs.some((j) => j.cpu.some((x) => x.derived && x.nsPerIo.value !== null))) {
    out.push('* CPU ns per IO derived from usr_cpu + sys_cpu, job_runtime and total IOs (a fio document carries no per-IO CPU figure)', '');
  }
  if (c.unmatched.length) {
    out.push('jobs not matched (compared by name, in order):');
    for (const u of c.unmatched) out.push(`  '${u.job}'${u.occurrence ? ` (entry ${u.occurrence + 1})` : ''} is in ${u.in}, not in ${u.missingFrom}`);
    out.push('');
  }
  if (c.thresholds.length) {
    out.push('thresholds:');
    for (const t of c.thresholds) {
      if (t.broken.length === 0) out.push(`  ${t.threshold}: ok`);
      else for (const b of t.broken) out.push(`  ${t.threshold}: BROKEN: ${b.message}`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
