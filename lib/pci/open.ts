// Opens a PCI function from a target string: `emu[:key=value,...]` for the embedded
// controller, or a PCI address (DDDD:BB:DD.F or BB:DD.F) for a device bound to vfio-pci.
import { PhyrError } from '../errors';
import type { PciFunction } from './function';

/** The default target when a command names none. */
export const DEFAULT_TARGET = 'emu';

const BDF = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

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
  if (BDF.test(target)) return 'vfio';
  throw new PhyrError(
    'PHYR_BAD_TARGET',
    `'${target.length > 80 ? `${target.slice(0, 80)}...` : target}' is not a target: use 'emu' or 'emu:key=value,...' for the embedded controller, ` +
      `or a PCI address such as 0000:01:00.0 (see \`phyr list\`)`,
  );
}

/** Normalises a PCI address to the full DDDD:BB:DD.F form. */
export function normaliseBdf(target: string): string {
  return (target.length === 7 ? `0000:${target}` : target).toLowerCase();
}

/** Opens the PCI function a target string names. */
export function openPciFunction(target: string = DEFAULT_TARGET): PciFunction {
  /* eslint-disable @typescript-eslint/no-require-imports */
  // Loaded lazily: a command on the embedded controller never loads the VFIO code.
  if (targetKind(target) === 'emu') return (require('../emu') as { openEmu(t: string): PciFunction }).openEmu(target);
  return (require('../vfio') as { openVfio(bdf: string): PciFunction }).openVfio(normaliseBdf(target));
  /* eslint-enable @typescript-eslint/no-require-imports */
}
