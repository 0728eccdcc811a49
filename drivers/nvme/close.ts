// Closing a controller (NVMe 1.4 §7.6.2 shutdown): delete the IO queues, CC.SHN and wait
// for CSTS.SHST, reject what is left, unmap everything. Also the path of a bring-up that
// failed (not graceful: the device is only stopped).
import type { DmaPool } from '../../lib/dma';
import type { PciFunction } from '../../lib/pci/function';
import { deleteQueueSqe } from './admin';
import type { CmbSlot } from './cmb';
import type { Interrupts, KeepAlive } from './completions';
import { ControllerClosedError } from './errors';
import { forgetLeftovers, quiesce, type Leftovers } from './leftovers';
import type { Lifecycle } from './lifecycle';
import type { QueueSet } from './queues';
import type { AdminRun } from './recovery';
import { shutdown, type ControllerCap } from './registers';

/** What close needs from its controller. */
export interface CloseHost {
  readonly fn: PciFunction;
  /** BAR0: the controller's registers. */
  readonly bar: ArrayBuffer;
  readonly cap: ControllerCap;
  readonly pool: DmaPool;
  /** The controller owns the function: closing it closes the function too. */
  readonly ownsFn: boolean;
  readonly timeoutMs: number;
  readonly life: Lifecycle;
  readonly queues: QueueSet;
  readonly keepAlive: KeepAlive;
  readonly irq: Interrupts;
  readonly leftovers: Leftovers;
  adminCommand: AdminRun;
  readonly cmb: Pick<CmbSlot, 'disable'>;
}

/** Closes the controller; `graceful` deletes the queues and shuts it down when it is live. */
export async function teardown(h: CloseHost, graceful: boolean): Promise<void> {
  const { life, queues } = h;
  // A running reset sees `closing` and stops at its next step.
  if (life.resetting) await life.resetting.catch(() => undefined);
  const wasLive = life.state === 'live';
  if (graceful && wasLive && queues.admin?.disp) {
    const deleting = [...queues.user, ...(queues.io ? [queues.io] : [])];
    const limit = Math.min(h.timeoutMs, 5000);
    const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, limit).unref())]);
    try {
      // Every SQ before any CQ: a CQ is deleted only once no SQ uses it (Delete I/O Completion Queue).
      for (const r of deleting) await bounded(h.adminCommand(deleteQueueSqe(true, r.qp.id)));
      for (const r of deleting) await bounded(h.adminCommand(deleteQueueSqe(false, r.qp.id)));
    } catch {
      // a controller that refuses deletion is shut down anyway
    }
  }
  const wasFailed = life.state === 'failed';
  life.state = 'closed';
  try {
    if (graceful && wasLive) {
      if (!(await shutdown(h.bar, h.cap.timeoutMs))) quiesce(h.fn, h.bar);
    } else if (!wasFailed) {
      quiesce(h.fn, h.bar);
    }
  } catch {
    // the device may be gone: make sure it stops, then unmap below
    quiesce(h.fn, h.bar);
  }
  h.keepAlive.stop();
  h.irq.close();
  for (const r of [...queues.all()]) {
    if (r.disp) {
      r.disp.cancelInflight();
      r.disp.rejectWaiting((cmd) => new ControllerClosedError(cmd.info.name));
    }
    queues.free(r);
  }
  queues.user.clear();
  // The controller is stopped: it writes EventIdx no more.
  queues.shadow?.free();
  queues.shadow = undefined;
  h.cmb.disable();
  forgetLeftovers(h.leftovers);
  try {
    h.pool.close();
  } finally {
    if (h.ownsFn) h.fn.close();
  }
}
