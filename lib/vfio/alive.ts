// Recognising a device that stopped answering: PCI reads of a device that is gone
// (surprise removal, link down, fatal error) complete with all-ones.
import { read32 } from '../mmio';

/** True when the first two registers of a BAR read all-ones (a device that fell off the bus). */
export function barReadsAllOnes(bar: ArrayBuffer): boolean {
  return read32(bar, 0) === 0xffffffff && read32(bar, 4) === 0xffffffff;
}
