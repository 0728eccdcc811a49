// Recognising a device that stopped answering: PCI reads of a device that is gone
// (surprise removal, link down, fatal error) complete with all-ones.
import { NVME } from '../../spec/nvme';
import { read32 } from '../mmio';

/** True when the first two registers of a BAR read all-ones (a device that fell off the bus). */
export function barReadsAllOnes(bar: ArrayBuffer): boolean {
  // The two words of NVMe CAP (§3.1.1): CAP is never all-ones on a live controller.
  return read32(bar, NVME.REG_CAP) === 0xffffffff && read32(bar, NVME.REG_CAP + 4) === 0xffffffff;
}
