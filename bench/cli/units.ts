// fio's number syntax, reproduced exactly so job files and command lines written for fio
// mean the same thing here.
//
// Sizes: a prefix k, m, g, t or p (any case), optionally followed by `i`, then optionally
// by `b`; a lone `b` means bytes. Measured on fio 3.33 (test/emu/bench-fio-parse.test.ts
// holds the table): the prefix counts in powers of kb_base (1024 by default, or 1000), so
// `4k` = `4ki` = `4kb` = 4096 and `24mi` = 25,165,824; only the full IEC form with both
// `i` and `b` (`kib`, `MiB`, ...) counts in the other base: fio inverts IEC and SI spellings
// for compatibility, so `1MiB` is 1,000,000 under kb_base=1024 and 1,048,576 under
// kb_base=1000. A `0x` prefix reads hex.
// Times: a bare number is in the option's default unit (seconds for runtime, ramp_time and
// status-interval); suffixes us/usec, ms/msec, s/sec, m/min, h/hour, d/day.
import { BenchOptionError } from './errors';

/** A size as written: absolute bytes, or a percentage of the namespace (size=, offset=). */
export type SizeValue = { bytes: number } | { percent: number };

const BINARY_POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

const EXPECTED = {
  size: 'expected a whole number of bytes with an optional suffix, e.g. 4k, 128KiB, 1g, 0x1000',
  time: 'expected a whole number with an optional time unit, e.g. 500ms, 10 (seconds), 2m',
  integer: 'expected a plain integer',
} as const;

function parseMagnitude(option: string, text: string, kind: keyof typeof EXPECTED = 'size'): { value: number; suffix: string } {
  const m = /^\s*(0[xX][0-9a-fA-F]+|\d+)\s*([A-Za-z%]*)\s*$/.exec(text);
  if (!m) {
    // Say which rule the value broke: a sign or a fraction reads as "a number" to a user.
    const t = text.trim();
    if (/^-/.test(t)) throw new BenchOptionError(option, text, `must not be negative; ${EXPECTED[kind]}`);
    if (/^\d*\.\d/.test(t)) throw new BenchOptionError(option, text, `fractions are not accepted${kind === 'time' ? ' (use a smaller unit: 1500ms, not 1.5s)' : kind === 'size' ? ' (use a smaller unit: 4608, not 4.5k)' : ''}; ${EXPECTED[kind]}`);
    throw new BenchOptionError(option, text, EXPECTED[kind]);
  }
  const value = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1], 16) : Number(m[1]);
  return { value, suffix: m[2] };
}

/** fio's kb_base: the base the size prefixes count in. */
export type KbBase = 1024 | 1000;

/** Multiplier of a fio size suffix (case-insensitive), or undefined when not a size suffix. */
export function sizeSuffixMultiplier(suffix: string, kbBase: KbBase = 1024): number | undefined {
  const s = suffix.toLowerCase();
  if (s === '' || s === 'b') return 1;
  const m = /^([kmgtp])(i?)(b?)$/.exec(s);
  if (!m) return undefined;
  // Only `XiB` swaps the base (fio's compatibility inversion); `Xi` alone does not.
  const base = m[2] && m[3] ? (kbBase === 1024 ? 1000 : 1024) : kbBase;
  return base ** BINARY_POWERS[m[1]];
}

/** Parses a fio size; `allowPercent` accepts `N%` (fio's size= and offset=). */
export function parseSize(option: string, text: string, allowPercent = false, kbBase: KbBase = 1024): SizeValue {
  const { value, suffix } = parseMagnitude(option, text);
  if (suffix === '%') {
    if (!allowPercent) throw new BenchOptionError(option, text, 'a percentage is not accepted here');
    if (value < 0 || value > 100) throw new BenchOptionError(option, text, 'a percentage must be 0..100');
    return { percent: value };
  }
  const mult = sizeSuffixMultiplier(suffix, kbBase);
  if (mult === undefined) throw new BenchOptionError(option, text, `unknown size suffix '${suffix}' (use k, m, g, t, p, optionally followed by i and/or b; as in fio, kib/mib/... count in the base other than kb_base)`);
  const bytes = value * mult;
  if (!Number.isSafeInteger(bytes)) throw new BenchOptionError(option, text, 'the size is too large');
  return { bytes };
}

/** Parses a fio size that must be absolute bytes. */
export function parseBytes(option: string, text: string, kbBase: KbBase = 1024): number {
  const v = parseSize(option, text, false, kbBase);
  return (v as { bytes: number }).bytes;
}

const TIME_UNITS_NS: Record<string, number> = {
  ns: 1, nsec: 1,
  us: 1e3, usec: 1e3,
  ms: 1e6, msec: 1e6,
  s: 1e9, sec: 1e9,
  m: 60e9, min: 60e9,
  h: 3600e9, hour: 3600e9,
  d: 86400e9, day: 86400e9,
};

/** Parses a fio time into nanoseconds; a bare number is in `defaultUnit`. */
export function parseTimeNs(option: string, text: string, defaultUnit: 's' | 'ms' | 'us' = 's'): number {
  const { value, suffix } = parseMagnitude(option, text, 'time');
  const unit = suffix === '' ? defaultUnit : suffix.toLowerCase();
  const mult = TIME_UNITS_NS[unit];
  if (mult === undefined) throw new BenchOptionError(option, text, `unknown time unit '${suffix}' (use us, ms, s, m, h or d)`);
  const ns = value * mult;
  // Beyond 2^53 ns (104 days) the native engine could not take it exactly.
  if (!Number.isSafeInteger(ns)) throw new BenchOptionError(option, text, 'the time is too long (at most 104 days)');
  return ns;
}

/** Parses a plain integer (decimal or 0x hex, no suffix) within [min, max]. */
export function parseInteger(option: string, text: string, min: number, max: number): number {
  const { value, suffix } = parseMagnitude(option, text, 'integer');
  if (suffix !== '') throw new BenchOptionError(option, text, 'expected a plain integer');
  if (value < min || value > max) throw new BenchOptionError(option, text, `must be between ${min} and ${max}`);
  return value;
}

/** Parses fio's boolean forms: absent value, 1/0, true/false, yes/no, on/off. */
export function parseBool(option: string, text: string | undefined): boolean {
  if (text === undefined || text === '') return true;
  const t = text.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new BenchOptionError(option, text, 'expected 0 or 1');
}

/** Formats a byte count the way fio prints sizes: 4096 -> "4096B", 131072 -> "128KiB". */
export function formatBytesFio(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i]}`;
}
