// Tick and table labels: values in the units the charts use.
import type { Unit } from './series';

function trim(n: number, digits = 3): string {
  return Number(n.toPrecision(digits)).toString();
}

function scaled(v: number, steps: Array<[number, string]>, unit: string): string {
  for (const [size, name] of steps) if (Math.abs(v) >= size) return `${trim(v / size)} ${name}${unit}`;
  return `${trim(v)} ${unit}`.trim();
}

/** A value with its unit, short: "1.5 µs", "2.3M", "512 MiB/s", "99.9". */
export function formatValue(v: number, unit: Unit): string {
  switch (unit) {
    case 'seconds':
      return `${trim(v)} s`;
    case 'iops':
      for (const [size, name] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) if (Math.abs(v) >= size) return `${trim(v / size)}${name}`;
      return trim(v);
    case 'bytes_per_s':
      return scaled(v, [[2 ** 40, 'Ti'], [2 ** 30, 'Gi'], [2 ** 20, 'Mi'], [2 ** 10, 'Ki']], 'B/s');
    case 'ns':
      if (v >= 1e9) return `${trim(v / 1e9)} s`;
      if (v >= 1e6) return `${trim(v / 1e6)} ms`;
      if (v >= 1e3) return `${trim(v / 1e3)} µs`;
      return `${trim(v)} ns`;
    case 'percent':
      return `${trim(v)}%`;
    case 'percentile':
      return trim(v, 6);
  }
}
