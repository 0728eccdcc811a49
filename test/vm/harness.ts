// The in-guest test harness: cases register with `test`, run one after another in one
// node process, print "ok/not ok" lines and a closing "N passed, N failed", and write
// results.json into the results share.
import * as fs from 'fs';
import * as path from 'path';

/** One in-guest case. */
interface VmCase {
  name: string;
  fn: () => Promise<void> | void;
}
const cases: VmCase[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
const notes: { case: string; note: string }[] = [];
let current = '';

/** Records a finding (e.g. a device deviation) in results.json and prints it. */
export function note(text: string): void {
  notes.push({ case: current, note: text });
  console.log(`  note: ${text}`);
}

/** Registers a case (runs in registration order). */
export function test(name: string, fn: () => Promise<void> | void): void {
  cases.push({ name, fn });
}

/** Registers something to undo after the last case (reverse order). */
export function atEnd(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

/** Result of one case. */
export interface CaseResult {
  name: string;
  ok: boolean;
  seconds: number;
  error?: string;
}

/** Runs every case whose name contains `filter` (or one of its `|`-separated parts, so
 *  cases that interact can run together in their suite order) and returns the results. */
export async function runCases(filter = ''): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const parts = filter.split('|').filter(Boolean);
  for (const c of cases) {
    if (parts.length && !parts.some((p) => c.name.includes(p))) continue;
    const t0 = Date.now();
    current = c.name;
    try {
      await c.fn();
      results.push({ name: c.name, ok: true, seconds: (Date.now() - t0) / 1000 });
      console.log(`ok - ${c.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      const e = err as Error;
      results.push({ name: c.name, ok: false, seconds: (Date.now() - t0) / 1000, error: e.stack ?? String(err) });
      console.log(`not ok - ${c.name}\n  ${(e.stack ?? String(err)).split('\n').join('\n  ')}`);
    }
  }
  for (const f of cleanups.reverse()) {
    try {
      await f();
    } catch (err) {
      console.log(`cleanup failed: ${(err as Error).message}`);
    }
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const share = process.env.PHYR_VM_SHARE;
  if (share) fs.writeFileSync(path.join(share, 'results.json'), JSON.stringify({ passed, failed, results, notes }, null, 1));
  console.log(`${passed} passed, ${failed} failed`);
  return results;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every few ms until true, or throws after `ms` with `what`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(2);
  }
}
