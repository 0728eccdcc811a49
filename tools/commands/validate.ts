// `phyr validate TARGET`: runs the conformance and data-integrity suites against a device
// and writes terminal, JUnit, JSON and HTML reports. See docs/VALIDATE.md.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { PhyrError } from '../../lib/errors';
import { DEFAULT_TARGET } from '../../targets';
import { checkTarget } from '../../targets/check';
import { defaultRegistry } from '../validate/catalog';
import { confirmDestructive, type PromptIo } from '../validate/confirm';
import { quirksFor } from '../validate/quirks';
import { parseSuites, type CaseRegistry } from '../validate/registry';
import { buildReport } from '../validate/report/build';
import { htmlReport } from '../validate/report/html';
import { jsonReport } from '../validate/report/json';
import { junitReport } from '../validate/report/junit';
import { TerminalReporter, type TerminalStream } from '../validate/report/terminal';
import { runCases } from '../validate/runner';
import { openSession, type SessionOptions, type ValidateSession } from '../validate/session';
import { SUITES } from '../validate/suites';
import { checkDistinctOutputs, checkOutputFile, targetFiles } from '../../lib/files';
import type { RunReport } from '../validate/types';

export const summary = 'check a controller against the NVMe spec and for data integrity, with JUnit/JSON/HTML reports';

const HELP = `usage: phyr validate [TARGET] [options]

Runs conformance and data-integrity cases against TARGET (default: ${DEFAULT_TARGET}) and
reports each case as pass, fail, deviation (a known quirk of this device), skipped (with the
reason) or not-applicable (the controller does not claim the feature).

TARGET    emu[:key=value,...] (the embedded controller) or a PCI address bound to vfio-pci

options:
  --suite NAME,...    run only these suites (${SUITES.map((s) => s.name).join(', ')})
  --case PATTERN,...  run only matching case ids: an id, a dotted prefix ('dptr.prp') or a
                      glob ('*.sgl.*')
  --destructive       also run cases that WRITE to the namespace (the integrity suite);
                      asks for confirmation naming the device's model and serial
  --yes, -y           do not ask (required for --destructive without a terminal)
  --nsid N            namespace under test (default 1)
  --seed N            seed of the integrity suite's data and random LBAs (each case logs
                      the seed it used; give it to replay a failure), 1..4294967295
  --peer TARGET       a second device for the p2p suite: a PCI address in the same IOMMU
                      domain, or emu:cmb=SIZE attached to an emulated target
  --timeout SECONDS   per-case timeout (default 30 on emu, 120 on hardware)
  --junit FILE        write a JUnit XML report
  --json FILE         write a JSON report (device identify data, platform, every outcome)
  --html FILE         write a self-contained HTML report
  --list              list the cases (id, suite, purpose, spec) and exit; needs no device
  --help, -h          this help

suites:
${SUITES.map((s) => `  ${s.name.padEnd(10)} ${s.description}`).join('\n')}

exit status: 0 when no case failed, 1 when one did, 2 on bad usage or a refused run.`;

/** What the command reaches outside itself (tests substitute these). */
export interface ValidateDeps {
  registry(): CaseRegistry;
  open(target: string, options: SessionOptions): Promise<ValidateSession>;
  stdout: TerminalStream;
  stderr: TerminalStream;
  prompt: PromptIo;
}

const defaultDeps = (): ValidateDeps => ({
  registry: defaultRegistry,
  open: openSession,
  stdout: process.stdout,
  stderr: process.stderr,
  prompt: { input: process.stdin, output: process.stderr, isTTY: !!process.stdin.isTTY },
});

/** Usage error: message printed with a pointer to --help, exit status 2. */
class UsageError extends PhyrError {
  constructor(message: string) {
    super('PHYR_USAGE', message);
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        suite: { type: 'string' },
        case: { type: 'string' },
        destructive: { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        nsid: { type: 'string', default: '1' },
        peer: { type: 'string' },
        seed: { type: 'string' },
        timeout: { type: 'string' },
        junit: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function positiveInt(value: string, what: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${what} must be an integer from 1 to ${max}, not '${value}'`);
  return n;
}

function writeReport(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

function listCases(registry: CaseRegistry, cases: ReturnType<CaseRegistry['select']>, out: TerminalStream): void {
  const idWidth = Math.max(2, ...cases.map((c) => c.id.length));
  out.write(`${'id'.padEnd(idWidth)}  ${'suite'.padEnd(9)}  purpose [spec]\n`);
  for (const c of cases) out.write(`${c.id.padEnd(idWidth)}  ${c.suite.padEnd(9)}  ${c.destructive ? '(destructive) ' : ''}${c.purpose} [${c.spec}]\n`);
  out.write(`${cases.length} of ${registry.size} case(s)\n`);
}

/** Runs the command with explicit dependencies; returns the exit status. */
export async function runValidate(argv: string[], deps: ValidateDeps): Promise<number> {
  let args: ReturnType<typeof parse>;
  let nsid: number;
  let seed: number | undefined;
  let suites: ReturnType<typeof parseSuites>;
  try {
    args = parse(argv);
    if (args.values.help) {
      deps.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (args.positionals.length > 1) throw new UsageError(`one TARGET at most, got ${args.positionals.join(' ')}`);
    nsid = positiveInt(args.values.nsid, '--nsid', 0xfffffffe);
    seed = args.values.seed !== undefined ? positiveInt(args.values.seed, '--seed', 0xffffffff) : undefined;
    suites = parseSuites(args.values.suite);
  } catch (err) {
    deps.stderr.write(`phyr validate: ${(err as Error).message}\n(see phyr validate --help)\n`);
    return 2;
  }
  const target = args.positionals[0] ?? DEFAULT_TARGET;
  const registry = deps.registry();
  let cases;
  try {
    cases = registry.select({ suites, pattern: args.values.case });
  } catch (err) {
    deps.stderr.write(`phyr validate: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.values.list) {
    listCases(registry, cases, deps.stdout);
    return 0;
  }
  let timeoutMs: number;
  let kind: 'emu' | 'vfio';
  try {
    kind = checkTarget(target);
    if (args.values.peer !== undefined) checkTarget(args.values.peer);
    timeoutMs = 1000 * (args.values.timeout !== undefined ? positiveInt(args.values.timeout, '--timeout', 3600) : kind === 'emu' ? 30 : 120);
    // Report paths are checked now, before the suite runs: a run of minutes must not end
    // with its reports refused. Not a directory, not a device, not the image under test,
    // not each other, and a writable place (missing directories are created later).
    const reports = (['junit', 'json', 'html'] as const).flatMap((k) => (args.values[k] !== undefined ? [{ option: `--${k}`, file: args.values[k] as string }] : []));
    const protect = [...targetFiles(target), ...targetFiles(args.values.peer)];
    for (const r of reports) checkOutputFile(r.file, r.option, 'PHYR_USAGE', protect, true);
    checkDistinctOutputs(reports, 'PHYR_USAGE');
  } catch (err) {
    deps.stderr.write(`phyr validate: ${(err as Error).message}\n`);
    return 2;
  }
  if (!cases.length) {
    deps.stderr.write('phyr validate: no case selected: this build has no cases for the chosen suites (see phyr validate --list)\n');
    return 2;
  }

  const session = await deps.open(target, { nsid, peer: args.values.peer, commandTimeoutMs: Math.min(timeoutMs, kind === 'emu' ? 5000 : 30_000) });
  try {
    // An --nsid the controller does not have would fail every namespace case: a usage
    // error (Identify Namespace of an inactive NSID returns zeros, NVMe 1.4 §5.15.2.1).
    if (argv.some((a) => a === '--nsid' || a.startsWith('--nsid=')) && !(Number(session.device.namespace?.nsze) > 0)) {
      const active = session.device.activeNamespaces;
      const which = active ? (active.length ? `the active namespace(s): ${describeIds(active)}` : 'the controller reports no active namespace') : 'an active namespace';
      deps.stderr.write(`phyr validate: --nsid ${nsid}: namespace ${nsid} is not active on ${session.device.model.trim()} (Identify Namespace reports no capacity); give ${which} (see phyr identify ${target})\n`);
      return 2;
    }
    if (args.values.destructive) {
      const answer = await confirmDestructive(session.device, nsid, args.values.yes, deps.prompt);
      if (!answer.ok) {
        deps.stderr.write(`phyr validate: refusing the destructive run: ${answer.reason}\n`);
        return 2;
      }
    }
    const quirks = quirksFor(session.device);
    const terminal = new TerminalReporter(deps.stdout);
    terminal.header({ target, device: session.device, platform: session.platform, quirks }, cases.length, args.values.destructive);
    const startedAt = new Date();
    const results = await runCases(cases, session, {
      target,
      nsid,
      destructive: args.values.destructive,
      quirks,
      timeoutMs,
      seed,
      onStart: (c, i, n) => terminal.start(c, i, n),
      onResult: (r, i, n) => terminal.result(r, i, n),
    });
    const report: RunReport = buildReport({
      target,
      options: { suites, casePattern: args.values.case, destructive: args.values.destructive, nsid },
      device: session.device,
      platform: session.platform,
      quirks,
      results,
      startedAt,
      finishedAt: new Date(),
    });
    terminal.summary(report);
    const written: string[] = [];
    if (args.values.junit) writeReport(args.values.junit, junitReport(report)), written.push(`JUnit ${args.values.junit}`);
    if (args.values.json) writeReport(args.values.json, jsonReport(report)), written.push(`JSON ${args.values.json}`);
    if (args.values.html) writeReport(args.values.html, htmlReport(report)), written.push(`HTML ${args.values.html}`);
    if (written.length) deps.stdout.write(`reports: ${written.join(', ')}\n`);
    const skippedDestructive = results.filter((r) => r.destructive && r.outcome.status === 'skipped').length;
    if (skippedDestructive && !args.values.destructive) deps.stdout.write(`${skippedDestructive} destructive case(s) skipped: add --destructive to run them\n`);
    return report.totals.fail ? 1 : 0;
  } finally {
    await session.close();
  }
}

/** Entry point used by tools/phyr.ts. */
export async function run(argv: string[]): Promise<number> {
  return runValidate(argv, defaultDeps());
}

/** Namespace ids for a message: '1, 2, 3' (the first 16, then how many more). */
function describeIds(ids: readonly number[]): string {
  const shown = ids.slice(0, 16).join(', ');
  return ids.length > 16 ? `${shown} and ${ids.length - 16} more` : shown;
}
