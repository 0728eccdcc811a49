// fio's number formatting for the normal output (its num2str), with significant_figures
// (default 4) as the width: the value is divided by the base while its integer part has
// more digits than that, then shown with the digits left over less one as decimals (a
// value not divided is shown whole: "512B", "IOPS=1000").
// Measured on fio 3.33: 16 MiB is "16.0MiB" at 4, "16MiB" at 3, "16384KiB" at 5; 512000
// IOPS is "512k" at 3 and 4, "512000" at 6; 2,097,152,000 B/s is "2.0GiB" at 3,
// "2000.0MiB" at 6, "2097152000B" at 10.

/** fio's significant_figures: its default, and the range it accepts. */
export const SIGNIFICANT_FIGURES = { default: 4, min: 1, max: 10 } as const;

const digits = (v: number): number => (v < 1 ? 1 : Math.floor(Math.log10(v)) + 1);

/** `n` in fio's style: at most `sigFigs` integer digits, `units[i]` for base^i. */
export function num2str(n: number, base: 1000 | 1024, sigFigs: number, units: readonly string[]): string {
  let v = Math.max(0, n);
  let i = 0;
  while (digits(v) > sigFigs && i < units.length - 1) {
    v /= base;
    i++;
  }
  const decimals = i === 0 ? 0 : Math.max(0, sigFigs - digits(v) - 1);
  return `${v.toFixed(decimals)}${units[i]}`;
}
