// The vocabulary of phyr validate: a case as the runner sees it, the context it runs in, the
// record of one case's result and the whole run's report. The raw conformance cases keep
// their own shape (conformance/case.ts); this file only extends it.
import type { PciFunction } from '../../lib/pci/function';
import type { CaseContext, CaseOutcome, ConformanceCase, SuiteName } from '../../conformance/case';

export type { CaseContext, CaseOutcome, ConformanceCase, SuiteName };

/** Every outcome status, in the order reports list them. */
export const OUTCOME_STATUSES = ['pass', 'fail', 'deviation', 'skipped', 'not-applicable'] as const;
/** One outcome status. */
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/**
 * What a case needs from the device:
 * - 'raw': raw admin/IO queues (conformance/raw-queue.ts); the raw conformance cases.
 * - 'driver': an open driver Controller (drivers/nvme); the integrity, p2p and errors cases
 *   written for phyr validate itself.
 * - 'none': nothing but the context (synthetic cases in tests).
 */
export type CaseNeeds = 'raw' | 'driver' | 'none';

/** The context of a validate case: the raw conformance context plus what the runner knows. */
export interface ValidateContext<Raw = unknown, Driver = unknown> extends CaseContext<Raw> {
  /** The namespace under test (--nsid). */
  nsid: number;
  /** The driver controller, for cases whose `needs` is 'driver' (undefined otherwise). */
  controller?: Driver;
  /** The target string the run was started with (e.g. 'emu:sgl=on' or '0000:01:00.0'). */
  target: string;
  /** A peer function in the same IOMMU domain (--peer), for the p2p suite. */
  peer?: PciFunction;
  /** The seed of the integrity suite's patterns and random LBAs (--seed); undefined: a new one per case. */
  seed?: number;
}

/** A case in the validate registry: a conformance case, possibly needing the driver. */
export interface ValidateCase<Raw = unknown, Driver = unknown> extends ConformanceCase<Raw> {
  /** What the case needs from the device; raw conformance cases default to 'raw'. */
  needs?: CaseNeeds;
  /** Per-case timeout override in milliseconds. */
  timeoutMs?: number;
  run(ctx: ValidateContext<Raw, Driver>): Promise<CaseOutcome>;
}

/** One case's result in a report. */
export interface CaseResult {
  id: string;
  suite: SuiteName;
  purpose: string;
  spec: string;
  destructive: boolean;
  outcome: CaseOutcome;
  /** Wall time of the case in milliseconds (0 when it was not run). */
  durationMs: number;
  /** Lines the case logged while it ran. */
  log: string[];
}

/** The identity of the device under test, for quirk matching and reports. */
export interface DeviceIdentity {
  /** The target string. */
  target: string;
  /** 'emu' or 'vfio'. */
  kind: 'emu' | 'vfio' | 'synthetic';
  /** PCI vendor and device id from config space. */
  vendorId: number;
  deviceId: number;
  /** Identify Controller model number, serial number and firmware revision (trimmed). */
  model: string;
  serial: string;
  firmware: string;
  /** The NVMe version register as 'major.minor.tertiary'. */
  version?: string;
  /** Decoded Identify Controller fields (nvme-cli names) for the JSON report. */
  identify?: Record<string, unknown>;
  /** Active namespace ids (Identify CNS 02h), when the controller answered it. */
  activeNamespaces?: number[];
  /** Decoded Identify Namespace fields of the namespace under test. */
  namespace?: Record<string, unknown>;
}

/** The machine the run happened on. */
export interface PlatformInfo {
  /** Kernel release (uname -r). */
  kernel: string;
  os: string;
  arch: string;
  node: string;
  hostname: string;
  cpus: number;
  /** The IOMMU backend the device was reached through: 'emulated', 'vfio-type1v2', 'iommufd'... */
  iommu: string;
}

/** Totals per outcome status. */
export type OutcomeTotals = Record<OutcomeStatus, number>;

/** What the run was asked to do. */
export interface RunOptions {
  suites: SuiteName[];
  casePattern?: string;
  destructive: boolean;
  nsid: number;
}

/** A finished validate run: what every report format is written from. */
export interface RunReport {
  schema: 'phyr-validate/1';
  tool: { name: 'phyr validate'; version: string };
  target: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  options: RunOptions;
  device: DeviceIdentity;
  platform: PlatformInfo;
  /** Known deviations that apply to this device. */
  quirks: { id: string; description: string }[];
  totals: OutcomeTotals;
  cases: CaseResult[];
}

/** A zeroed totals record. */
export function emptyTotals(): OutcomeTotals {
  return { pass: 0, fail: 0, deviation: 0, skipped: 0, 'not-applicable': 0 };
}
