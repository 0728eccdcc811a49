// Runs one raw conformance case on a PciFunction: builds the RawController, turns a thrown
// error into a failure that says what happened, and always releases the queue memory.
import type { CaseOutcome } from './case';
import type { RawCase } from './check';
import { RawController, type RawDmaAllocator } from './raw-queue';

/** Options of runRawCase. */
export interface RunOptions {
  /** Known deviations of the device (quirk names). */
  quirks?: ReadonlySet<string>;
  /** Allow cases that write to the media. */
  destructive?: boolean;
  /** Completion timeout per command. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Runs `c` and returns its outcome (never throws for a device misbehaviour). */
export async function runRawCase(c: RawCase, fn: import('../lib/pci/function').PciFunction, mem: RawDmaAllocator, o: RunOptions = {}): Promise<CaseOutcome> {
  if (c.destructive && !o.destructive) return { status: 'skipped', reason: 'writes to the media: run with --destructive' };
  const raw = new RawController(fn, mem, { timeoutMs: o.timeoutMs });
  try {
    return await c.run({ fn, raw, quirks: o.quirks ?? new Set(), destructive: o.destructive ?? false, log: o.log ?? (() => undefined) });
  } catch (e) {
    return { status: 'fail', expected: 'the case to run to its end', received: `error: ${(e as Error).message}` };
  } finally {
    await raw.close();
  }
}
