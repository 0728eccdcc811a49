// Report formatting: fio's "normal" text (per-job blocks and a group summary) and fio's
// JSON schema (json, json+ adding histogram bins), plus a `phyr` section with what fio
// has no field for. Pure functions of the results, so they are tested without a device.
import { steadystateJson, steadystateLine } from './steadystate';
import {
  type DirectionResult,
  directionOf,
  directionRuntimeNs,
  type JobResult,
  type LatencySeries,
  latencyBuckets,
  mean,
  mergeSeries,
  mixedDirection,
  percentile,
  stddev,
  totalIos,
} from './results';
import { DEFAULT_PERCENTILE_SERIES, type PercentileSeries } from './job';
import { statDev } from './samples';
import { errorText } from './options-errors';
import { num2str, SIGNIFICANT_FIGURES } from './num2str';

/**
 * The JSON's producer field: phyr names itself ("phyr version") where fio writes its own
 * version. fio's JSON readers (fio_jsonplus_clat2csv among them) read the jobs, not that field.
 */
export const VERSION_KEY = 'phyr version';

/** Run-wide facts printed with the report. */
export interface RunInfo {
  target: string;
  targetDescription: string;
  startedAt: Date;
  /** IOMMU faults the target saw; null: the target has no IOMMU (the null target), so none is reported. */
  iommuFaults: number | null;
  /** The null target: no device was driven (the JSON's phyr block says device "none"). */
  noDevice?: boolean;
  memcpyBytesPerSecond?: number;
  version: string;
  /** fio's "global options": options given before the first --name and in [global], as written. */
  globalOptions?: Record<string, string>;
}

const DEPTH_KEYS = ['1', '2', '4', '8', '16', '32', '>=64'];

function fixed(v: number, digits = 2): string {
  return v.toFixed(digits);
}

/** fio's scaled number for IOPS (base 1000): 1234567 -> "1235k" at fio's 4 significant figures. */
export function scaleNumber(n: number, sigFigs: number = SIGNIFICANT_FIGURES.default): string {
  return num2str(n, 1000, sigFigs, ['', 'k', 'M', 'G', 'T', 'P']);
}

/** fio's byte formatting: "4821MiB", "14.2GiB", "16.0MiB" at fio's 4 significant figures. */
export function scaleBytes(n: number, base: 1024 | 1000, sigFigs: number = SIGNIFICANT_FIGURES.default): string {
  const units = base === 1024 ? ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] : ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  return num2str(n, base, sigFigs, units);
}

function bwPerSecond(bytes: number, runtimeNs: number): number {
  return runtimeNs > 0 ? (bytes * 1e9) / runtimeNs : 0;
}

/** Picks fio's display unit for a latency line (nsec, usec or msec). */
function latUnit(s: LatencySeries): { name: string; div: number } {
  if (s.min > 2_000_000 && s.max > 99_999_999) return { name: 'msec', div: 1e6 };
  if (s.min > 2_000 && s.max > 99_999) return { name: 'usec', div: 1e3 };
  return { name: 'nsec', div: 1 };
}

function latLine(label: string, s: LatencySeries): string {
  const u = latUnit(s);
  const num = (v: number) => (u.div === 1 ? String(Math.round(v)) : String(Math.round(v / u.div)));
  return `${label} (${u.name}): min=${num(s.min)}, max=${num(s.max)}, avg=${fixed(mean(s) / u.div).padStart(5)}, stdev=${fixed(stddev(s) / u.div).padStart(5)}`;
}

function percentileBlock(s: LatencySeries, list: number[], label = 'clat'): string[] {
  const values = list.map((p) => percentile(s, p));
  // fio's rule (stat.c show_clat_percentiles): scale by the smallest and largest value.
  const minv = Math.min(...values), maxv = Math.max(...values);
  let div = 1;
  let unit = 'nsec';
  if (minv > 2_000_000 && maxv > 99_999_999) [div, unit] = [1e6, 'msec'];
  else if (minv > 2_000 && maxv > 99_999) [div, unit] = [1e3, 'usec'];
  const width = Math.max(5, ...values.map((v) => String(Math.round(v / div)).length));
  const cells = list.map((p, i) => `${p.toFixed(2).padStart(5)}th=[${String(Math.round(values[i] / div)).padStart(width)}]`);
  const lines = [`    ${label} percentiles (${unit}):`];
  for (let i = 0; i < cells.length; i += 4) lines.push(`     | ${cells.slice(i, i + 4).join(', ')}${i + 4 < cells.length ? ',' : ''}`);
  return lines;
}

/** The series a result reports percentiles of (fio's default: clat only). */
export function percentileSeriesOf(r: JobResult): PercentileSeries {
  return r.percentileSeries ?? DEFAULT_PERCENTILE_SERIES;
}

const SERIES_KEYS = ['slat', 'clat', 'lat'] as const;

/** fio's group aggregate bandwidth per direction (rs->agg): the group's bytes over its longest run, bytes/s. */
export type GroupAggregate = Record<'read' | 'write' | 'trim' | 'mixed', number>;

/** The aggregates of each reporting group's results, by group id. */
export function groupAggregates(results: JobResult[]): Map<number, GroupAggregate> {
  const out = new Map<number, GroupAggregate>();
  for (const g of new Set(results.map((r) => r.groupId))) {
    const members = results.filter((r) => r.groupId === g);
    const agg = (of: (r: JobResult) => DirectionResult, run: (r: JobResult) => number) => {
      // fio: iobytes x 1000 / max_run, the run in whole ms.
      const runMs = Math.max(0, ...members.filter((r) => of(r).ios > 0).map((r) => Math.round(run(r) / 1e6)));
      return runMs ? Math.floor((members.reduce((a, r) => a + of(r).bytes, 0) * 1000) / runMs) : 0;
    };
    out.set(g, {
      read: agg((r) => r.read, (r) => directionRuntimeNs(r, 'read')),
      write: agg((r) => r.write, (r) => directionRuntimeNs(r, 'write')),
      trim: agg((r) => directionOf(r, 'trim'), (r) => directionRuntimeNs(r, 'trim')),
      mixed: agg(mixedDirection, (r) => mixedDirection(r).runtimeNs ?? r.runtimeNs),
    });
  }
  return out;
}

// fio's convert_agg_kbytes_percent: the job's mean sample (truncated to an integer, KiB/s)
// as a share of the group's aggregate, at most 100 %; 100 % when the aggregate is <= 1 KiB/s.
function aggPercent(aggBytes: number, meanKiB: number): number {
  if (aggBytes <= 1024) return 100;
  return Math.min(100, (Math.trunc(meanKiB) * 100) / (aggBytes / 1024));
}

// fio's "bw (  KiB/s)" and "iops" lines of a direction (stat.c show_ddir_status): statistics
// over the job's interval samples, printed when it took any.
function sampleLines(d: DirectionResult, aggBytes: number): string[] {
  const out: string[] = [];
  const bw = d.bwStat;
  if (bw && bw.samples > 0) {
    let [min, max, mean, dev, unit] = [bw.min, bw.max, bw.mean, statDev(bw), 'KiB'];
    const per = aggPercent(aggBytes, mean);
    if (mean > 1024 * 1024) {
      // fio divides min and max as integers, mean and stdev as doubles.
      [min, max, mean, dev, unit] = [Math.floor(min / 1024), Math.floor(max / 1024), mean / 1024, dev / 1024, 'MiB'];
    }
    out.push(`   bw (${unit.padStart(5)}/s): min=${String(min).padStart(5)}, max=${String(max).padStart(5)}, per=${per.toFixed(2)}%, avg=${mean.toFixed(2).padStart(5)}, stdev=${dev.toFixed(2).padStart(5)}, samples=${bw.samples}`);
  }
  const io = d.iopsStat;
  if (io && io.samples > 0) {
    out.push(`   iops        : min=${String(io.min).padStart(5)}, max=${String(io.max).padStart(5)}, avg=${io.mean.toFixed(2).padStart(5)}, stdev=${statDev(io).toFixed(2).padStart(5)}, samples=${io.samples}`);
  }
  return out;
}

function directionBlock(name: 'read' | 'write' | 'trim' | 'mixed', d: DirectionResult, runtimeNs: number, percentiles: number[], which: PercentileSeries, aggBytes = 0, sig: number = SIGNIFICANT_FIGURES.default): string[] {
  // A phase that took no time (verify_only's dry-run writes, counted but never issued) has
  // no rate or latency to show: fio leaves its block out too.
  if (d.ios === 0 || runtimeNs === 0) return [];
  const bw = bwPerSecond(d.bytes, runtimeNs);
  const iops = runtimeNs > 0 ? (d.ios * 1e9) / runtimeNs : 0;
  return [
    `  ${name}: IOPS=${scaleNumber(iops, sig)}, BW=${scaleBytes(bw, 1024, sig)}/s (${scaleBytes(bw, 1000, sig)}/s)(${scaleBytes(d.bytes, 1024, sig)}/${Math.round(runtimeNs / 1e6)}msec)`,
    latLine('    slat', d.slat),
    latLine('    clat', d.clat),
    latLine('     lat', d.lat),
    // fio's order: slat, clat, then lat percentiles, each when asked for (stat.c show_ddir_status).
    ...SERIES_KEYS.flatMap((k) => (which[k] && d[k].count > 0 ? percentileBlock(d[k], percentiles, k) : [])),
    ...sampleLines(d, aggBytes),
  ];
}

function latencyDistributionLines(r: JobResult): string[] {
  const all = mergeLat(r);
  const b = latencyBuckets(all);
  const lines: string[] = [];
  for (const [unit, rec] of [['nsec', b.ns], ['usec', b.us], ['msec', b.ms]] as const) {
    const parts = Object.entries(rec).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k}=${fixed(v)}%`);
    if (parts.length) lines.push(`  lat (${unit})   : ${parts.join(', ')}`);
  }
  return lines;
}

function mergeLat(r: JobResult): LatencySeries {
  const live = [r.read.lat, r.write.lat, directionOf(r, 'trim').lat].filter((s) => s.count > 0);
  return live.length === 1 ? live[0] : live.length ? mergeSeries(live) : r.read.lat;
}

function depthLine(r: JobResult): string {
  const total = r.depthHist.reduce((a, b) => a + b, 0) || 1;
  return `  IO depths    : ${DEPTH_KEYS.map((k, i) => `${k}=${fixed((100 * r.depthHist[i]) / total, 1)}%`).join(', ')}`;
}

/** The per-job block of fio's normal output. */
export function formatJobNormal(r: JobResult, percentiles: number[], info: RunInfo, agg: GroupAggregate = groupAggregates([r]).get(r.groupId)!): string {
  const ios = totalIos(r);
  const runtime = Math.max(1, r.runtimeNs);
  const cpuPct = (ns: number) => fixed((100 * ns) / runtime / Math.max(1, r.jobs));
  const lines = [
    `${r.name}: (groupid=${r.groupId}, jobs=${r.jobs}): err=${String(r.error).padStart(2)}: pid=${process.pid}: ${info.startedAt.toString().slice(0, 24)}`,
    ...(r.errorMessage ? [`  error: ${r.errorMessage}`] : []),
    ...(r.unifiedRw !== 'mixed'
      ? [
          ...directionBlock('read', r.read, directionRuntimeNs(r, 'read'), percentiles, percentileSeriesOf(r), agg.read, r.significantFigures),
          ...directionBlock('write', r.write, directionRuntimeNs(r, 'write'), percentiles, percentileSeriesOf(r), agg.write, r.significantFigures),
          ...directionBlock('trim', directionOf(r, 'trim'), directionRuntimeNs(r, 'trim'), percentiles, percentileSeriesOf(r), agg.trim, r.significantFigures),
        ]
      : []),
    // unified_rw_reporting=mixed|both: fio's "mixed" block, the directions summed.
    ...(r.unifiedRw === 'mixed' || r.unifiedRw === 'both' ? directionBlock('mixed', mixedDirection(r), mixedDirection(r).runtimeNs ?? r.runtimeNs, percentiles, percentileSeriesOf(r), agg.mixed, r.significantFigures) : []),
    ...syncBlock(r, percentiles),
    ...latencyDistributionLines(r),
    `  cpu          : usr=${cpuPct(r.usrNs)}%, sys=${cpuPct(r.sysNs)}%, ctx=${r.ctx}, majf=${r.majf}, minf=${r.minf}, per IO=${Math.round(r.phyr.cpuNsPerIo)}ns`,
    depthLine(r),
    // unified_rw_reporting=mixed: fio counts every IO in the first column.
    r.unifiedRw === 'mixed' ? `     issued rwts: total=${totalIos(r)},0,0,0 short=0,0,0,0 dropped=0,0,0,0` : `     issued rwts: total=${r.read.ios},${r.write.ios},${directionOf(r, 'trim').ios},0 short=0,0,0,0 dropped=0,0,0,0`,
    // continue_on_error: fio's error counts, after the issued line (stat.c show_thread_status_normal).
    ...(r.errorCounts ? [`     errors    : total=${r.errorCounts.total}, first_error=${r.errorCounts.first}/<${r.errorCounts.first ? errorText(r.errorCounts.first) : 'Success'}>`] : []),
    // fio's latency target line, printed for every job (stat.c: depth is iodepth without a target).
    `     latency   : target=${r.latency?.targetNs ?? 0}, window=${r.latency?.windowUs ?? 0}, percentile=${(r.latency?.percentile ?? 100).toFixed(2)}%, depth=${r.latency?.depth ?? r.header.iodepth}`,
    // fio prints its steady-state line last in the job's block; phyr's own lines follow it.
    ...(r.steadystate ? [steadystateLine(r.steadystate, scaleBytes, scaleNumber)] : []),
    `  phyr         : dptr=${r.phyr.dptr} (prp=${r.phyr.prpCommands}, sgl=${r.phyr.sglCommands}), splits=${r.phyr.splits}, bounces=${r.phyr.bounces}, ios=${ios}`,
    `  phyr per IO  : driver=${Math.round(r.phyr.driverNsPerIo)}ns, loop busy=${Math.round(r.phyr.busyNsPerIo)}ns, thread cpu=${Math.round(r.phyr.cpuNsPerIo)}ns (cpu includes polling an empty queue)`,
    ...(r.latency?.steps ? [`  phyr latency : ${latencyStepsText(r.latency.steps, r.latency.stepsDropped ?? 0)}`] : []),
  ];
  // With verify_interval a header (and so a count) covers an interval, not a block.
  const unit = r.verifyInterval ? `intervals of ${r.verifyInterval} bytes` : 'blocks';
  if (r.verifyChecked || r.verifyErrors) lines.push(`  verify       : ${unit} checked=${r.verifyChecked}, errors=${r.verifyErrors}${r.verify !== 'none' ? `, checksum=${r.verify}` : ''}`);
  for (const f of r.verifyFailures.slice(0, 10)) lines.push(`  verify error : ${formatVerifyFailure(f)}`);
  if (r.ioLogStalls) lines.push(`  phyr io log  : the job thread waited ${r.ioLogStalls.count} time(s), ${Math.round(r.ioLogStalls.ns / 1e6)} ms in all, for the per-IO latency log to be written (its figures include those waits)${r.ioLogStalls.dropped ? `; ${r.ioLogStalls.dropped} IO(s) left out of the log when the job was stopped` : ''}`);
  if (r.intervalDrops) lines.push(`  phyr samples : ${r.intervalDrops} interval sample(s) lost: the sample ring was full (the JS thread did not drain it for about a minute); bw/iops statistics miss them`);
  return lines.join('\n');
}

/** One verify failure, the way it is printed and logged. */
export function formatVerifyFailure(f: JobResult['verifyFailures'][number]): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const kind = (k: string | undefined) => (k ? `, checksum=${k}` : '');
  return `LBA ${f.lba}: ${f.reason}; expected header {lba=${f.expected.lba}, seq=${f.expected.seq ?? 'any'}, seed=${hex(f.expected.seed)}${kind(f.expected.kind)}}, found {magic=${hex(f.found.magic)}, lba=${f.found.lba}, seq=${f.found.seq}, seed=${hex(f.found.seed)}${kind(f.found.kind)}}`;
}

function groupSummary(groupId: number, results: JobResult[]): string[] {
  const sig = results[0]?.significantFigures ?? SIGNIFICANT_FIGURES.default;
  const lines = [`Run status group ${groupId} (all jobs):`];
  // unified_rw_reporting: fio's group summary has a MIXED line (mixed: it alone).
  const mode = results[0]?.unifiedRw ?? 'none';
  const dirs = [['   READ', 'read'], ['  WRITE', 'write'], ['   TRIM', 'trim'], ['  MIXED', 'mixed']] as const;
  const shown = dirs.filter(([, d]) => (d === 'mixed' ? mode !== 'none' : mode !== 'mixed'));
  const of = (r: JobResult, d: (typeof dirs)[number][1]) => (d === 'mixed' ? mixedDirection(r) : directionOf(r, d));
  const runOf = (r: JobResult, d: (typeof dirs)[number][1]) => (d === 'mixed' ? (mixedDirection(r).runtimeNs ?? r.runtimeNs) : directionRuntimeNs(r, d));
  for (const [label, d] of shown) {
    // A direction without runtime (verify_only's dry run) is left out, as fio leaves it.
    const live = results.filter((r) => of(r, d).ios > 0 && runOf(r, d) > 0);
    if (!live.length) continue;
    const bytes = live.reduce((a, r) => a + of(r, d).bytes, 0);
    const runMin = Math.min(...live.map((r) => runOf(r, d)));
    const runMax = Math.max(...live.map((r) => runOf(r, d)));
    const agg = bwPerSecond(bytes, runMax);
    const per = live.map((r) => bwPerSecond(of(r, d).bytes, runOf(r, d)));
    const lo = Math.min(...per), hi = Math.max(...per);
    lines.push(
      `${label}: bw=${scaleBytes(agg, 1024, sig)}/s (${scaleBytes(agg, 1000, sig)}/s), ${scaleBytes(lo, 1024, sig)}/s-${scaleBytes(hi, 1024, sig)}/s (${scaleBytes(lo, 1000, sig)}/s-${scaleBytes(hi, 1000, sig)}/s), io=${scaleBytes(bytes, 1024, sig)} (${scaleBytes(bytes, 1000, sig)}), run=${Math.round(runMin / 1e6)}-${Math.round(runMax / 1e6)}msec`,
    );
  }
  return lines;
}

// The latency target search's decisions on one line: each ramp as low<depth<high, then the
// final window and the end.
function latencyStepsText(steps: NonNullable<NonNullable<JobResult['latency']>['steps']>, dropped: number): string {
  const parts = steps.map((s) => (s.step === 'up' || s.step === 'down' ? `${s.step} ${s.low}/${s.depth}/${s.high}` : `${s.step} at ${s.depth}`));
  return `search (low/depth/high) ${parts.length ? parts.join(', ') : 'made no decision'}${dropped ? `, ${dropped} more not kept` : ''}`;
}

/** fio's normal output: header, per-job blocks, group summaries, phyr's run facts. */
export function formatNormal(results: JobResult[], percentiles: (r: JobResult) => number[], info: RunInfo): string {
  const out: string[] = [];
  out.push(`phyr bench ${info.version} (fio-compatible output) on ${info.target}: ${info.targetDescription}`);
  for (const r of results) for (const j of r.sections ?? [r]) out.push(`${j.name}: (g=${r.groupId}): rw=${j.header.rw}, bs=${j.header.bs}, ioengine=phyr, iodepth=${j.header.iodepth}`);
  out.push('');
  const aggs = groupAggregates(results);
  for (const r of results) out.push(formatJobNormal(r, percentiles(r), info, aggs.get(r.groupId)), '');
  const groups = [...new Set(results.map((r) => r.groupId))];
  for (const g of groups) out.push(...groupSummary(g, results.filter((r) => r.groupId === g)), '');
  out.push(`phyr: target=${info.target} (${info.targetDescription}), ${info.iommuFaults === null ? 'no device, no IOMMU' : `iommu faults=${info.iommuFaults}`}`);
  return out.join('\n') + '\n';
}

function seriesJson(s: LatencySeries, withPercentiles: number[] | undefined, withBins: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {
    min: s.min,
    max: s.max,
    mean: mean(s),
    stddev: stddev(s),
    N: s.count,
  };
  if (withPercentiles) {
    const p: Record<string, number> = {};
    for (const q of withPercentiles) p[q.toFixed(6)] = percentile(s, q);
    o.percentile = p;
  }
  // fio writes no bins for a series with no samples (a direction that did no IO); an empty
  // object there makes fio_jsonplus_clat2csv fail.
  if (withBins && s.count > 0) {
    const bins: Record<string, number> = {};
    for (let i = 0; i < s.bins.length; i += 2) bins[String(s.bins[i])] = s.bins[i + 1];
    o.bins = bins;
  }
  return o;
}

// fio's "sync" object: the fsync=N Flushes, with percentiles once there are any (fio's
// shape); a job without them has fio's all-zero entry.
function syncJson(r: JobResult, list: number[]): Record<string, unknown> {
  if (!r.sync || r.sync.ios === 0) return { total_ios: 0, lat_ns: { min: 0, max: 0, mean: 0, stddev: 0, N: 0 } };
  return { total_ios: r.sync.ios, lat_ns: seriesJson(r.sync.lat, list, false) };
}

// fio's normal-output block for the syncs of fsync=N.
function syncBlock(r: JobResult, list: number[]): string[] {
  if (!r.sync || r.sync.ios === 0) return [];
  return ['  fsync/fdatasync/sync_file_range:', latLine('    sync', r.sync.lat), ...percentileBlock(r.sync.lat, list, 'sync')];
}

// fio's per-sample fields of a direction (stat.c add_ddir_status_json); fio's zeros when the
// job took no samples in that direction.
function sampleJson(d: DirectionResult, aggBytes: number): Record<string, number> {
  const bw = d.bwStat, io = d.iopsStat;
  const b = bw && bw.samples > 0 ? { bw_min: bw.min, bw_max: bw.max, bw_agg: aggPercent(aggBytes, bw.mean), bw_mean: bw.mean, bw_dev: statDev(bw) } : { bw_min: 0, bw_max: 0, bw_agg: 0, bw_mean: 0, bw_dev: 0 };
  const i = io && io.samples > 0 ? { iops_min: io.min, iops_max: io.max, iops_mean: io.mean, iops_stddev: statDev(io) } : { iops_min: 0, iops_max: 0, iops_mean: 0, iops_stddev: 0 };
  return { ...b, bw_samples: bw?.samples ?? 0, ...i, iops_samples: io?.samples ?? 0 };
}

function directionJson(d: DirectionResult, runtimeNs: number, percentiles: number[], plus: boolean, which: PercentileSeries = DEFAULT_PERCENTILE_SERIES, aggBytes = 0): Record<string, unknown> {
  // fio (stat.c add_ddir_lat_json): a series gets "percentile" — and in json+ its "bins" —
  // only when its percentiles are asked for and it has samples.
  const series = (s: LatencySeries, on: boolean) => seriesJson(s, on && d.ios ? percentiles : undefined, on && plus);
  const bwBytes = bwPerSecond(d.bytes, runtimeNs);
  const iops = runtimeNs > 0 ? (d.ios * 1e9) / runtimeNs : 0;
  return {
    io_bytes: d.bytes,
    io_kbytes: Math.floor(d.bytes / 1024),
    bw_bytes: Math.round(bwBytes),
    bw: Math.round(bwBytes / 1024),
    iops,
    runtime: d.ios ? Math.round(runtimeNs / 1e6) : 0,
    total_ios: d.ios,
    short_ios: 0,
    drop_ios: 0,
    slat_ns: series(d.slat, which.slat),
    clat_ns: series(d.clat, which.clat),
    lat_ns: series(d.lat, which.lat),
    // Statistics over the job thread's interval samples (bwavgtime), in fio's units.
    ...sampleJson(d, aggBytes),
  };
}

/** fio's JSON (json or json+), with a `phyr` section per job and for the run. */
export function formatJson(results: JobResult[], percentiles: (r: JobResult) => number[], info: RunInfo, plus: boolean): string {
  const ts = info.startedAt;
  const empty = directionJson({ ios: 0, bytes: 0, slat: zero(), clat: zero(), lat: zero() }, 0, [], false);
  const aggs = groupAggregates(results);
  const doc = {
    [VERSION_KEY]: `phyr-${info.version}`,
    timestamp: Math.floor(ts.getTime() / 1000),
    timestamp_ms: ts.getTime(),
    time: ts.toString().slice(0, 24),
    'global options': info.globalOptions ?? {},
    jobs: results.map((r) => {
      const lat = mergeLat(r);
      const b = latencyBuckets(lat);
      const total = r.depthHist.reduce((a, x) => a + x, 0) || 1;
      const depth: Record<string, number> = {};
      DEPTH_KEYS.forEach((k, i) => (depth[k] = (100 * r.depthHist[i]) / total));
      const runtime = Math.max(1, r.runtimeNs);
      const ios = totalIos(r);
      const agg = aggs.get(r.groupId)!;
      return {
        jobname: r.name,
        groupid: r.groupId,
        error: r.error,
        eta: 0,
        elapsed: Math.round(r.runtimeNs / 1e9),
        'job options': r.options,
        // unified_rw_reporting=mixed: fio writes "mixed" in place of read, write, trim and
        // sync; both: "mixed" after them.
        ...(r.unifiedRw !== 'mixed'
          ? {
              read: directionJson(r.read, directionRuntimeNs(r, 'read'), percentiles(r), plus, percentileSeriesOf(r), agg.read),
              write: directionJson(r.write, directionRuntimeNs(r, 'write'), percentiles(r), plus, percentileSeriesOf(r), agg.write),
              trim: r.trim ? directionJson(r.trim, directionRuntimeNs(r, 'trim'), percentiles(r), plus, percentileSeriesOf(r), agg.trim) : empty,
              sync: syncJson(r, percentiles(r)),
            }
          : {}),
        ...(r.unifiedRw === 'mixed' || r.unifiedRw === 'both' ? { mixed: directionJson(mixedDirection(r), mixedDirection(r).runtimeNs ?? r.runtimeNs, percentiles(r), plus, percentileSeriesOf(r), agg.mixed) } : {}),
        job_runtime: Math.round(r.runtimeNs / 1e6),
        usr_cpu: (100 * r.usrNs) / runtime / Math.max(1, r.jobs),
        sys_cpu: (100 * r.sysNs) / runtime / Math.max(1, r.jobs),
        ctx: r.ctx,
        // The job thread's own page faults while measuring (getrusage of the thread, as fio
        // counts a thread job's), summed over merged clones.
        majf: r.majf,
        minf: r.minf,
        iodepth_level: depth,
        latency_ns: b.ns,
        latency_us: b.us,
        latency_ms: b.ms,
        // continue_on_error: fio's two counts, between latency_ms and latency_depth.
        ...(r.errorCounts ? { total_err: r.errorCounts.total, first_error: r.errorCounts.first } : {}),
        latency_depth: r.latency?.depth ?? r.header.iodepth,
        latency_target: r.latency?.targetNs ?? 0,
        latency_percentile: r.latency?.percentile ?? 100.0,
        latency_window: r.latency?.windowUs ?? 0,
        ...(r.steadystate ? { steadystate: steadystateJson(r.steadystate) } : {}),
        phyr: {
          dptr: r.phyr.dptr,
          prp_commands: r.phyr.prpCommands,
          sgl_commands: r.phyr.sglCommands,
          splits: r.phyr.splits,
          bounces: r.phyr.bounces,
          cpu_ns_per_io: r.phyr.cpuNsPerIo,
          driver_ns_per_io: r.phyr.driverNsPerIo,
          busy_ns_per_io: r.phyr.busyNsPerIo,
          ios,
          ...(r.verify !== 'none' ? { verify: r.verify } : {}),
          verify_checked: r.verifyChecked,
          verify_errors: r.verifyErrors,
          verify_failures: r.verifyFailures,
          ...(r.errorMessage ? { error_message: r.errorMessage } : {}),
          ...(r.intervalDrops ? { interval_drops: r.intervalDrops } : {}),
          ...(r.ioLogStalls ? { io_log_stalls: r.ioLogStalls.count, io_log_stall_ns: r.ioLogStalls.ns, io_log_dropped: r.ioLogStalls.dropped } : {}),
          ...(r.timeline ? { timeline: r.timeline } : {}),
          ...(r.latency?.steps ? { latency_steps: r.latency.steps, ...(r.latency.stepsDropped ? { latency_steps_dropped: r.latency.stepsDropped } : {}) } : {}),
        },
      };
    }),
    disk_util: [],
    phyr: {
      version: info.version,
      target: info.target,
      target_description: info.targetDescription,
      ...(info.noDevice ? { device: 'none' } : {}),
      ...(info.iommuFaults !== null ? { iommu_faults: info.iommuFaults } : {}),
      ...(info.memcpyBytesPerSecond ? { memcpy_bytes_per_second: info.memcpyBytesPerSecond } : {}),
    },
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

function zero(): LatencySeries {
  return { count: 0, min: 0, max: 0, sum: 0, sumSquares: 0, bins: [] };
}
