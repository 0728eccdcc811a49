// Device register access (BAR memory). Aligned 32/64-bit accesses done natively with
// acquire loads and release stores; a DataView could split them into byte accesses,
// which NVMe registers do not allow.
import { addonRoom } from './native';

interface MmioNative {
  read32(bar: ArrayBuffer, offset: number): number;
  read64(bar: ArrayBuffer, offset: number): bigint;
  write32(bar: ArrayBuffer, offset: number, value: number): void;
  write64(bar: ArrayBuffer, offset: number, value: number | bigint): void;
}
const mmio = addonRoom<MmioNative>('mmio');

/** Reads the 32-bit register at `offset` (acquire). */
export const read32: (bar: ArrayBuffer, offset: number) => number = mmio.read32;
/** Reads the 64-bit register at `offset` as a BigInt (acquire; control plane only). */
export const read64: (bar: ArrayBuffer, offset: number) => bigint = mmio.read64;
/** Writes the 32-bit register at `offset` (release: ordered after earlier memory writes). */
export const write32: (bar: ArrayBuffer, offset: number, value: number) => void = mmio.write32;
/** Writes the 64-bit register at `offset` (release). */
export const write64: (bar: ArrayBuffer, offset: number, value: number | bigint) => void = mmio.write64;
