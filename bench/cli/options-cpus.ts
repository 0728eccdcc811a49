// fio's CPU placement options: cpus_allowed (a CPU list), cpumask (a bit mask of CPUs 0..31)
// and cpus_allowed_policy (shared: every job thread gets the whole set; split: job thread N
// of the run gets the set's CPU N, round robin, as fio's fio_cpus_split). The job thread
// pins itself when it starts (bench/native/engine.h); a CPU the process may not run on is
// refused before any IO, naming it.
import * as fs from 'fs';
import { BenchConfigError, BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';

/** The most CPUs the native job parameters can name (JobParams::kCpuMaskWords x 64). */
export const MAX_CPUS = 1024;

/** fio's cpus_allowed list: `0,5,8-15`. */
export function parseCpuList(option: string, text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new BenchOptionError(option, text, `'${part}' is not a CPU or a range of CPUs (e.g. 0,5,8-15)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new BenchOptionError(option, text, `the range '${part}' runs backwards; write it LOW-HIGH`);
    if (hi >= MAX_CPUS) throw new BenchOptionError(option, text, `CPU ${hi} is beyond the ${MAX_CPUS} CPUs phyr can pin to`);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** fio's cpumask: an integer (decimal or 0x hex) whose bit N allows CPU N, for CPUs 0..31 (fio's int). */
export function parseCpuMask(option: string, text: string): number[] {
  const t = text.trim();
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) throw new BenchOptionError(option, text, 'expected a bit mask of CPUs as a decimal or 0x hex integer (CPU N is bit N; e.g. 34 for CPUs 1 and 5)');
  const v = BigInt(t);
  if (v === 0n) throw new BenchOptionError(option, text, 'the mask allows no CPU');
  if (v >> 32n) throw new BenchOptionError(option, text, 'fio\'s cpumask covers CPUs 0..31 only; use cpus_allowed for higher CPUs');
  const cpus: number[] = [];
  for (let i = 0; i < 32; i++) if ((v >> BigInt(i)) & 1n) cpus.push(i);
  return cpus;
}

/** The option table's rows for CPU placement (spread into OPTIONS). */
export const CPU_OPTIONS: PacingOption[] = [
  {
    name: 'cpus_allowed', scope: 'job', help: 'the CPUs the job threads run on, e.g. 0,5,8-15 (each thread is pinned when it starts); a CPU this process may not run on is refused',
    applyJob: (j, v) => {
      if (v === undefined || v.trim() === '') throw new BenchOptionError('cpus_allowed', '', 'a value is required, e.g. 0,5,8-15');
      j.cpus = parseCpuList('cpus_allowed', v);
    },
  },
  {
    name: 'cpumask', scope: 'job', help: 'the CPUs the job threads run on as a bit mask (bit N = CPU N, CPUs 0..31, as fio), e.g. 34 for CPUs 1 and 5',
    applyJob: (j, v) => {
      if (v === undefined || v.trim() === '') throw new BenchOptionError('cpumask', '', 'a value is required, e.g. 34 for CPUs 1 and 5');
      j.cpus = parseCpuMask('cpumask', v);
    },
  },
  {
    name: 'cpus_allowed_policy', scope: 'job', help: 'shared (default: every job thread may run on the whole set) or split (job thread N of the run gets the set\'s Nth CPU, round robin, as fio)',
    applyJob: (j, v) => {
      const val = (v ?? '').trim();
      if (val !== 'shared' && val !== 'split') throw new BenchOptionError('cpus_allowed_policy', v ?? '', 'expected shared or split');
      j.cpusPolicy = val;
    },
  },
  {
    // fio's nice(2) in the job: Linux keeps a nice value per thread, so only the job
    // thread's changes (a negative one needs root or CAP_SYS_NICE; refused, the job fails).
    name: 'nice', scope: 'job', help: 'add this to the job threads\' nice value when they start (-20..19, as nice(2); negative needs root)',
    applyJob: (j, v) => {
      const val = (v ?? '').trim();
      if (!/^[+-]?\d+$/.test(val)) throw new BenchOptionError('nice', v ?? '', 'expected an integer -20..19');
      const n = Number(val);
      if (n < -20 || n > 19) throw new BenchOptionError('nice', val, 'must be between -20 and 19');
      j.nice = n;
    },
  },
];

/** The CPUs this process may run on (Cpus_allowed_list of /proc/self/status). */
export function processCpus(statusText: string = fs.readFileSync('/proc/self/status', 'utf8')): number[] {
  const m = /^Cpus_allowed_list:\s*(.*)$/m.exec(statusText);
  if (!m) throw new BenchConfigError('cannot read the CPUs this process may run on: /proc/self/status has no Cpus_allowed_list');
  return m[1].trim() === '' ? [] : parseCpuList('Cpus_allowed_list', m[1].trim());
}

/**
 * The CPUs job thread `threadNumber` (fio's thread_number: from 1, over the run) is pinned
 * to, or undefined when the job names none. Every CPU of the job's set must be one the
 * process may run on: a job pinned elsewhere would fail when it starts, after other jobs ran.
 */
export function threadCpus(j: JobSpec, threadNumber: number, allowed: number[]): number[] | undefined {
  if (!j.cpus) return undefined;
  const outside = j.cpus.filter((c) => !allowed.includes(c));
  if (outside.length) {
    throw new BenchConfigError(`job '${j.name}': cpus_allowed / cpumask: CPU ${outside.join(', ')} is not one this process may run on (it may run on ${formatCpuList(allowed)}); name CPUs of that set`);
  }
  if (j.cpusPolicy === 'shared') return j.cpus;
  // fio_cpus_split: the (N - 1) mod |set|-th CPU of the set.
  return [j.cpus[(threadNumber - 1) % j.cpus.length]];
}

/** A CPU list in the kernel's form: `0-3,8`. */
export function formatCpuList(cpus: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let k = i;
    while (k + 1 < cpus.length && cpus[k + 1] === cpus[k] + 1) k++;
    out.push(k > i ? `${cpus[i]}-${cpus[k]}` : String(cpus[i]));
    i = k;
  }
  return out.join(',');
}
