// Typed errors of the DMA memory layer. Each says what was wrong and what to do.
import { PhyrError } from '../errors';

/** An argument to a DMA pool or buffer call was out of range or of the wrong kind. */
export class DmaArgumentError extends PhyrError {
  constructor(message: string) {
    super('PHYR_DMA_BAD_ARGUMENT', message);
  }
}

/** Why an object can no longer be used. */
export type DmaStateCode = 'PHYR_DMA_FREED' | 'PHYR_DMA_CLOSED' | 'PHYR_DMA_RELEASED';

/** A buffer was used after free(), a pool after close(), or a mapping after release(). */
export class DmaStateError extends PhyrError {
  constructor(code: DmaStateCode, message: string) {
    super(code, message);
  }
}

/** `hugepages: 'require'` was asked for, but not enough 2 MiB hugepages are reserved. */
export class HugepagesUnavailableError extends PhyrError {
  constructor(bytes: number) {
    super(
      'PHYR_NO_HUGEPAGES',
      `cannot allocate ${bytes} bytes of 2 MiB hugepages: too few are reserved and free. ` +
        'Reserve some with `phyr setup --hugepages N` or `echo N > /proc/sys/vm/nr_hugepages` (as root), ' +
        "or create the pool with { hugepages: 'auto' } to fall back to locked 4 KiB pages",
    );
  }
}

/** The native allocator failed (mmap or mlock); the message carries the system's reason. */
export class DmaAllocError extends PhyrError {
  constructor(message: string) {
    super('PHYR_DMA_ALLOC_FAILED', message);
  }
}

/** No free device-address range is large enough for a request. */
export class IovaExhaustedError extends PhyrError {
  constructor(
    /** Bytes asked for. */
    readonly requested: number,
    /** Alignment asked for. */
    readonly align: number,
    /** Free bytes left in total. */
    readonly freeBytes: number,
    /** The largest single free range. */
    readonly largestFree: number,
    /** Number of free ranges. */
    readonly fragments: number,
  ) {
    super(
      'PHYR_IOVA_EXHAUSTED',
      `no free IOVA range for ${requested} bytes aligned to ${align}: ${freeBytes} bytes are free in ` +
        `${fragments} range(s), the largest ${largestFree} bytes. Free or release DMA memory first, ` +
        'or allocate fewer, smaller buffers',
    );
  }
}

/**
 * A buffer's ArrayBuffer is detached (transferred with structuredClone/postMessage, or
 * detached natively): before an IO it is refused; after a read it means the data went to
 * memory the driver kept alive for the device, but the caller's view of it is gone.
 */
export class BufferDetachedError extends PhyrError {
  constructor(message: string) {
    super('PHYR_BUFFER_DETACHED', message);
  }
}

/**
 * A buffer handed to a controller is not one of its pool's DmaBuffers: a DmaBuffer of
 * another controller's pool (another IOMMU domain: its IOVAs mean nothing here), or an
 * object that only looks like one.
 */
export class ForeignBufferError extends PhyrError {
  constructor(message: string) {
    super('PHYR_DMA_FOREIGN_BUFFER', message);
  }
}

/** What a refused data address points at. */
export type NotDataKind = 'driver-internal' | 'unmapped';

/**
 * A data pointer entry addresses memory that is not mapped for data: the driver's own queue
 * or list-page memory, free pool space, or nothing at all. Refused before submission,
 * because the device would read or overwrite it.
 */
export class NotDataMemoryError extends PhyrError {
  constructor(
    /** Index of the offending entry. */
    readonly index: number,
    /** Its device address. */
    readonly addr: number,
    /** Its length. */
    readonly len: number,
    /** What the range is. */
    readonly kind: NotDataKind,
    where: string,
  ) {
    super(
      'PHYR_DMA_NOT_DATA',
      `${where}: entry ${index} (0x${addr.toString(16)} + ${len} bytes) ` +
        (kind === 'driver-internal'
          ? "addresses the driver's own queue or PRP/SGL list memory, which the device would overwrite"
          : 'is not inside memory mapped for data (pool buffers, mapForIo mappings or mapped device memory of this controller)') +
        '; build data pointers from DmaBuffer.toPhyr(), a mapped buffer or the CMB',
    );
  }
}
