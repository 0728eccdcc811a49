// The value grammar shared by the target string (target.ts) and fault specs (faults.ts):
// byte counts and durations, and the error both raise. Kept apart so neither parser
// imports the other for it.
import { PhyrError } from '../lib/errors';

/** A target string was rejected. `key` names the offending key when there is one. */
export class EmuTargetError extends PhyrError {
  constructor(
    message: string,
    /** The key whose value was rejected, if any. */
    readonly key?: string,
  ) {
    super('PHYR_BAD_EMU_TARGET', message);
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** Parses '4096', '16M', '1G', '2T' (binary units; an optional trailing 'B' or 'iB'). */
export function parseSize(text: string, key = 'size'): number {
  const m = /^(\d+)([KMGTP]?)(?:i?B)?$/i.exec(text);
  if (!m) throw new EmuTargetError(`${key}=${text}: expected a byte count such as 4096, 512K, 16M, 1G or 2T`, key);
  const n = Number(m[1]) * SIZE_UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(n)) throw new EmuTargetError(`${key}=${text}: too large`, key);
  return n;
}

const TIME_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** The longest duration the device model holds (2^40 ns, about 18 minutes). */
export const MAX_DURATION_NS = 2 ** 40;

/** Parses a duration such as '80us', '1.5ms', '500ns' into nanoseconds (at most MAX_DURATION_NS). */
export function parseDuration(text: string, key = 'latency'): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(text);
  if (!m) throw new EmuTargetError(`${key}=${text}: expected a duration such as 500ns, 80us, 1.5ms or 1s`, key);
  const ns = Math.round(Number(m[1]) * TIME_UNITS[m[2]]);
  if (!(ns <= MAX_DURATION_NS)) throw new EmuTargetError(`${key}=${text}: at most ${MAX_DURATION_NS} ns (1099s)`, key);
  return ns;
}
