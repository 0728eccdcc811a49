// fio's terse output, version 3 (--minimal, --output-format=terse): one semicolon-separated
// line per reported job, columns in fio's order (its HOWTO, "Terse output"). Every value is
// measured; the columns phyr takes no samples for are printed as fio prints a statistic it
// has no samples of (see docs/BENCH.md, "Terse output"). Pure function of the results.
import { groupAggregates, percentileSeriesOf, type GroupAggregate, type RunInfo } from './report';
import { statDev } from './samples';
import type { PercentileSeries } from './job';
import { type DirectionResult, directionOf, directionRuntimeNs, type JobResult, type LatencySeries, latencyBuckets, LAT_EDGES, LAT_EDGES_MS, mean, mergeSeries, mixedDirection, percentile, stddev } from './results';

/** The terse versions phyr writes (fio's default, 3). */
export const TERSE_VERSIONS = [3] as const;

/** fio's fixed number of percentile columns per direction (FIO_IO_U_LIST_MAX_LEN). */
const PERCENTILE_COLUMNS = 20;

const f6 = (v: number): string => v.toFixed(6);

// min;max;mean;dev in microseconds: min and max truncated to whole us, mean and dev as
// fractions (fio divides the ns figures by 1000 the same way). An empty series is fio's
// "0;0;0.000000;0.000000".
function latColumns(s: LatencySeries): string[] {
  if (s.count === 0) return ['0', '0', f6(0), f6(0)];
  return [String(Math.floor(s.min / 1000)), String(Math.floor(s.max / 1000)), f6(mean(s) / 1000), f6(stddev(s) / 1000)];
}

function percentileColumns(s: LatencySeries, list: number[]): string[] {
  const cols: string[] = [];
  for (let i = 0; i < PERCENTILE_COLUMNS; i++) {
    if (i < list.length) cols.push(`${f6(list[i])}%=${Math.floor(percentile(s, list[i]) / 1000)}`);
    else cols.push('0%=0');
  }
  return cols;
}

// One direction: kb;bw(KiB/s);iops;runtime(ms); slat; clat; clat percentiles; lat; then
// bw_min;bw_max;bw_agg%;bw_mean;bw_dev over the job's interval samples (samples.ts), or
// fio's "no samples" values when it took none (a run shorter than one interval).
function directionColumns(d: DirectionResult, runtimeNs: number, list: number[], which: PercentileSeries, aggBytes: number): string[] {
  // fio (stat.c show_ddir_status_terse): lat percentiles when asked for, else clat ones,
  // else none (every column 0%=0).
  const pct = which.lat ? percentileColumns(d.lat, list) : which.clat ? percentileColumns(d.clat, list) : percentileColumns(d.clat, []);
  const runtimeMs = d.ios > 0 ? Math.round(runtimeNs / 1e6) : 0;
  // fio's integer arithmetic: bw = ((1000 * bytes) / runtime_ms) / 1024, iops = 1000 * ios / runtime_ms.
  const bw = runtimeMs > 0 ? Math.floor(Math.floor((1000 * d.bytes) / runtimeMs) / 1024) : 0;
  const iops = runtimeMs > 0 ? Math.floor((1000 * d.ios) / runtimeMs) : 0;
  return [
    String(Math.floor(d.bytes / 1024)), String(bw), String(iops), String(runtimeMs),
    ...latColumns(d.slat),
    ...latColumns(d.clat),
    // fio prints the list's columns for a direction without IO too (each =0).
    ...pct,
    ...latColumns(d.lat),
    ...bwColumns(d, aggBytes),
  ];
}

// fio's terse bandwidth columns (stat.c show_ddir_status_terse): here the share of the
// group's aggregate divides the mean as a double by the aggregate's whole KiB/s.
function bwColumns(d: DirectionResult, aggBytes: number): string[] {
  const bw = d.bwStat;
  if (!bw || bw.samples === 0) return ['0', '0', `${f6(0)}%`, f6(0), f6(0)];
  const per = aggBytes ? Math.min(100, (bw.mean * 100) / Math.floor(aggBytes / 1024)) : 100;
  return [String(bw.min), String(bw.max), `${f6(per)}%`, f6(bw.mean), f6(statDev(bw))];
}

/** One job's terse v3 line (without the newline). */
export function formatJobTerse(r: JobResult, list: number[], info: RunInfo, agg: GroupAggregate = groupAggregates([r]).get(r.groupId)!): string {
  const runtime = Math.max(1, r.runtimeNs);
  const cpu = (ns: number) => `${f6((100 * ns) / runtime / Math.max(1, r.jobs))}%`;
  const depthTotal = r.depthHist.reduce((a, b) => a + b, 0);
  const depth = r.depthHist.map((n) => `${(depthTotal ? (100 * n) / depthTotal : 0).toFixed(1)}%`);
  const live = [r.read.lat, r.write.lat, directionOf(r, 'trim').lat].filter((s) => s.count > 0);
  const b = latencyBuckets(live.length ? mergeSeries(live) : r.read.lat);
  // Terse v3 has no nanosecond columns: fio adds the nanosecond buckets to the first
  // microsecond one (stat_calc_lat_nu) to keep the format unchanged.
  const ns = Object.values(b.ns).reduce((a, v) => a + v, 0);
  const us = LAT_EDGES.map((e, i) => (i === 0 ? ns : 0) + b.us[String(e)]);
  const ms = [...LAT_EDGES_MS.map((e) => b.ms[String(e)]), b.ms['>=2000']];
  const pct2 = (v: number) => `${v.toFixed(2)}%`;
  const cols = [
    '3', `phyr-${info.version}`, r.name, String(r.groupId), String(r.error),
    // unified_rw_reporting (fio's show_thread_status_terse_all): mixed puts the summed
    // direction where read's columns are and drops write's; both adds it after write's.
    ...(r.unifiedRw === 'mixed'
      ? directionColumns(mixedDirection(r), mixedDirection(r).runtimeNs ?? r.runtimeNs, list, percentileSeriesOf(r), agg.mixed)
      : [
          ...directionColumns(r.read, directionRuntimeNs(r, 'read'), list, percentileSeriesOf(r), agg.read),
          ...directionColumns(r.write, directionRuntimeNs(r, 'write'), list, percentileSeriesOf(r), agg.write),
          ...(r.unifiedRw === 'both' ? directionColumns(mixedDirection(r), mixedDirection(r).runtimeNs ?? r.runtimeNs, list, percentileSeriesOf(r), agg.mixed) : []),
        ]),
    cpu(r.usrNs), cpu(r.sysNs), String(r.ctx), String(r.majf), String(r.minf),
    ...depth,
    ...us.map(pct2),
    ...ms.map(pct2),
    // No disk utilisation columns: phyr's target is no kernel block device, and fio leaves
    // them out too when it has no disk to sample.
  ];
  // continue_on_error: fio appends total_err and first_error, before the description.
  if (r.errorCounts) cols.push(String(r.errorCounts.total), String(r.errorCounts.first));
  const description = r.options.description;
  if (description) cols.push(description);
  return cols.join(';');
}

/** fio's terse v3 output: one line per reported job. */
export function formatTerse(results: JobResult[], percentiles: (r: JobResult) => number[], info: RunInfo): string {
  const aggs = groupAggregates(results);
  return results.map((r) => formatJobTerse(r, percentiles(r), info, aggs.get(r.groupId)) + '\n').join('');
}
