// fio's error options: continue_on_error and ignore_error (which errors a job goes on
// past, counted as fio's total_err / first_error) and max_latency (a completion slower than
// it ends the job with ETIMEDOUT). fio 3.33's meaning: an error's type is read, write (any
// IO not a read, trims included) or verify (EILSEQ); continue_on_error names the types the
// job goes on past when the error is non-fatal, EIO or EILSEQ unless ignore_error lists the
// type's non-fatal errors; ignore_error also turns its types on. The native loop counts
// them (bench/native/engine.h).
import * as os from 'os';
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseTimeNs } from './units';

/** fio's error types as continue_on_error's bits (fio's ERROR_TYPE_*). */
export const ERROR_TYPE = { read: 1, write: 2, verify: 4 } as const;

// fio's continue_on_error values (0 and 1 are its backward-compatible aliases).
const CONTINUE_VALUES: Record<string, number> = { none: 0, read: 1, write: 2, io: 3, verify: 4, all: 7, '0': 0, '1': 7 };

// The errno names fio's ignore_error knows (its str2error table: errno 1 to 34, by name);
// other errors are given as numbers.
const FIO_ERRNO_NAMES = [
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN', 'ENOMEM',
  'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE',
  'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE',
];

function errnoOf(option: string, value: string, name: string): number {
  if (name.startsWith('E')) {
    const n = FIO_ERRNO_NAMES.includes(name) ? (os.constants.errno as Record<string, number>)[name] : undefined;
    if (n === undefined) throw new BenchOptionError(option, value, `unknown error '${name}': fio names only ${FIO_ERRNO_NAMES[0]}..${FIO_ERRNO_NAMES[FIO_ERRNO_NAMES.length - 1]}; give others as numbers (e.g. 110 for ETIMEDOUT, 84 for EILSEQ)`);
    return n;
  }
  // fio reads a number as atoi does, and a negative one as its magnitude.
  const m = /^\s*-?(\d+)/.exec(name);
  const n = m ? Number(m[1]) : 0;
  if (!n) throw new BenchOptionError(option, value, `unknown error '${name}': give an errno name (EIO, ENOSPC, ...) or a positive number`);
  return n;
}

/** fio's ignore_error=READ_LIST,WRITE_LIST,VERIFY_LIST (each ERR:ERR...): the lists per type. */
function applyIgnoreError(j: JobSpec, value: string): void {
  const types = value.trim().split(',');
  if (types.length > 3) throw new BenchOptionError('ignore_error', value, 'at most three lists: READ_ERRORS,WRITE_ERRORS,VERIFY_ERRORS (fio: "Illegal error type")');
  const bits = [ERROR_TYPE.read, ERROR_TYPE.write, ERROR_TYPE.verify];
  types.forEach((list, i) => {
    // fio stops a list at its first empty entry.
    const names = list.split(':');
    const end = names.indexOf('');
    const given = (end < 0 ? names : names.slice(0, end)).map((n) => errnoOf('ignore_error', value, n));
    if (given.length === 0) return;
    j.ignoreError[i] = given;
    j.continueOnError |= bits[i];
  });
}

/** The option table's rows for errors and latency limits (spread into OPTIONS). */
export const ERROR_OPTIONS: PacingOption[] = [
  {
    name: 'continue_on_error', scope: 'job',
    help: 'none (default), read, write, io, verify or all (0 = none, 1 = all): the job goes on past a non-fatal error of these types (EIO, EILSEQ, or ignore_error\'s lists), counting it; reports fio\'s total_err and first_error; a trim\'s error is a write error, as in fio',
    applyJob: (j, v) => {
      const val = (v ?? '').trim();
      const bits = CONTINUE_VALUES[val];
      if (bits === undefined) throw new BenchOptionError('continue_on_error', v ?? '', 'expected none, read, write, io, verify, all, 0 (none) or 1 (all)');
      j.continueOnError = bits;
    },
  },
  {
    name: 'ignore_error', scope: 'job',
    help: 'READ_ERRORS,WRITE_ERRORS,VERIFY_ERRORS (each ERR[:ERR...], a name EPERM..ERANGE or a number): the non-fatal errors of each type in place of EIO and EILSEQ; a list turns continue_on_error on for its type, as in fio. phyr\'s errors are EIO (an NVMe error status), ETIMEDOUT (110, max_latency) and EILSEQ (84, verify)',
    applyJob: (j, v) => {
      if (v === undefined || v.trim() === '') throw new BenchOptionError('ignore_error', '', 'a value is required, e.g. EIO,EIO or ,110');
      applyIgnoreError(j, v);
    },
  },
  {
    name: 'max_latency', scope: 'job',
    help: 'READ[,WRITE[,TRIM]] (microseconds unless a unit is given; 0 = none): a completion whose total latency is above it ends the job with ETIMEDOUT (110), as fio',
    applyJob: (j, v) => {
      if (v === undefined || v.trim() === '') throw new BenchOptionError('max_latency', '', 'a value is required (e.g. 500us, 10ms)');
      const parts = v.split(',');
      if (parts.length > 3) throw new BenchOptionError('max_latency', v, 'give one value, or READ,WRITE[,TRIM]');
      const ns = (p: string | undefined) => (p === undefined || p.trim() === '' ? undefined : parseTimeNs('max_latency', p.trim(), 'us'));
      // As fio's per-direction values: one for all; an empty part keeps that direction; a
      // missing trim value follows the write value.
      const [r, w, t] = parts.length === 1 ? [ns(parts[0]), ns(parts[0]), ns(parts[0])] : [ns(parts[0]), ns(parts[1]), parts.length === 3 ? ns(parts[2]) : ns(parts[1])];
      if (r !== undefined) j.maxLatencyNs[0] = r;
      if (w !== undefined) j.maxLatencyNs[1] = w;
      if (t !== undefined) j.maxLatencyNs[2] = t;
    },
  },
];

/** What the native loop is told for a job's errors (bench/native/job_params.h). */
export interface NativeErrorParams {
  errorCountTypes: number;
  continueEio: number;
  continueTimedOut: number;
  continueVerify: boolean;
}

/** The error codes phyr's loop produces. */
export const ERRNO = { EIO: 5, EILSEQ: 84, ETIMEDOUT: 110 } as const;

/**
 * fio's td_non_fatal_error for each type and each error phyr's loop produces: a type's
 * errors go on past when continue_on_error names it and the error is on its list (fio's
 * default list: EIO, EILSEQ).
 */
export function nativeErrorParams(j: JobSpec): NativeErrorParams {
  const bits = [ERROR_TYPE.read, ERROR_TYPE.write, ERROR_TYPE.verify];
  const goesOn = (i: number, code: number) => (j.continueOnError & bits[i]) !== 0 && (j.ignoreError[i] ?? [ERRNO.EIO, ERRNO.EILSEQ]).includes(code);
  const mask = (code: number) => (goesOn(0, code) ? ERROR_TYPE.read : 0) | (goesOn(1, code) ? ERROR_TYPE.write : 0);
  return { errorCountTypes: j.continueOnError, continueEio: mask(ERRNO.EIO), continueTimedOut: mask(ERRNO.ETIMEDOUT), continueVerify: goesOn(2, ERRNO.EILSEQ) };
}

// glibc's strerror text for the errors phyr reports (fio prints first_error with it).
const ERROR_TEXT: Record<number, string> = { 5: 'Input/output error', 84: 'Invalid or incomplete multibyte or wide character', 110: 'Connection timed out', 19: 'No such device', 22: 'Invalid argument', 71: 'Protocol error' };

/** An errno's message as fio prints it (`first_error=5/<Input/output error>`). */
export function errorText(code: number): string {
  return ERROR_TEXT[code] ?? `error ${code}`;
}
