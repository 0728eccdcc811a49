// DMA memory: the pool, its IOVA allocator, hugepage status and typed errors.
export { DmaPool } from './pool';
export type { DeviceMemoryMapping, DmaAllocOptions, DmaBuffer, DmaPoolOptions, DmaPoolStats, HugepageMode, MappedIo } from './pool';
export { RangeAllocator } from './iova';
export type { RangeAllocation } from './iova';
export { readHugepageStatus, reservedHugepages, setReservedHugepages } from './hugepages';
export type { HugepageStatus } from './hugepages';
export { DmaAllocError, DmaArgumentError, DmaStateError, HugepagesUnavailableError, IovaExhaustedError } from './errors';
export type { DmaStateCode } from './errors';
