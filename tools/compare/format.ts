// Human-readable figures for the compare table and its messages (3 significant digits).
import type { Metric } from './thresholds';

function sig3(x: number): string {
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 2));
}

function scaled(x: number, base: number, units: string[]): string {
  let i = 0;
  while (Math.abs(x) >= base * 0.9995 && i < units.length - 1) {
    x /= base;
    i++;
  }
  return `${sig3(x)}${units[i]}`;
}

/** IO rates: 512, 12.3k, 2.74M. */
export const formatIops = (x: number): string => scaled(x, 1000, ['', 'k', 'M', 'G']);

/** Bandwidth in bytes per second, IEC units. */
export const formatBw = (x: number): string => scaled(x, 1024, ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s']);

/** A duration in ns: 211ns, 1.41us, 3.20ms. */
export const formatNs = (x: number): string => scaled(x, 1000, ['ns', 'us', 'ms', 's']);

/** A change in percent, always signed: +5.2%, -63.4%. */
export const formatChange = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;

/** A value of the given metric. */
export function formatMetric(m: Metric, x: number): string {
  if (m.kind === 'iops') return formatIops(x);
  if (m.kind === 'bw') return formatBw(x);
  if (m.kind === 'percentile') return formatNs(x);
  return `${x.toFixed(1)}ns`;
}
