// Runs `phyr validate` for real (the command, the default catalogue, a real session on the
// embedded controller) with reports in a temporary directory, and checks a full-suite run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import type { Test } from 'tap';
import { runValidate, type ValidateDeps } from '../../tools/commands/validate';
import { defaultRegistry } from '../../tools/validate/catalog';
import { openSession } from '../../tools/validate/session';
import type { RunReport } from '../../tools/validate/types';
import { parseXml } from './xml-check';


// The real registry and sessions, with stdout and stderr captured into one string.
function captured(): { deps: ValidateDeps; output: () => string } {
  let out = '';
  const deps: ValidateDeps = {
    registry: defaultRegistry,
    open: openSession,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (out += s) },
    prompt: { input: new PassThrough(), output: new PassThrough(), isTTY: false },
  };
  return { deps, output: () => out };
}

/** Runs the command for real on `argv` and returns the exit status, output and JSON report. */
export async function validateEmu(argv: string[]): Promise<{ code: number; out: string; report: RunReport; junit: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-validate-emu-'));
  try {
    const { deps, output } = captured();
    const json = path.join(dir, 'r.json');
    const junit = path.join(dir, 'r.xml');
    const code = await runValidate([...argv, '--json', json, '--junit', junit], deps);
    return { code, out: output(), report: JSON.parse(fs.readFileSync(json, 'utf8')) as RunReport, junit: fs.readFileSync(junit, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the command on `argv` when it is expected to stop before any report is written (a usage error). */
export async function validateEmuRefused(argv: string[]): Promise<{ code: number; out: string }> {
  const { deps, output } = captured();
  const code = await runValidate(argv, deps);
  return { code, out: output() };
}

/** Every suite, destructive cases included, passes on `target`. */
export async function expectFullPass(t: Test, target: string, extra: string[] = []): Promise<RunReport> {
  const r = await validateEmu([target, '--destructive', '--yes', ...extra]);
  const failed = r.report.cases.filter((c) => c.outcome.status === 'fail');
  t.same(failed.map((c) => `${c.id}: ${JSON.stringify(c.outcome)}`), [], 'no case fails');
  t.equal(r.code, 0, 'exit status 0');
  t.match(r.out, /PASS: \d+ pass, 0 fail/);
  const ran = new Set<string>(r.report.cases.map((c) => c.suite));
  for (const suite of ['registers', 'admin', 'dptr', 'errors', 'p2p', 'integrity']) t.ok(ran.has(suite), `suite ${suite} ran`);
  for (const id of ['integrity.sequential', 'integrity.random', 'integrity.multi-queue', 'integrity.after-reset', 'integrity.after-reopen']) {
    t.equal(r.report.cases.find((c) => c.id === id)?.outcome.status, 'pass', `${id} passes`);
  }
  t.ok(r.report.totals.pass >= 40, `${r.report.totals.pass} cases pass`);
  t.equal(r.report.device.kind, 'emu');
  t.match(r.report.device, { model: /\S/, serial: /\S/, identify: { mn: /\S/ }, namespace: { nsze: Number } });
  t.equal(r.report.platform.iommu, 'embedded controller IOMMU table');
  t.equal(parseXml(r.junit).attrs.failures, '0');
  return r.report;
}
