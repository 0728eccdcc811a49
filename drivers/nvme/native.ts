// The driver's slice of the native addon (room 'nvme', drivers/nvme/native/*_napi.cc).
import { addonRoom } from '../../lib/native';

/** Options of the native queue pair constructor (validated natively). */
export interface NativeQueuePairOptions {
  qid: number;
  qsize: number;
  bar: ArrayBuffer;
  sqDoorbell: number;
  cqDoorbell: number;
  sq: ArrayBuffer;
  sqOffset: number;
  sqIova: number;
  cq: ArrayBuffer;
  cqOffset: number;
  cqIova: number;
  lists: ArrayBuffer;
  listsOffset: number;
  listsIova: number;
  listPages: number;
  pageSize: number;
  sglSupport?: number;
  bitBucket?: number;
  maxTransfer?: number;
  sglThreshold?: number;
  /** 1: SGL on every IO command SGL can describe (data-pointer mode 'sgl'). */
  preferSgl?: number;
  requests: ArrayBuffer;
  completions: ArrayBuffer;
  arena?: ArrayBuffer;
  /** Shadow doorbell pages (Doorbell Buffer Config); with it, the four byte offsets into it. */
  shadow?: ArrayBuffer;
  shadowSqOffset?: number;
  shadowCqOffset?: number;
  eventSqOffset?: number;
  eventCqOffset?: number;
}

/** Counters of one queue pair. */
export interface QueuePairStats {
  submitted: number;
  completed: number;
  /** MMIO doorbell writes (SQ tail and CQ head). */
  doorbells: number;
  /** Shadow doorbell writes (Doorbell Buffer Config); an MMIO write follows only when EventIdx asks. */
  shadowUpdates: number;
  spurious: number;
  extraListPages: number;
  outstanding: number;
  capacity: number;
  spareListPages: number;
}

/** The C++ QueuePair's JS handle (other native rooms unwrap it with unwrapQueuePair). */
export interface NativeQueuePair {
  submitBatch(first: number, count: number): number;
  reap(max?: number): number;
  submitRaw(sqe: Uint8Array, tag: number, firstEntry: number, entryCount: number, bytes: number): number;
  cancelAll(status: number): number;
  tick(): void;
  expired(age: number): Array<[number, number]>;
  cidsOf(tag: number): number[];
  setArena(arena: ArrayBuffer): void;
  addListPages(buffer: ArrayBuffer, offset: number, iova: number, count: number): void;
  stats(): QueuePairStats;
  close(): void;
  readonly busy: boolean;
}

/** Data-pointer capabilities given to `explain`. */
export interface DataPointerCaps {
  /** Memory page size (CC.MPS), default 4096. */
  pageSize?: number;
  /** Identify SGLS bits 1:0: 0 none, 1 byte-aligned, 2 dword-aligned. */
  sglSupport?: number;
  /** 1 when SGL Bit Bucket descriptors are supported. */
  bitBucket?: number;
  /** Maximum data transfer size in bytes (0 = none). */
  maxTransfer?: number;
  /** Average segment size from which SGL is preferred (default 32 KiB). */
  sglThreshold?: number;
  /** 1: SGL on every IO command SGL can describe (data-pointer mode 'sgl'). */
  preferSgl?: number;
}

/** A data-pointer decision: which format and why. */
export interface DataPointerDecision {
  format: 'prp' | 'sgl' | 'split' | 'bounce' | 'reject';
  /** Stable reason name, e.g. 'SglNotPrpable'. */
  reason: string;
  /** The reason as a sentence. */
  text: string;
  /** Commands the IO becomes (0 for bounce/reject). */
  children: number;
}

/** The native room's exports. */
export interface NvmeNative {
  QueuePair: new (options: NativeQueuePairOptions) => NativeQueuePair;
  explain(
    entries: ArrayBuffer,
    count: number,
    length: number,
    lbaSize: number,
    caps: DataPointerCaps,
    admin?: boolean,
    head?: number,
    tail?: number,
  ): DataPointerDecision;
  reasons: string[];
  reasonTexts: string[];
  formats: string[];
  submitResults: string[];
  dptrErrors: string[];
  /** CPU time of the calling thread in ns (for benchmarks). */
  threadCpuNs(): number;
}

let cached: NvmeNative | undefined;
/** Loads the room once. */
export function nvmeNative(): NvmeNative {
  cached ??= addonRoom<NvmeNative>('nvme');
  return cached;
}
