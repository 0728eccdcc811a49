// Failure handling: command timeouts (Abort, then reset), the CSTS.CFS and device-gone
// watch, bounded recovery by controller reset, the dead state, and which error a command
// ended by any of them rejects with.
import type { DmaBuffer } from '../../lib/dma';
import { read32 } from '../../lib/mmio';
import type { PciFunction } from '../../lib/pci/function';
import { abortSqe } from './admin';
import type { Command } from './dispatcher';
import { ControllerClosedError, ControllerDeadError, ControllerFatalError, ControllerResetError, DeviceGoneError, NvmeStatusError, NvmeTimeoutError, opcodeName } from './errors';
import { quiesce } from './leftovers';
import type { Lifecycle } from './lifecycle';
import { recoveryBackoffMs, type RecoveryOptions } from './options';
import type { QueueRuntime, QueueSet } from './queues';
import { disable, enableBusMaster, readCsts, type ControllerCap } from './registers';
import { NVME } from '../../spec/nvme';
import { PCI } from '../../spec/pci';

/** Runs one admin command; resolves with CQE DW0. */
export type AdminRun = (sqe: Uint8Array, data?: DmaBuffer) => Promise<number>;

/** Counters of recovery actions (Controller.recovery). */
export interface RecoveryCounters {
  aborts: number;
  resets: number;
  attempts: number;
  lastResetReason: string;
}

/** What recovery needs from its controller. */
export interface RecoveryHost {
  readonly fn: PciFunction;
  /** BAR0: the controller's registers. */
  readonly bar: ArrayBuffer;
  readonly cap: ControllerCap;
  readonly timeoutMs: number;
  readonly life: Lifecycle;
  readonly queues: QueueSet;
  adminCommand: AdminRun;
  /** Initializes the disabled controller again (admin queue, CMB, IO queues) through `run`. */
  restart(run: AdminRun): Promise<void>;
}

/** Longest wait for one admin command of a reset (shorter when timeoutMs is). */
const RESET_COMMAND_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One controller's recovery. */
export class Recovery {
  private readonly bar: ArrayBuffer;
  private autoResetTimes: number[] = [];

  constructor(
    private readonly host: RecoveryHost,
    private readonly limits: Readonly<Required<RecoveryOptions>>,
    private readonly counters: RecoveryCounters,
    private readonly tickMs: number,
  ) {
    this.bar = host.bar;
  }

  // ---- timeouts and the CSTS watch ----

  // Every tick: the CSTS watch, then timeouts (NVMe 1.4 §5.1 Abort). A command older than
  // timeoutMs gets an Abort; when the controller answers "not aborted" (DW0 bit 0 = 1),
  // the Abort fails, or the command is still there one tick later, the controller is
  // reset. Either way the command fails with NvmeTimeoutError. Admin commands are not
  // aborted: their timeout resets at once.
  /** The timer's tick. */
  onTick(): void {
    const { life, queues, timeoutMs } = this.host;
    if (life.state !== 'live' || life.closing) return;
    if (!this.checkHealth()) return;
    // A command is stamped with the epoch current at submission, up to one tick before
    // the next: one tick more than timeoutMs / tickMs guarantees it is at least
    // timeoutMs old when it expires (and at most one tick older).
    const age = Math.ceil(timeoutMs / this.tickMs) + 1;
    for (const r of [queues.admin, queues.io]) {
      if (!r?.disp || r.qp.isClosed || r.disp.outstanding === 0) continue;
      r.qp.native.tick();
      const expired = r.qp.native.expired(age);
      if (expired.length === 0) continue;
      const late = expired.some(([tag]) => r.disp?.commandOf(tag)?.aborted) ? new Set(r.qp.native.expired(age + 1).map(([t]) => t)) : undefined;
      for (const [tag, cid] of expired) {
        const cmd = r.disp.commandOf(tag);
        if (!cmd) continue;
        if (r === queues.admin || (cmd.aborted && late?.has(tag))) {
          this.timedOutReset(cmd);
          return;
        }
        if (!cmd.aborted) this.sendAbort(r, tag, cid, cmd);
      }
    }
  }

  private sendAbort(r: QueueRuntime, tag: number, cid: number, cmd: Command): void {
    cmd.aborted = true;
    this.counters.aborts++;
    const stillThere = (): boolean => !r.qp.isClosed && r.disp?.commandOf(tag) === cmd;
    this.host.adminCommand(abortSqe(r.qp.id, cid)).then(
      (dw0) => {
        // Abort DW0 bit 0 (NVMe 1.4 §5.1): 1 = the command was not aborted.
        if ((dw0 & 1) !== 0 && stillThere()) this.timedOutReset(cmd);
      },
      () => {
        if (stillThere()) this.timedOutReset(cmd);
      },
    );
  }

  private timedOutReset(cmd: Command): void {
    const { life } = this.host;
    if (life.state !== 'live' || life.closing) return;
    cmd.timedOut = true;
    this.autoReset(`${cmd.info.name} timed out after ${this.host.timeoutMs} ms`);
  }

  // A function whose config space is unreadable (or reads all ones) is gone.
  private probeDevice(): void {
    let vendor: number;
    try {
      vendor = this.host.fn.configRead(PCI.CFG_VENDOR_ID, 2);
    } catch (e) {
      throw new DeviceGoneError(`its config space cannot be read (${(e as Error).message})`);
    }
    if (vendor === 0xffff) throw new DeviceGoneError('its config space reads all ones');
    // VS (NVMe 1.4 §3.1.2) is a constant of a live controller with a major version of at
    // least 1. After a hot unplug behind VFIO, vfio-pci keeps answering config reads from
    // its virtual config space, but BAR0 reads all zeros (QEMU 7.2) or all ones (a real
    // bus): either is a controller that is no longer there.
    const vs = read32(this.bar, NVME.REG_VS);
    if (vs === 0 || vs === 0xffffffff) throw new DeviceGoneError(`its Version register reads ${vs === 0 ? 'all zeros' : 'all ones'}`);
  }

  /** The device and CSTS.CFS watch; false when the controller is unusable (a reset or failure was started). */
  checkHealth(): boolean {
    const { life } = this.host;
    if (life.state !== 'live' || life.closing) return true;
    let csts: number;
    try {
      this.probeDevice();
      csts = readCsts(this.bar);
    } catch (e) {
      this.die(e instanceof DeviceGoneError ? e : new DeviceGoneError(`its registers cannot be read (${(e as Error).message})`));
      return false;
    }
    if ((csts & NVME.CSTS_CFS) !== 0) {
      this.autoReset('controller fatal status (CSTS.CFS)');
      return false;
    }
    return true;
  }

  // ---- the errors of ended commands (DispatcherHost) ----

  /** The error of a command cancelled by a reset, a failure or close. */
  cancelledError(cmd: Command): Error {
    const { life } = this.host;
    if (life.state === 'failed' && life.failure) return life.failure;
    if (cmd.timedOut || cmd.aborted) return new NvmeTimeoutError(cmd.info, this.host.timeoutMs, 'reset');
    if (life.stopping) return new ControllerClosedError(cmd.info.name);
    return new ControllerResetError(cmd.info, this.counters.lastResetReason || 'reset');
  }

  // Errors of commands the controller completed with a status. Two of them are the
  // driver's own doing and are reported as what the application asked for or ran into:
  // Command Abort Requested after a timeout's Abort is the timeout, and Command Aborted
  // due to SQ Deletion while closing is the close (NVMe 1.4 §5.6: deleting an SQ aborts
  // what it still holds).
  /** The error of a command the controller completed with `status`. */
  statusError(cmd: Command, status: number): Error {
    const sct = (status >> 8) & 7;
    const sc = status & 0xff;
    if (sct === NVME.SCT_GENERIC) {
      if (sc === NVME.SC_ABORTED_BY_REQUEST && cmd.aborted) return new NvmeTimeoutError(cmd.info, this.host.timeoutMs, 'aborted');
      if (sc === NVME.SC_ABORTED_SQ_DELETION && this.host.life.closing) return new ControllerClosedError(cmd.info.name);
    }
    return new NvmeStatusError(status, cmd.info);
  }

  // ---- reset and the dead state ----

  // Automatic recovery, bounded: more than maxResets within windowMs is a recurring fault
  // no reset cures, and the controller is declared dead instead.
  private autoReset(reason: string): void {
    this.recover(reason, true).catch(() => undefined);
  }

  /** Resets the controller (Controller.reset); `automatic` recoveries count against maxResets. */
  recover(reason: string, automatic: boolean): Promise<void> {
    const { life } = this.host;
    if (life.stopping) return Promise.reject(new ControllerClosedError('reset'));
    if (life.state === 'failed') return Promise.reject(life.failure as Error);
    if (life.resetting) return life.resetting;
    if (automatic) {
      const { maxResets, windowMs } = this.limits;
      const now = Date.now();
      this.autoResetTimes = this.autoResetTimes.filter((t) => now - t < windowMs);
      if (this.autoResetTimes.length >= maxResets) {
        this.die(new ControllerDeadError(reason, `it recurred after ${maxResets} automatic reset${maxResets === 1 ? '' : 's'} within ${windowMs} ms (OpenOptions.recovery.maxResets)`));
        return Promise.reject(life.failure as Error);
      }
      this.autoResetTimes.push(now);
    }
    life.resetting = this.runReset(reason).finally(() => {
      life.resetting = undefined;
    });
    return life.resetting;
  }

  private async runReset(reason: string): Promise<void> {
    const { life } = this.host;
    life.state = 'resetting';
    this.counters.resets++;
    this.counters.lastResetReason = reason;
    const { attempts, backoffMs } = this.limits;
    let last: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(recoveryBackoffMs(backoffMs, attempt));
      if (life.closing) throw new ControllerClosedError('reset');
      this.counters.attempts++;
      try {
        await this.resetOnce(reason);
        life.state = 'live';
        // Commands queued while the reset ran were refused; what completes now is new.
        return;
      } catch (e) {
        last = e as Error;
        if (life.closing) throw new ControllerClosedError('reset');
        if (last instanceof DeviceGoneError) break;
      }
    }
    this.die(last instanceof DeviceGoneError ? last : new ControllerDeadError(reason, `${attempts} reset attempt${attempts === 1 ? '' : 's'} failed`, last));
    throw life.failure as Error;
  }

  // One reset (NVMe 1.4 §7.3.2 controller reset, then §7.6.1 initialization again). Every
  // wait is bounded: RDY by CAP.TO, each admin command by RESET_COMMAND_MS (or timeoutMs),
  // and a CSTS.CFS or an all-ones register fails the attempt at once.
  private async resetOnce(reason: string): Promise<void> {
    this.probeDevice();
    await disable(this.bar, this.host.cap);
    // The reset re-establishes bus mastering too, in case it was lost (after the
    // disable, so nothing still queued runs before the queues are rebuilt).
    enableBusMaster(this.host.fn);
    this.host.queues.cancelAll((cmd) => new ControllerResetError(cmd.info, reason));
    await this.host.restart((sqe, data) => this.resetCommand(sqe, data));
  }

  // An admin command of a reset: settles within its limit, or as soon as CSTS shows a
  // fatal status (or reads all ones), or when close() is called. A command left behind
  // is cancelled by the next attempt's disable.
  private resetCommand(sqe: Uint8Array, data?: DmaBuffer): Promise<number> {
    const p = this.host.adminCommand(sqe, data);
    const name = opcodeName(true, sqe[0]);
    const limit = Math.min(this.host.timeoutMs, RESET_COMMAND_MS);
    const deadline = Date.now() + limit;
    const { life } = this.host;
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearInterval(watch);
        return true;
      };
      const watch = setInterval(() => {
        let err: Error | undefined;
        try {
          if (life.closing) err = new ControllerClosedError('reset');
          else if ((readCsts(this.bar) & NVME.CSTS_CFS) !== 0) err = new ControllerFatalError(`CSTS.CFS set while the reset waited for ${name}`);
          else if (Date.now() > deadline) err = new ControllerFatalError(`${name} did not complete within ${limit} ms during the reset`);
        } catch (e) {
          err = e as Error;
        }
        if (err && finish()) reject(err);
      }, 2);
      p.then(
        (v) => finish() && resolve(v),
        (e: Error) => finish() && reject(e),
      );
    });
  }

  /**
   * The controller is given up (device gone, or recovery exhausted): stop it from
   * touching memory, then fail every pending command with `err`, and every later call.
   */
  die(err: Error): void {
    const { life } = this.host;
    if (life.state === 'failed' || life.state === 'closed') return;
    life.state = 'failed';
    life.failure = err;
    quiesce(this.host.fn, this.bar);
    this.host.queues.cancelAll(() => err);
  }
}
