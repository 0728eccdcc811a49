// DMA memory: the pool, its IOVA allocator, hugepage status and typed errors.
export { DmaPool, isDetached } from './pool';
export type { DeviceMemoryMapping, DmaAllocOptions, DmaBuffer, DmaPin, DmaPoolOptions, DmaPoolStats, HugepageMode, MappedIo } from './pool';
export { RangeAllocator } from './iova';
export type { RangeAllocation } from './iova';
export { readHugepageStatus, reservedHugepages, setReservedHugepages } from './hugepages';
export type { HugepageStatus } from './hugepages';
export { BufferDetachedError, DmaAllocError, DmaArgumentError, DmaStateError, ForeignBufferError, HugepagesUnavailableError, IovaExhaustedError, NotDataMemoryError } from './errors';
export type { DmaStateCode, NotDataKind } from './errors';
export { DataRanges } from './ranges';
