// fio options whose default value is exactly what phyr does. A job file that spells out
// the default (`disable_lat=0`, `stats=1`, `nrfiles=1`, ...) runs as written, without a word;
// any other value keeps the option's reason for being refused (options.ts UNSUPPORTED),
// so a value that would change the workload is never silently ignored.
import { parseBool } from './units';

/** Which values of an option are fio's default (phyr's behaviour). */
export interface DefaultOnly {
  /** The accepted values as the docs show them. */
  shown: string;
  accepts(value: string | undefined): boolean;
}

const bool = (want: boolean): DefaultOnly => ({
  shown: want ? '1' : '0',
  accepts: (v) => {
    try {
      return parseBool('', v) === want;
    } catch {
      return false;
    }
  },
});
// Zero with any unit (`0`, `0ms`, `0k`), and per-direction lists of zeros (`rate=0,0`).
const zero: DefaultOnly = { shown: '0', accepts: (v) => v !== undefined && v.split(',').every((p) => /^\s*0+\s*[A-Za-z]*\s*$/.test(p)) };
const words = (...w: string[]): DefaultOnly => ({ shown: w.join(' or '), accepts: (v) => v !== undefined && w.includes(v.toLowerCase()) });

/** Options accepted only at fio's default value, which is what phyr does anyway. */
export const DEFAULT_ONLY: Record<string, DefaultOnly> = {
  allrandrepeat: words('0', '1'),
  disable_lat: bool(false),
  disable_clat: bool(false),
  disable_slat: bool(false),
  disable_bw_measurement: bool(false),
  fsync_on_close: bool(false),
  nrfiles: words('1'),
  create_on_open: bool(false),
  unlink: bool(false),
  buffered: bool(false),
  sync: words('0', 'none'),
  verify_async: zero,
  experimental_verify: bool(false),
  io_submit_mode: words('inline'),
  bs_unaligned: bool(false),
  zonemode: words('none'),
  write_barrier: zero,
  stats: bool(true),
  overwrite: bool(false),
  atomic: bool(false),
};
