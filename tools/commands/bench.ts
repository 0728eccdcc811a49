// `phyr bench [TARGET] [options] [JOBFILE.fio ...]`: a fio-compatible benchmark on phyr's
// native data path. With no arguments it runs a short default job on the embedded
// emulated controller.
import * as fs from 'fs';
import * as path from 'path';
import { parseBenchArgs } from '../../bench/cli/config';
import { checkOutputFile, targetFiles } from '../../lib/files';
import { openBenchTarget } from '../../bench/cli/device';
import type { JobSpec } from '../../bench/cli/job';
import { KERNEL_STACK_OPTIONS } from '../../bench/cli/kernel-stack';
import { OPTIONS, UNSUPPORTED } from '../../bench/cli/options';
import { formatJson, formatNormal, type RunInfo } from '../../bench/cli/report';
import { formatTerse } from '../../bench/cli/report-terse';
import { jobFailed, type JobResult } from '../../bench/cli/results';
import { runJobs, type StatusSink } from '../../bench/cli/runner';

/** One line for `phyr --help`. */
export const summary = 'fio-compatible benchmark on the native data path (default: a 3 s randread on emu)';

function help(): string {
  const rows = [...OPTIONS, ...KERNEL_STACK_OPTIONS].map((o) => `  --${(o.name + (o.aliases?.length ? ` (${o.aliases.join(', ')})` : '')).padEnd(34)} ${o.help}`);
  return [
    'usage: phyr bench [TARGET] [--option=value ...] [JOBFILE.fio ...]',
    '',
    'Runs fio-style jobs on phyr\'s native loop: one thread and one NVMe queue pair per job,',
    'submission, completion, offsets, verify and latency histograms all in C++.',
    'TARGET is emu[:key=value,...] (the embedded emulated controller, the default), a PCI',
    'address bound to vfio-pci, or null[:size=SIZE,lbads=9|12]: no device at all, the driver\'s',
    'queue pair over an in-thread loopback that moves no data (fio\'s --ioengine=null twin; a 1 TiB',
    'namespace of 512 B blocks by default; --verify and --mem=cmb|p2p are refused there).',
    'With no arguments: 4 KiB randread, iodepth 32, 3 s, on emu.',
    '',
    'Options (fio\'s names and units: k = 1024 for sizes, seconds by default for times):',
    ...rows,
    '',
    'Job files: fio INI with [global] and one [section] per job; several files may be given;',
    'each must be a regular file of at most 1 MiB. --output must be a regular file (or new',
    'file, or /dev/null), not a device, not the image under test; it is checked before the run.',
    'A failed job (an IO error, a command past --cmd_timeout, CSTS.CFS) makes the exit status 1.',
    'Job files written for the kernel stack (ioengine=libaio, filename=/dev/nvme0n1, hipri, ...)',
    'run on the TARGET given; one notice line on stderr says what phyr did with each such option.',
    'fio syntax: include FILE, ${VAR}, $ncpus/$mb_memory/$pagesize (with arithmetic in parentheses),',
    '--section=NAME, --parse-only, --showcmd.',
    `fio options phyr does not implement (${Object.keys(UNSUPPORTED).length} of them, e.g. rate_iops, fsync, thinktime) are`,
    'accepted at fio\'s default value only (rate_iops=0, fsync=0); any other value is rejected by name',
    'with the reason. Unknown options are rejected too.',
    'Full guide: docs/BENCH.md',
  ].join('\n');
}

function percentilesOf(jobs: JobSpec[]) {
  return (r: { name: string }) => (jobs.find((j) => j.name === r.name) ?? jobs[0]).percentileList;
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help());
    return 0;
  }
  let config;
  try {
    config = parseBenchArgs(argv);
    // The report's file is checked before the device is opened: not the image under test,
    // not a job file, not a device, and writable (a run must not end with its report lost).
    const jobFiles = config.jobFiles.map((f) => ({ path: f, what: `the job file ${f}` }));
    if (config.run.output) checkOutputFile(config.run.output, '--output', 'PHYR_BENCH_BAD_OUTPUT', [...targetFiles(config.target), ...jobFiles]);
    // A job's write_iolog is written after the run: checked as --output is, before any IO.
    for (const j of config.jobs) if (j.writeIolog !== undefined) checkOutputFile(j.writeIolog, `--write_iolog (job '${j.name}')`, 'PHYR_BENCH_BAD_OUTPUT', [...targetFiles(config.target), ...jobFiles]);
  } catch (e) {
    console.error(`phyr bench: ${(e as Error).message}`);
    return 2;
  }
  // What phyr did with options written for the kernel stack: one line each, before any IO.
  for (const n of config.notices) console.error(`phyr bench: notice: ${n}`);
  if (config.run.showcmd) {
    for (const line of config.commandLines) console.log(line);
    return 0;
  }
  if (config.run.parseOnly) return 0;
  const { run: runOpts, jobs } = config;
  if (config.builtinDefault) console.error(`phyr bench: no job given: running the default job (4 KiB randread, iodepth 32, 3 s) on ${config.target}; see phyr bench --help`);
  let device;
  try {
    device = await openBenchTarget(config.target, jobs, { shadowDoorbells: runOpts.shadowDoorbells });
  } catch (e) {
    const err = e as Error & { code?: string };
    console.error(`phyr bench: ${err.message}`);
    return err.code?.startsWith('PHYR_BENCH_') ? 2 : 1;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const startedAt = new Date();
  const open = device;
  const info = (): RunInfo => ({
    target: config.target,
    targetDescription: open.facts.description,
    startedAt,
    iommuFaults: open.facts.iommuFaults(),
    noDevice: open.facts.noDevice,
    version: phyrVersion(),
    globalOptions: config.globalOptions,
  });
  const report = (results: JobResult[]): string =>
    runOpts.outputFormat
      .map((f) => (f === 'normal' ? formatNormal(results, percentilesOf(jobs), info()) : f === 'terse' ? formatTerse(results, percentilesOf(jobs), info()) : formatJson(results, percentilesOf(jobs), info(), f === 'json+')))
      .join('');
  // Interval dumps and the final report go to the same place, one after the other (fio's way).
  const emit = (text: string): void => {
    if (runOpts.output) fs.appendFileSync(runOpts.output, text);
    else process.stdout.write(text);
  };
  try {
    if (runOpts.output) fs.writeFileSync(runOpts.output, '');
    const sink: StatusSink = { isTty: Boolean(process.stderr.isTTY), write: (s) => process.stderr.write(s), dump: (partial) => emit(report(partial)) };
    const results = await runJobs(device, jobs, runOpts, sink, controller.signal);
    emit(report(results));
    // A failed job is named on stderr too, whatever the output format or file.
    for (const r of results) if (r.error !== 0) console.error(`phyr bench: job '${r.name}' ${jobFailed(r) ? 'failed' : 'went on past its errors'}: ${r.errorMessage ?? `error ${r.error}`}`);
    const failed = results.some(jobFailed);
    return failed ? 1 : 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    console.error(`phyr bench: ${err.message}`);
    return err.code?.startsWith('PHYR_BENCH_') ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await device.close();
  }
}

function phyrVersion(): string {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
