// PCI addresses (bus/device/function) as users and sysfs write them.
import { PhyrError } from '../errors';

// DDDD:BB:DD.F, or BB:DD.F in PCI domain 0 (PCI Firmware Spec: segment group, bus, device
// 0-1f, function 0-7).
const BDF = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

/** Whether `text` is a PCI address (DDDD:BB:DD.F or BB:DD.F). */
export function isBdf(text: string): boolean {
  return BDF.test(text);
}

/** Normalises a PCI address to the full lower-case DDDD:BB:DD.F form sysfs uses. */
export function normaliseBdf(target: string): string {
  return (target.length === 7 ? `0000:${target}` : target).toLowerCase();
}

/** Throws PHYR_BAD_TARGET unless `text` is a PCI address; returns it normalised. */
export function parseBdf(text: string): string {
  if (typeof text !== 'string' || !BDF.test(text)) {
    throw new PhyrError('PHYR_BAD_TARGET', `'${String(text).slice(0, 80)}' is not a PCI address: write DDDD:BB:DD.F or BB:DD.F, such as 0000:01:00.0 (see \`phyr list\`)`);
  }
  return normaliseBdf(text);
}
