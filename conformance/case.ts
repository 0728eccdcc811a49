// A conformance case: one rule of the NVMe specification checked with raw commands through
// the PCI-function interface, so the same case runs on the embedded controller, on QEMU's
// NVMe through VFIO, and on real hardware (phyr validate). The emulator's tests and the VM
// tier run these cases too; nothing checks a rule twice.
import type { PciFunction } from '../lib/pci/function';

/** Suites of phyr validate (each case belongs to one). */
export type SuiteName = 'registers' | 'admin' | 'dptr' | 'integrity' | 'p2p' | 'errors';

/** Result of one case. A failure records what was sent, received and expected. */
export type CaseOutcome =
  | { status: 'pass'; detail?: string }
  | { status: 'fail'; expected: string; received: string; sent?: string; detail?: string }
  | { status: 'deviation'; quirk: string; expected: string; received: string }
  | { status: 'skipped'; reason: string }
  | { status: 'not-applicable'; reason: string };

/** What a case may use. `raw` is the raw command channel (see conformance/raw-queue.ts). */
export interface CaseContext<Raw = unknown> {
  /** The device under test. */
  fn: PciFunction;
  /** Raw command access (admin and IO queues built by the case runner). */
  raw: Raw;
  /** Names of the known deviations (quirks) of this device; see tools/validate/quirks.ts. */
  quirks: ReadonlySet<string>;
  /** True when the run may write to the namespaces (phyr validate --destructive). */
  destructive: boolean;
  /** Progress or diagnostic line for the report. */
  log(line: string): void;
}

/** One conformance case. */
export interface ConformanceCase<Raw = unknown> {
  /** Stable id, e.g. 'dptr.prp.offset-in-prp2'. */
  id: string;
  suite: SuiteName;
  /** One line: what the case checks. */
  purpose: string;
  /** The specification section the rule comes from, e.g. 'NVMe 1.4 §4.3'. */
  spec: string;
  /** Writes to the media: runs only with --destructive. */
  destructive?: boolean;
  run(ctx: CaseContext<Raw>): Promise<CaseOutcome>;
}
