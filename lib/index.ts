// The phyr package entry: the NVMe driver, DMA memory and phyr arrays.
//
//   import * as phyr from 'phyr';
//   const ctrl = await phyr.open('emu');
//   await ctrl.namespace(1).write(0, Buffer.alloc(4096));
export * from '../drivers/nvme';
export { DmaPool } from './dma';
export type { DmaBuffer, DmaPoolOptions, MappedIo } from './dma';
export { PhyrArray, PhyrFlags, PhyrEntryError } from './phyr';
export type { PhyrEntry } from './phyr';
export { PhyrError } from './errors';
export { openPciFunction } from './pci/open';
export type { PciFunction } from './pci/function';
