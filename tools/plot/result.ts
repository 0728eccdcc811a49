// Reads a fio or phyr JSON result (fio's schema; phyr adds "phyr version" and its own
// "phyr" sections) into the plot's model. Only what the charts and the options table use is
// read; every field read is checked, and a wrong one is named with its JSON path.
import { PlotInputError } from './errors';
import { DIRECTIONS, type Direction, type DirectionLatency, type ResultJob, type Timeline, type TimelineDirection } from './types';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A scalar as the options table shows it; objects and arrays are left out. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The scalar fields of an object, in its order, as [key, text]. */
export function scalarFields(obj: unknown, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    const s = scalarText(v);
    if (s !== undefined) out.push([prefix + k, s]);
  }
  return out;
}

/** What produced a result document, from its version field; undefined if it is not one. */
export function resultProducer(doc: unknown): string | undefined {
  if (!isObject(doc) || !Array.isArray(doc.jobs)) return undefined;
  if (typeof doc['phyr version'] === 'string') return doc['phyr version'].startsWith('phyr') ? doc['phyr version'] : `phyr ${doc['phyr version']}`;
  if (typeof doc['fio version'] === 'string') return doc['fio version'];
  return undefined;
}

class Reader {
  constructor(private readonly file: string) {}

  fail(where: string, what: string): never {
    throw new PlotInputError(`${this.file}: ${where} ${what}`);
  }

  numbers(v: unknown, where: string, length: number, nullable: boolean): Array<number | null> {
    if (!Array.isArray(v)) this.fail(where, 'is not an array');
    if (v.length !== length) this.fail(where, `has ${v.length} entries; t_ms has ${length} (each timeline array has one entry per interval)`);
    return v.map((x, i) => {
      if (x === null && nullable) return null;
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) this.fail(`${where}[${i}]`, `is ${JSON.stringify(x)}, not a non-negative number${nullable ? ' or null' : ''}`);
      return x;
    });
  }

  timeline(v: unknown, where: string): Timeline {
    if (!isObject(v)) this.fail(where, 'is not an object');
    const interval = v.interval_ms;
    if (typeof interval !== 'number' || !(interval > 0)) this.fail(`${where}.interval_ms`, `is ${JSON.stringify(interval)}, not a positive number`);
    if (!Array.isArray(v.t_ms)) this.fail(`${where}.t_ms`, 'is not an array');
    const t = this.numbers(v.t_ms, `${where}.t_ms`, v.t_ms.length, false) as number[];
    const dirs: Partial<Record<Direction, TimelineDirection>> = {};
    for (const d of DIRECTIONS) {
      const dv = v[d];
      if (dv === undefined) continue;
      const w = `${where}.${d}`;
      if (!isObject(dv)) this.fail(w, 'is not an object');
      dirs[d] = {
        iops: this.numbers(dv.iops, `${w}.iops`, t.length, false) as number[],
        bw_bytes: this.numbers(dv.bw_bytes, `${w}.bw_bytes`, t.length, false) as number[],
        clat_p50_ns: this.numbers(dv.clat_p50_ns, `${w}.clat_p50_ns`, t.length, true),
        clat_p99_ns: this.numbers(dv.clat_p99_ns, `${w}.clat_p99_ns`, t.length, true),
        clat_p99_9_ns: this.numbers(dv.clat_p99_9_ns, `${w}.clat_p99_9_ns`, t.length, true),
      };
    }
    return { interval_ms: interval, t_ms: t, dirs };
  }

  /** A map of numeric keys to numbers (clat_ns.bins, clat_ns.percentile), sorted by key. */
  pairs(v: unknown, where: string): Array<[number, number]> {
    if (v === undefined) return [];
    if (!isObject(v)) this.fail(where, 'is not an object');
    const out: Array<[number, number]> = [];
    for (const [k, x] of Object.entries(v)) {
      const key = Number(k);
      if (!Number.isFinite(key)) this.fail(where, `has the key ${JSON.stringify(k)}, not a number`);
      if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(`${where}["${k}"]`, `is ${JSON.stringify(x)}, not a number`);
      out.push([key, x]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }

  job(v: unknown, i: number): ResultJob {
    const where = `jobs[${i}]`;
    if (!isObject(v)) this.fail(where, 'is not an object');
    const latency: ResultJob['latency'] = {};
    const totals: ResultJob['totals'] = {};
    for (const d of DIRECTIONS) {
      const dv = v[d];
      if (!isObject(dv)) continue;
      const ios = Number(dv.total_ios ?? 0);
      const bytes = Number(dv.io_bytes ?? 0);
      if (!(ios > 0 || bytes > 0)) continue;
      totals[d] = { iops: Number(dv.iops ?? 0), bw_bytes: Number(dv.bw_bytes ?? 0) };
      const read = (source: 'clat' | 'lat'): DirectionLatency | undefined => {
        const v = dv[`${source}_ns`];
        if (!isObject(v)) return undefined;
        const at = `${where}.${d}.${source}_ns`;
        const lat: DirectionLatency = { source, bins: this.pairs(v.bins, `${at}.bins`), percentiles: this.pairs(v.percentile, `${at}.percentile`) };
        return lat.bins.length + lat.percentiles.length > 0 ? lat : undefined;
      };
      const lat = read('clat') ?? read('lat');
      if (lat) latency[d] = lat;
    }
    const phyr = v.phyr;
    const timeline = isObject(phyr) && phyr.timeline !== undefined ? this.timeline(phyr.timeline, `${where}.phyr.timeline`) : undefined;
    return {
      name: typeof v.jobname === 'string' ? v.jobname : `job ${i + 1}`,
      options: scalarFields(v['job options']),
      latency,
      totals,
      timeline,
      phyr: scalarFields(phyr),
    };
  }
}

/** The run-level facts a result carries: time, target, machine, global options. */
function resultMeta(doc: Json): Array<[string, string]> {
  const meta: Array<[string, string]> = [];
  const time = scalarText(doc.time);
  if (time) meta.push(['time', time]);
  const phyr = doc.phyr;
  if (isObject(phyr)) {
    for (const [k, v] of scalarFields(phyr)) meta.push([k === 'version' ? 'phyr version' : k, v]);
    if (isObject(phyr.machine)) meta.push(...scalarFields(phyr.machine, 'machine.'));
  }
  if (!isObject(phyr) || !isObject(phyr.machine)) meta.push(['machine', 'not recorded in this result']);
  if (!isObject(phyr)) meta.push(['target', 'not recorded in this result (fio names its files in the job options)']);
  for (const [k, v] of scalarFields(doc['global options'])) meta.push([`global: ${k}`, v]);
  return meta;
}

/** Reads a parsed JSON document of `file`; refuses one that is not a fio/phyr result. */
export function readResult(file: string, doc: unknown): { producer: string; jobs: ResultJob[]; meta: Array<[string, string]> } {
  const producer = resultProducer(doc);
  if (!producer || !isObject(doc)) {
    throw new PlotInputError(`${file}: JSON, but not a fio or phyr result (it needs a "jobs" array and a "fio version" or "phyr version"); write one with --output-format=json or json+`);
  }
  const reader = new Reader(file);
  const jobs = (doc.jobs as unknown[]).map((j, i) => reader.job(j, i));
  return { producer, jobs, meta: resultMeta(doc) };
}
