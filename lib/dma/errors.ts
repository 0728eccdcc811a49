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
