// Turns a `phyr bench` command line and job files into the jobs to run and the run-wide
import * as crypto from 'crypto';
// options, with every fio-compatibility rule applied and nothing left unchecked.
import * as fs from 'fs';
import { parseEmuTarget } from '../../emu/target';
import { targetKind } from '../../targets';
import { JOB_FILE_MAX_BYTES, readBoundedTextFile } from '../../lib/files';
import { BenchConfigError, BenchOptionError } from './errors';
import { parseJobFile, type JobFileHost } from './jobfile';
import { resolveKernelNamespaces } from './kernel-node';
import type { ApplyContext } from './option-types';
import { cloneJob, defaultJob, defaultRunOptions, type JobSpec, type RunOptions } from './job';
import { parseNullTarget } from './null-target';
import { applySeqRandBs } from './bs-seq-rand';
import { lookupOption } from './options';

/** Everything a bench run needs to know before it touches a device. */
export interface BenchConfig {
  target: string;
  /** True when no TARGET was given and the default was used. */
  defaultTarget: boolean;
  jobs: JobSpec[];
  run: RunOptions;
  /** True when neither options nor job files were given: the built-in short default job. */
  builtinDefault: boolean;
  /** The job files read, in order. */
  jobFiles: string[];
  /**
   * fio's "global options": the job options given before the first --name and in [global]
   * sections, key and value as written.
   */
  globalOptions: Record<string, string>;
  /**
   * One line per option that phyr replaced or that has no meaning on its loop (a kernel
   * engine, /dev/nvmeXnY, hipri, ...), saying what phyr did; each line once.
   */
  notices: string[];
  /** --showcmd: each job file as command-line options (`phyr bench --k=v ...`). */
  commandLines: string[];
}

/** What parsing may read from the host (tests inject fakes). */
export interface BenchHost extends JobFileHost {
  /** Root of sysfs, where filename=/dev/nvmeXnY resolves (default /sys). */
  sysfsRoot?: string;
}

/** The largest job file accepted (bytes); larger ones, and anything not a regular file, are refused. */
export const BENCH_JOB_FILE_MAX_BYTES = JOB_FILE_MAX_BYTES;

/** The target used when none is given. */
export const BENCH_DEFAULT_TARGET = 'emu';

/** The job `phyr bench` runs with no arguments: short, meaningful, fio-shaped. */
export function builtinDefaultJob(): JobSpec {
  const j = defaultJob('phyr-default');
  j.rw = 'randread';
  j.bs.read = { min: 4096, max: 4096, split: [] };
  j.bs.write = { min: 4096, max: 4096, split: [] };
  j.iodepth = 32;
  j.runtimeNs = 3e9;
  j.timeBased = true;
  return j;
}

function isTarget(arg: string): boolean {
  try {
    targetKind(arg);
    return true;
  } catch {
    return false;
  }
}

// Keeps an option as written for the report. fio reports a flag given without a value
// nowhere in its JSON, so it is not kept; a later value of the same key replaces an earlier.
// fio reports an option under its own name, not the alias or spelling written
// (`blocksize=8k` is reported as "bs"; measured on fio 3.33).
function keep(to: Record<string, string>, key: string, value: string | undefined): void {
  if (value !== undefined) to[lookupOption(key).name] = value;
}

function applyTo(job: JobSpec, run: RunOptions, key: string, value: string | undefined, where: string, ctx: ApplyContext): void {
  const opt = lookupOption(key);
  if (opt.scope === 'run') {
    if (where !== 'command line') throw new BenchConfigError(`${where}: '${key}' is a command-line option (as in fio), not a job option`);
    opt.applyRun?.(run, value);
    return;
  }
  if (!opt.flag && value === undefined) throw new BenchOptionError(key, '', 'a value is required');
  opt.applyJob?.(job, value, ctx);
}

// One command-line word per option, as fio's --showcmd writes them.
function showOption(key: string, value: string | undefined): string {
  const word = value === undefined ? `--${key}` : `--${key}=${value}`;
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A section's lines with its `ioengine` lines first (in their order, so the last still
 * wins): fio 3.33 parses a job file section's engine options after the rest, once the
 * engine is known, so `hipri` may come before `ioengine=io_uring` in the same section
 * (measured: `fio --parse-only` takes it). The command line keeps its order, as fio's.
 */
function engineFirst<T extends { key: string }>(options: T[]): T[] {
  return [...options.filter((o) => o.key === 'ioengine'), ...options.filter((o) => o.key !== 'ioengine')];
}

/** Parses `phyr bench` arguments (after the subcommand) into a configuration. */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env, host: BenchHost = {}): BenchConfig {
  const run = defaultRunOptions();
  const notices: string[] = [];
  const ctx: ApplyContext = { notice: (text) => { if (!notices.includes(text)) notices.push(text); } };
  let target: string | undefined;
  const files: string[] = [];
  // Options before the first --name are global (they apply to every job, fio's rule);
  // each --name starts a command-line job that inherits them.
  const global: Array<[string, string | undefined]> = [];
  const cliJobs: Array<Array<[string, string | undefined]>> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const key = eq >= 0 ? body.slice(0, eq) : body;
      let value = eq >= 0 ? body.slice(eq + 1) : undefined;
      const opt = lookupOption(key);
      // `--opt value` (separate word) for options that take a value, as fio accepts.
      if (value === undefined && !opt.flag && i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      if (opt.scope === 'run') {
        applyTo(defaultJob(), run, key, value, 'command line', ctx);
        continue;
      }
      if (opt.name === 'name') cliJobs.push([]);
      (cliJobs.length ? cliJobs[cliJobs.length - 1] : global).push([key, value]);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') throw new BenchConfigError(`unknown option '${arg}': phyr bench options are fio's long options (--name=VALUE)`, 'PHYR_BENCH_UNKNOWN_OPTION');
    if (target === undefined && files.length === 0 && isTarget(arg)) {
      target = arg;
      continue;
    }
    if (!fs.existsSync(arg)) {
      const why = files.length || target !== undefined ? 'is not a job file' : 'is neither a target (emu[:key=value,...], null[:key=value,...] or a PCI address like 0000:01:00.0) nor a job file';
      throw new BenchConfigError(`'${arg}' ${why}`, 'PHYR_BENCH_BAD_ARGUMENT');
    }
    files.push(arg);
  }

  const jobs: JobSpec[] = [];
  const base = defaultJob();
  const globalOptions: Record<string, string> = {};
  for (const [k, v] of global) {
    applyTo(base, run, k, v, 'command line', ctx);
    keep(globalOptions, k, v);
  }
  const commandLines: string[] = [];
  const sectionsSeen = new Set<string>();
  for (const file of files) {
    // A regular file of at most 1 MiB: /dev/zero would be read forever, a FIFO would
    // block the open until a writer came.
    const sections = parseJobFile(readBoundedTextFile(file, 'job file', 'PHYR_BENCH_BAD_JOB_FILE', BENCH_JOB_FILE_MAX_BYTES), file, env, host);
    const words: string[] = [];
    const fileGlobal = cloneJob(base);
    for (const s of sections) {
      const where = (o: { line: number; source?: string }) => `${o.source ?? file}:${o.line}`;
      // fio: a [global] after a job applies only to the jobs that follow it.
      if (s.global) {
        for (const o of engineFirst(s.options)) applyTo(fileGlobal, run, o.key, o.value, where(o), ctx);
        for (const o of s.options) {
          keep(globalOptions, o.key, o.value);
          words.push(showOption(o.key, o.value));
        }
        continue;
      }
      // fio's --section: the other job sections are skipped (their options still parsed,
      // so a typo in them is still an error, as fio reports it).
      const wanted = run.sections.length === 0 || run.sections.includes(s.name);
      const job = cloneJob(fileGlobal);
      job.name = s.name;
      for (const o of engineFirst(s.options)) applyTo(job, run, o.key, o.value, where(o), ctx);
      for (const o of s.options) keep(job.written, o.key, o.value);
      if (!wanted) continue;
      sectionsSeen.add(s.name);
      words.push(showOption('name', s.name), ...s.options.map((o) => showOption(o.key, o.value)));
      jobs.push(job);
    }
    if (!sections.some((s) => !s.global)) throw new BenchConfigError(`${file}: no job sections (only [global]); add a [jobname] section`);
    commandLines.push(['phyr bench', ...words].join(' '));
  }
  for (const name of run.sections) {
    if (!sectionsSeen.has(name)) throw new BenchConfigError(`--section=${name}: no job section [${name}] in ${files.length ? files.join(', ') : 'any job file (none given)'}`, 'PHYR_BENCH_BAD_ARGUMENT');
  }
  for (const opts of cliJobs) {
    const job = cloneJob(base);
    for (const [k, v] of opts) {
      applyTo(job, run, k, v, 'command line', ctx);
      keep(job.written, k, v);
    }
    jobs.push(job);
  }
  const builtinDefault = jobs.length === 0 && global.length === 0;
  if (jobs.length === 0) {
    if (builtinDefault) jobs.push(builtinDefaultJob());
    else {
      // Options without --name or a job file: one job, named after its workload.
      base.name = base.rw;
      jobs.push(base);
    }
  }
  for (const j of jobs) {
    // fio 3.33 (setup_random_seeds): randrepeat=0 without a randseed seeds from the system.
    if (j.randrepeat === false && !j.randseedGiven) j.randseed = crypto.randomBytes(6).readUIntBE(0, 6);
    checkJob(j);
  }
  // Kernel namespace nodes: replaced by the TARGET given, else resolved through sysfs.
  // --parse-only and --showcmd touch no device (as fio's): the sysfs lookup waits for a run.
  if (target !== undefined || !(run.parseOnly || run.showcmd)) {
    const resolved = resolveKernelNamespaces(jobs, target, host.sysfsRoot ?? '/sys', ctx);
    if (resolved) target = resolved;
  }
  checkNullEngine(jobs, target, ctx);
  // An emulated target's keys are checked now, so a typo is a usage error, not a failed run.
  if (target?.startsWith('emu')) parseEmuTarget(target);
  if (target !== undefined && targetKind(target) === 'null') parseNullTarget(target);
  return { target: target ?? BENCH_DEFAULT_TARGET, defaultTarget: target === undefined, jobs, run, builtinDefault, jobFiles: files, globalOptions, notices, commandLines };
}

/**
 * fio's ioengine=null does no IO; phyr's twin is the null TARGET (the same loop over a
 * loopback controller that answers at once). A job file written for it runs there, with a
 * notice; on any other TARGET it is refused, saying which TARGET to give.
 */
function checkNullEngine(jobs: JobSpec[], target: string | undefined, ctx: ApplyContext): void {
  const named = jobs.filter((j) => j.nullEngine);
  if (named.length === 0) return;
  if (target !== undefined && targetKind(target) === 'null') {
    ctx.notice(`--ioengine=null: runs on the TARGET ${target}, phyr's twin of fio's null engine (no device: each command is answered at once, no data moves)`);
    return;
  }
  const others = jobs.filter((j) => !j.nullEngine).map((j) => `'${j.name}'`);
  throw new BenchConfigError(
    `--ioengine=null (job '${named[0].name}'): fio's null engine does no IO; phyr's twin of it is the TARGET null: phyr bench null FILE ...${others.length ? ` (jobs ${others.join(', ')} do IO: give them their own run on a device)` : ''}; on ${target ?? 'the default TARGET emu'} drop ioengine=null to do real IO`,
    'PHYR_BENCH_UNSUPPORTED_OPTION',
  );
}

/** Device-independent checks of one job (device-dependent ones run after open, before IO). */
export function checkJob(j: JobSpec): void {
  const fail = (m: string) => {
    throw new BenchConfigError(`job '${j.name}': ${m}`);
  };
  if (j.rampNs > 0 && j.runtimeNs === 0) fail('ramp_time needs a runtime');
  if (j.timeBased && j.runtimeNs === 0) fail('time_based needs a runtime (e.g. --runtime=10)');
  applySeqRandBs(j);
  if (j.writeIolog !== undefined && j.timeBased) fail('write_iolog with time_based: the log is sized from the job\'s size before it runs; give a size-bound job');
  if (j.writeIolog !== undefined && j.numjobs > 1) fail('write_iolog with numjobs > 1: one log file is one job\'s IOs; give each job its own section and file');
  if (j.verify !== 'none' && j.verify !== 'null' && j.mem.kind !== 'pool') fail(`verify needs CPU-visible buffers; --mem=${j.mem.kind} memory is not CPU-readable here`);
  if (j.verify !== 'none' && (j.rw === 'rw' || j.rw === 'randrw')) fail('verify with a mixed read/write workload is not supported; use a write job with do_verify, or a read job after a write job with stonewall');
  if (j.verify !== 'none' && j.rampNs > 0) fail('ramp_time with verify would leave unverified writes; drop one of them');
  for (const d of ['read', 'write'] as const) {
    const b = j.bs[d];
    if (b.split.length === 0 && b.max > b.min && b.max % b.min !== 0) fail(`bsrange ${b.min}-${b.max}: the maximum must be a multiple of the minimum (sizes are drawn in multiples of it)`);
  }
}
