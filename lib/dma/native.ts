// The memory room's slice of the native addon (addon/memory/memory_napi.cc).
import { addonRoom } from '../native';

/** Native exports of addon/memory. */
export interface MemoryNative {
  /**
   * Locked, populated, zeroed memory of `size` bytes (a multiple of 2 MiB when `huge`, of
   * 4 KiB otherwise) as an external ArrayBuffer whose finalizer frees it. Returns null
   * when hugepages were asked for and too few are reserved; throws on other failures.
   */
  allocate(size: number, huge: boolean): ArrayBuffer | null;
  /** Offset within its 4 KiB page of the host address of `memory[byteOffset]`. */
  pageOffset(memory: ArrayBuffer, byteOffset: number): number;
  /** Regions not yet freed by their finalizer, process-wide. */
  stats(): { liveRegions: number; liveBytes: number };
  readonly pageSize: number;
  readonly hugepageSize: number;
}

let cached: MemoryNative | undefined;

/** The memory room's native exports (loaded on first use). */
export function memoryNative(): MemoryNative {
  if (!cached) cached = addonRoom<MemoryNative>('memory');
  return cached;
}
