// What validate's driver-level cases receive as ctx.controller: the driver's Controller
// over the function under test, and a way to shut it down and bring it up again on the
// same function (the "after shutdown / re-open" integrity case).
import type { Controller } from '../../../drivers/nvme';
import type { Namespace } from '../../../drivers/nvme';
import type { RawController } from '../../../conformance/raw-queue';
import type { ValidateContext } from '../types';

/** The driver side of a case. */
export interface DriverAccess {
  /** The controller, brought up by the driver. */
  readonly controller: Controller;
  /** Shuts the controller down (CC.SHN, NVMe 1.4 §7.6.2) and brings it up again on the same function. */
  reopen(): Promise<Controller>;
  /**
   * Shuts the driver down and runs `body` on raw queues over the same function (the
   * driver comes back up for the next case that needs it). For a case whose command needs
   * an IO queue pair of its own when the controller granted only the one the driver's
   * namespace API holds.
   */
  withoutDriver<T>(body: (raw: RawController) => Promise<T>): Promise<T>;
}

/** The driver access and namespace of a driver-level case (throws when the runner gave none). */
export function driverOf(ctx: ValidateContext): { access: DriverAccess; ctrl: Controller; ns: Namespace } {
  const access = ctx.controller as DriverAccess | undefined;
  if (!access) throw new Error('this case needs the driver: the runner prepared no controller');
  const ctrl = access.controller;
  return { access, ctrl, ns: ctrl.namespace(ctx.nsid) };
}

/** Largest transfer per command in bytes: MDTS (0 = none) capped at 128 KiB. */
export function maxTransferBytes(ctrl: Controller): number {
  const mdts = ctrl.queueCaps.maxTransfer;
  return Math.min(mdts > 0 ? mdts : Infinity, 128 * 1024);
}
