// A target string checked the way a user's typo must be caught: before anything is
// opened, as a usage error (exit 2). Well-formed targets can still fail to open (no
// permission, no IOMMU): those are run failures, reported by the open itself.
import * as fs from 'fs';
import { parseEmuTarget } from '../emu/target';
import { PhyrError } from '../lib/errors';
import { noDeviceError, normaliseBdf, targetKind } from './index';

/**
 * Throws a PhyrError (PHYR_BAD_TARGET, PHYR_BAD_EMU_TARGET or PHYR_NO_TARGET) when
 * `target` is malformed, an emulated target has a bad key, or no PCI device has the
 * address. Returns the target's kind.
 */
export function checkTarget(target: string): 'emu' | 'vfio' {
  const kind = targetKind(target);
  // The commands that check a target need a controller; the null target has none.
  if (kind === 'null') throw noDeviceError(target);
  if (kind === 'emu') parseEmuTarget(target);
  else if (!fs.existsSync(`/sys/bus/pci/devices/${normaliseBdf(target)}`)) {
    throw new PhyrError('PHYR_NO_TARGET', `there is no PCI device ${normaliseBdf(target)} on this machine; \`phyr list\` shows the NVMe controllers (or use the embedded controller: emu)`);
  }
  return kind;
}
