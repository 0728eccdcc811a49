// The case runner: runs selected cases one at a time against a prepared environment, turns
// every way a case can end (an outcome, a throw, a hang) into a recorded result, gates
// destructive cases, and reports expected failures of quirky devices as deviations.
import type { PciFunction } from '../../lib/pci/function';
import { quirkForCase, type Quirk } from './quirks';
import { OUTCOME_STATUSES, type CaseOutcome, type CaseResult, type DeviceIdentity, type ValidateCase, type ValidateContext } from './types';

/** Thrown by an environment's prepare() when a case cannot run here: the case is skipped. */
export class CaseSkip extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CaseSkip';
  }
}

/** What the environment hands a case on top of the common context. */
export interface PreparedCase {
  /** Raw queues (for needs 'raw'). */
  raw?: unknown;
  /** Driver controller (for needs 'driver'). */
  controller?: unknown;
  /** Releases what prepare() set up; called after the case ends, even on failure. */
  release(): Promise<void>;
}

/** The device side of a run: opens what cases need. See tools/validate/session.ts. */
export interface CaseEnvironment {
  /** The device under test. */
  readonly fn: PciFunction;
  readonly device: DeviceIdentity;
  /** A peer function in the same IOMMU domain (--peer), if any. */
  readonly peer?: PciFunction;
  /** Sets up what `c.needs`; throws CaseSkip when the case cannot run on this device. */
  prepare(c: ValidateCase): Promise<PreparedCase>;
  /** Brings the device back to a known state after a case hung or threw (optional). */
  recover?(reason: string): Promise<void>;
}

/** Run-wide settings. */
export interface RunnerOptions {
  target: string;
  nsid: number;
  destructive: boolean;
  quirks: readonly Quirk[];
  /** Default per-case timeout in milliseconds. */
  timeoutMs: number;
  /** The integrity suite's seed (--seed), to reproduce a failed run; undefined: a new one per case. */
  seed?: number;
  /** Called before a case starts (1-based index). */
  onStart?(c: ValidateCase, index: number, total: number): void;
  /** Called with each result as it is recorded. */
  onResult?(r: CaseResult, index: number, total: number): void;
}

/** Describes a thrown value for a report. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`;
  }
  return String(err);
}

/** Checks a case's returned value has the shape of an outcome. */
function checkOutcome(value: unknown): CaseOutcome {
  const v = value as Partial<Record<string, unknown>> | null;
  if (!v || typeof v !== 'object' || !(OUTCOME_STATUSES as readonly unknown[]).includes(v.status)) {
    return { status: 'fail', expected: 'the case to return an outcome (pass, fail, deviation, skipped, not-applicable)', received: `a malformed outcome: ${JSON.stringify(value)}` };
  }
  return v as CaseOutcome;
}

/**
 * Races `p` against a timer. The timer is deliberately not unref'd: a case awaiting
 * something that will never happen must still end in a timeout result, not in the process
 * exiting with the run unreported.
 */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeout(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class CaseTimeout extends Error {
  override name = 'CaseTimeout';
}

/** Runs one case and returns its result (never throws). */
export async function runCase(c: ValidateCase, env: CaseEnvironment, opts: RunnerOptions): Promise<CaseResult> {
  const log: string[] = [];
  const base = { id: c.id, suite: c.suite, purpose: c.purpose, spec: c.spec, destructive: !!c.destructive, log };
  if (c.destructive && !opts.destructive) {
    return { ...base, outcome: { status: 'skipped', reason: 'writes to the media: runs only with --destructive' }, durationMs: 0 };
  }
  const t0 = performance.now();
  const timeoutMs = c.timeoutMs ?? opts.timeoutMs;
  let outcome: CaseOutcome;
  let prepared: PreparedCase | undefined;
  let needsRecovery: string | undefined;
  try {
    prepared = await withTimeout(env.prepare(c), timeoutMs, `preparing ${c.needs ?? 'raw'} access`);
    const ctx: ValidateContext = {
      fn: env.fn,
      raw: prepared.raw,
      controller: prepared.controller,
      quirks: new Set(opts.quirks.map((q) => q.id)),
      destructive: opts.destructive,
      nsid: opts.nsid,
      target: opts.target,
      peer: env.peer,
      seed: opts.seed,
      log: (line) => void log.push(line),
    };
    outcome = checkOutcome(await withTimeout(Promise.resolve().then(() => c.run(ctx)), timeoutMs, 'the case'));
  } catch (err) {
    if (err instanceof CaseSkip) {
      outcome = { status: 'skipped', reason: err.reason };
    } else {
      const timedOut = err instanceof CaseTimeout;
      needsRecovery = describeError(err);
      outcome = {
        status: 'fail',
        expected: timedOut ? `the case to finish within ${timeoutMs} ms` : 'the case to run to an outcome',
        received: timedOut ? `${(err as Error).message} (a command never completed?)` : `an exception: ${describeError(err)}`,
        detail: !timedOut && err instanceof Error && err.stack ? err.stack.split('\n').slice(0, 6).join('\n') : undefined,
      };
    }
  }
  if (prepared) {
    try {
      await withTimeout(prepared.release(), timeoutMs, 'releasing the case');
    } catch (err) {
      needsRecovery ??= describeError(err);
      log.push(`release failed: ${describeError(err)}`);
    }
  }
  if (needsRecovery && env.recover) {
    try {
      await withTimeout(env.recover(needsRecovery), timeoutMs, 'recovering the device');
      log.push(`device recovered after: ${needsRecovery}`);
    } catch (err) {
      log.push(`recovery failed: ${describeError(err)}`);
    }
  }
  if (outcome.status === 'fail') {
    const quirk = quirkForCase(c.id, opts.quirks);
    if (quirk) {
      const f = outcome;
      outcome = { status: 'deviation', quirk: quirk.id, expected: f.expected, received: f.received };
      log.push(`known deviation ${quirk.id}: ${quirk.description}`);
      if (f.sent) log.push(`sent: ${f.sent}`);
      if (f.detail) log.push(f.detail);
    }
  } else if (outcome.status === 'pass') {
    const quirk = quirkForCase(c.id, opts.quirks);
    if (quirk) log.push(`quirk ${quirk.id} is listed for this case but the device behaved as the spec says`);
  }
  return { ...base, outcome, durationMs: Math.round((performance.now() - t0) * 1000) / 1000 };
}

/** Runs cases in order; returns every result. */
export async function runCases(cases: readonly ValidateCase[], env: CaseEnvironment, opts: RunnerOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    opts.onStart?.(c, i + 1, cases.length);
    const r = await runCase(c, env, opts);
    results.push(r);
    opts.onResult?.(r, i + 1, cases.length);
  }
  return results;
}
