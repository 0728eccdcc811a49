// The phyr package entry: the NVMe driver, DMA memory and phyr arrays.
//
//   import * as phyr from 'phyr';
//   const ctrl = await phyr.open('emu');
//   await ctrl.namespace(1).write(0, Buffer.alloc(4096));
export * from './drivers/nvme';
export { DmaPool } from './lib/dma';
export type { DmaBuffer, DmaPoolOptions, MappedIo } from './lib/dma';
export { PhyrArray, PhyrFlags, PhyrEntryError } from './lib/phyr';
export type { PhyrEntry } from './lib/phyr';
export { PhyrError } from './lib/errors';
export { openPciFunction } from './targets';
export { open } from './targets/open';
export type { PciFunction } from './lib/pci/function';
export type { EmuFunction } from './emu';
export { connect, ServedController, ServedNamespace, ServeClosedError, ServeConnectError, ServeProtocolError, ServeRequestError } from './serve';
export type { ConnectOptions, ServeStatus } from './serve';
