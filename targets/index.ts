// A target string names what to drive: `emu[:key=value,...]` for the embedded controller,
// or a PCI address (DDDD:BB:DD.F or BB:DD.F) for a device bound to vfio-pci. This room sits
// above both implementations (emu/, lib/vfio) and picks one; neither knows of the other.
// `null[:key=value,...]` names no device at all: the benchmark's in-thread loopback
// (`phyr bench null`, fio's null engine's twin); it has no PCI function to open.
import { openEmu } from '../emu';
import { PhyrError } from '../lib/errors';
import { isBdf, normaliseBdf } from '../lib/pci/bdf';
import type { PciFunction } from '../lib/pci/function';
import { openVfio } from '../lib/vfio';

export { normaliseBdf } from '../lib/pci/bdf';

/** The default target when a command names none. */
export const DEFAULT_TARGET = 'emu';

/**
 * The kinds of target: the embedded controller, a VFIO device, or `null` (no device: only
 * `phyr bench` runs on it, over its in-thread loopback controller).
 */
export type TargetKind = 'emu' | 'vfio' | 'null';

/** Which kind of target a string names, or throws a PhyrError saying what is accepted. */
export function targetKind(target: string): TargetKind {
  if (typeof target !== 'string') {
    const what = target === null ? 'null' : Array.isArray(target) ? 'an array' : typeof target;
    throw new PhyrError(
      'PHYR_BAD_TARGET',
      `the target must be a string ('emu', 'emu:key=value,...' or a PCI address such as 0000:01:00.0), got ${what}`,
    );
  }
  if (target === 'emu' || target.startsWith('emu:')) return 'emu';
  if (target === 'null' || target.startsWith('null:')) return 'null';
  if (isBdf(target)) return 'vfio';
  throw new PhyrError(
    'PHYR_BAD_TARGET',
    `'${target.length > 80 ? `${target.slice(0, 80)}...` : target}' is not a target: use 'emu' or 'emu:key=value,...' for the embedded controller, ` +
      `or a PCI address such as 0000:01:00.0 (see \`phyr list\`)`,
  );
}

/** Opens the PCI function a target string names. */
export function openPciFunction(target: string = DEFAULT_TARGET): PciFunction {
  const kind = targetKind(target);
  if (kind === 'null') throw noDeviceError(target);
  if (kind === 'emu') return openEmu(target);
  return openVfio(normaliseBdf(target));
}

/** The error for a `null` target where a device is needed: it names no controller. */
export function noDeviceError(target: string): PhyrError {
  return new PhyrError(
    'PHYR_BAD_TARGET',
    `'${target.length > 80 ? `${target.slice(0, 80)}...` : target}' is phyr bench's device-less target (no controller, no PCI function); ` +
      `only \`phyr bench\` runs on it. Use 'emu' or a PCI address here`,
  );
}
