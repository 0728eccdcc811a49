// A target string names what to drive: `emu[:key=value,...]` for the embedded controller,
// or a PCI address (DDDD:BB:DD.F or BB:DD.F) for a device bound to vfio-pci. This room sits
// above both implementations (emu/, lib/vfio) and picks one; neither knows of the other.
import { openEmu } from '../emu';
import { PhyrError } from '../lib/errors';
import { isBdf, normaliseBdf } from '../lib/pci/bdf';
import type { PciFunction } from '../lib/pci/function';
import { openVfio } from '../lib/vfio';

export { normaliseBdf } from '../lib/pci/bdf';

/** The default target when a command names none. */
export const DEFAULT_TARGET = 'emu';

/** Which kind of target a string names, or throws a PhyrError saying what is accepted. */
export function targetKind(target: string): 'emu' | 'vfio' {
  if (typeof target !== 'string') {
    const what = target === null ? 'null' : Array.isArray(target) ? 'an array' : typeof target;
    throw new PhyrError(
      'PHYR_BAD_TARGET',
      `the target must be a string ('emu', 'emu:key=value,...' or a PCI address such as 0000:01:00.0), got ${what}`,
    );
  }
  if (target === 'emu' || target.startsWith('emu:')) return 'emu';
  if (isBdf(target)) return 'vfio';
  throw new PhyrError(
    'PHYR_BAD_TARGET',
    `'${target.length > 80 ? `${target.slice(0, 80)}...` : target}' is not a target: use 'emu' or 'emu:key=value,...' for the embedded controller, ` +
      `or a PCI address such as 0000:01:00.0 (see \`phyr list\`)`,
  );
}

/** Opens the PCI function a target string names. */
export function openPciFunction(target: string = DEFAULT_TARGET): PciFunction {
  if (targetKind(target) === 'emu') return openEmu(target);
  return openVfio(normaliseBdf(target));
}
