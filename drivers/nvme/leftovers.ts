// Controllers that are never closed. What a controller holds outside the JS heap (locked
// DMA memory, the device, its thread, timers, eventfd watches) is kept apart from the
// controller itself so that a FinalizationRegistry can release it once the controller is
// unreachable, and so that process exit can stop every device first. Nothing here refers
// back to a controller.
import type { DmaPool } from '../../lib/dma';
import type { EventfdWatch } from '../../lib/eventfd';
import { read32, write32 } from '../../lib/mmio';
import type { PciFunction } from '../../lib/pci/function';
import { NVME } from '../../spec/nvme';
import { PCI } from '../../spec/pci';

/** What one controller holds outside the JS heap; `timer` is set once bring-up started it. */
export interface Leftovers {
  target: string;
  fn: PciFunction;
  pool: DmaPool;
  ownsFn: boolean;
  bar: ArrayBuffer;
  timer: NodeJS.Timeout | undefined;
  watches: EventfdWatch[];
  released: boolean;
}

const unclosed = new Set<Leftovers>();
let exitHook = false;

// Stops the device from touching memory (CC.EN = 0, bus mastering off), then unmaps and
// releases everything. Best effort: the device may be gone.
function releaseLeftovers(l: Leftovers): void {
  if (l.released) return;
  l.released = true;
  unclosed.delete(l);
  if (l.timer) clearInterval(l.timer);
  for (const w of l.watches) w.close();
  quiesce(l.fn, l.bar);
  try {
    l.pool.close();
  } finally {
    if (l.ownsFn) l.fn.close();
  }
}

const leakRegistry = new FinalizationRegistry<Leftovers>((l) => {
  if (l.released) return;
  let mib = 0;
  try {
    mib = Math.round(l.pool.stats().mappedBytes / 2 ** 20);
  } catch {
    // the pool's numbers are only for the message
  }
  try {
    releaseLeftovers(l);
  } catch {
    // released as far as possible
  }
  process.emitWarning(
    `a phyr Controller of '${l.target}' was garbage-collected without close(): its device and ${mib} MiB of locked DMA memory were released now. Call \`await ctrl.close()\` when done with a controller.`,
    { code: 'PHYR_CONTROLLER_LEAKED' },
  );
});

/** Registers `l` as held by `owner`: released if `owner` is collected unclosed, or at exit. */
export function trackLeftovers(l: Leftovers, owner: object): void {
  unclosed.add(l);
  leakRegistry.register(owner, l, l);
  if (!exitHook) {
    exitHook = true;
    // At exit the device thread and the locked memory go away with the process; stopping
    // the device first keeps it from running while the process is torn down.
    process.on('exit', () => {
      for (const x of [...unclosed]) {
        try {
          releaseLeftovers(x);
        } catch {
          // best effort at exit
        }
      }
    });
  }
}

/** `l` was released by close(): nothing left to do at collection or exit. */
export function forgetLeftovers(l: Leftovers): void {
  leakRegistry.unregister(l);
  unclosed.delete(l);
  l.released = true;
}

/**
 * CC.EN = 0 (NVMe 1.4 §3.1.5: the controller stops processing commands) and bus mastering
 * off (no more DMA), without waiting: used when the controller is given up.
 */
export function quiesce(fn: PciFunction, bar: ArrayBuffer): void {
  try {
    const cc = read32(bar, NVME.REG_CC);
    if (cc !== 0xffffffff && (cc & NVME.CC_EN) !== 0) write32(bar, NVME.REG_CC, (cc & ~NVME.CC_EN) >>> 0);
  } catch {
    // registers unreachable
  }
  try {
    const cmd = fn.configRead(PCI.CFG_COMMAND, 2);
    if (cmd !== 0xffff && (cmd & PCI.COMMAND_BUS_MASTER) !== 0) fn.configWrite(PCI.CFG_COMMAND, 2, cmd & ~PCI.COMMAND_BUS_MASTER);
  } catch {
    // config space unreachable
  }
}
