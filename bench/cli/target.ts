// What the bench command holds once a target is open, device or not: the runner's
// BenchDevice plus the facts the report prints and a close.
import type { BenchDevice } from './runner';

/** Facts about the target for the report. */
export interface TargetFacts {
  description: string;
  /** IOMMU faults the target saw; null when it has no IOMMU (the null target). */
  iommuFaults(): number | null;
  /** True for the null target: no device was driven, so no figure is a device's. */
  noDevice?: boolean;
}

/** An open target ready for the runner: a device, or the null target (no controller). */
export interface BenchTarget extends BenchDevice {
  readonly facts: TargetFacts;
  close(): Promise<void>;
}
