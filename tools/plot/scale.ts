// Axis scales: value -> pixel, and the ticks to label. Linear axes get "nice" steps
// (1, 2, 5 x 10^k); log axes get decades; the percentile tail axis is -log10(1 - p/100),
// so 90, 99, 99.9 and 99.99 sit one step apart as in fio users' latency plots.
import type { ScaleKind } from './series';

// Loops, not Math.min(...values): a long timeline would overflow the argument list.
function minOf(values: number[], start: number): number {
  let m = start;
  for (const v of values) if (v < m) m = v;
  return m;
}
function maxOf(values: number[], start: number): number {
  let m = start;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** A scale fitted to data: `map` gives the pixel of a value, `ticks` the labelled values. */
export interface Scale {
  map(v: number): number;
  ticks: number[];
  /** Whether `v` can be placed on this scale (log axes cannot place 0). */
  accepts(v: number): boolean;
}

/** The step of about `count` ticks over `span`: 1, 2 or 5 times a power of ten. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

const tail = (p: number) => -Math.log10(1 - p / 100);

/** The percentiles the tail axis labels. */
const TAIL_TICKS = [50, 90, 99, 99.9, 99.99, 99.999, 99.9999];

/**
 * A scale of `kind` covering `values`, mapped onto pixels [from, to]. `base`: linear ticks
 * are nice multiples of it (1024^k for bytes, so the labels read 2 GiB/s, not 1.86 GiB/s).
 */
export function fitScale(kind: ScaleKind, values: number[], from: number, to: number, base = 1): Scale {
  const lerp = (f: (v: number) => number, lo: number, hi: number) => (v: number) => from + ((f(v) - lo) / (hi - lo || 1)) * (to - from);
  if (kind === 'linear') {
    let lo = minOf(values, 0);
    let hi = maxOf(values, 0);
    if (hi === lo) hi = lo + 1;
    const step = niceStep((hi - lo) / base, 5) * base;
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const ticks: number[] = [];
    for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
    return { map: lerp((v) => v, lo, hi), ticks, accepts: Number.isFinite };
  }
  if (kind === 'log') {
    const pos = values.filter((v) => v > 0);
    const lo = Math.floor(Math.log10(pos.length ? minOf(pos, Infinity) : 1));
    let hi = Math.ceil(Math.log10(pos.length ? maxOf(pos, -Infinity) : 10));
    if (hi <= lo) hi = lo + 1;
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    return { map: lerp(Math.log10, lo, hi), ticks, accepts: (v) => v > 0 && Number.isFinite(v) };
  }
  const inRange = values.filter((p) => p >= 0 && p < 100);
  const hi = Math.max(2, Math.ceil(tail(inRange.length ? maxOf(inRange, 0) : 99) - 1e-9));
  return { map: lerp(tail, 0, hi), ticks: TAIL_TICKS.filter((p) => tail(p) <= hi + 1e-9), accepts: (p) => p >= 0 && p < 100 };
}
