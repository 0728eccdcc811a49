// The options of open() and createQueuePair(), and the checks of what the application
// passes them and adminCommand(): every option is checked before anything is opened, and
// a bad one throws InvalidArgumentError naming it.
import type { DmaBuffer, DmaPoolOptions } from '../../lib/dma';
import { PhyrError } from '../../lib/errors';
import { InvalidArgumentError, describeValue } from './errors';
import { NVME } from '../../spec/nvme';

/** How completions reach the application. */
export type CompletionMode = 'poll' | 'interrupt';

/**
 * How IO commands describe their data (NVMe 1.4 §4.3 PRP, §4.4 SGL):
 * - 'auto': the driver's policy — PRP for small PRP-able data, SGL for large segments or
 *   data PRP cannot describe (when the controller supports SGL);
 * - 'prp': never SGL (data PRP cannot describe is split or bounced);
 * - 'sgl': SGL on every IO command SGL can describe; the controller must support SGL.
 */
export type DataPointerMode = 'auto' | 'prp' | 'sgl';

/** Options of open(). */
export interface OpenOptions {
  /** DMA pool options (hugepages). */
  pool?: DmaPoolOptions;
  /** Per-command timeout in ms before Abort, then reset (default 30000). */
  timeoutMs?: number;
  /** Admin queue entries (default 64). */
  adminQueueSize?: number;
  /** Entries of the IO queue behind the namespace API (default min(1024, CAP.MQES + 1)). */
  ioQueueSize?: number;
  /** 'poll' (default, lowest latency) or 'interrupt' (MSI-X eventfds; an idle app uses no CPU). */
  completion?: CompletionMode;
  /** Data-pointer mode of the namespace API's queue and the default of createQueuePair (default 'auto'). */
  dptr?: DataPointerMode;
  /** Older spelling: `sgl: false` is `dptr: 'prp'`. */
  sgl?: boolean;
  /**
   * Polled mode only: 'auto' (default) reaps from a poller that yields to the event loop
   * (setImmediate) while commands are in flight; 'manual' leaves it to the application,
   * which calls controller.poll().
   */
  poller?: 'auto' | 'manual';
  /** Limits of automatic recovery (resets); see RecoveryOptions. */
  recovery?: RecoveryOptions;
  /**
   * Shadow doorbells (Doorbell Buffer Config, NVMe 2.0 §5.8) for the IO queues when the
   * controller offers them (default true): doorbells are published in host memory and
   * written to MMIO only when the controller asks, which saves an exit to the emulator per
   * doorbell on a hypervisor's emulated controller. false: MMIO doorbells always.
   */
  shadowDoorbells?: boolean;
}

/**
 * How hard the driver tries to recover a failing controller before declaring it dead
 * (every pending and later command then fails with ControllerDeadError).
 */
export interface RecoveryOptions {
  /**
   * Reset attempts per recovery (default 3); attempt n > 1 first waits
   * backoffMs × 2^min(n−2, 6) (recoveryBackoffMs), so no wait exceeds 64 × backoffMs.
   */
  attempts?: number;
  /** Wait before the second attempt, doubled for each further one (default 50 ms). */
  backoffMs?: number;
  /** Automatic recoveries allowed within windowMs; a fault beyond them is fatal (default 5). */
  maxResets?: number;
  /** The window of maxResets in ms (default 60000). */
  windowMs?: number;
}

/** The doubling of the backoff stops here: a wait is at most 2^6 = 64 × backoffMs. */
const BACKOFF_MAX_DOUBLINGS = 6;

/** The wait before reset attempt `attempt` (1-based; the first has none). */
export function recoveryBackoffMs(backoffMs: number, attempt: number): number {
  return attempt <= 1 ? 0 : backoffMs * 2 ** Math.min(attempt - 2, BACKOFF_MAX_DOUBLINGS);
}

/** Defaults of RecoveryOptions. */
export const RECOVERY_DEFAULTS: Readonly<Required<RecoveryOptions>> = Object.freeze({ attempts: 3, backoffMs: 50, maxResets: 5, windowMs: 60_000 });

/** Options of createQueuePair(). */
export interface QueuePairOptions {
  /** Entries per ring (default min(256, CAP.MQES + 1)). */
  size?: number;
  /** Deliver completions by MSI-X: `qp.onInterrupt` is called when the CQ has entries. */
  interrupts?: boolean;
  /** Data-pointer mode of this queue pair (default: the controller's, see OpenOptions.dptr). */
  dptr?: DataPointerMode;
}

/** Data-pointer mode 'sgl' on a controller without SGL support. */
export class SglUnavailableError extends PhyrError {
  constructor(emu: boolean) {
    super(
      'PHYR_SGL_UNSUPPORTED',
      `data-pointer mode 'sgl' needs a controller with SGL support, and this one reports none (Identify Controller SGLS bits 1:0 = 0); use 'auto' or 'prp'${emu ? ", or give the embedded controller SGL support (emu:sgl=on)" : ''}`,
    );
  }
}

function checkDptrMode(mode: unknown): void {
  if (mode !== undefined && mode !== 'auto' && mode !== 'prp' && mode !== 'sgl') {
    throw new InvalidArgumentError(`dptr must be 'auto', 'prp' or 'sgl', got ${typeof mode === 'string' ? JSON.stringify(mode) : describeValue(mode)}`);
  }
}

const OPEN_KEYS = ['pool', 'timeoutMs', 'adminQueueSize', 'ioQueueSize', 'completion', 'dptr', 'sgl', 'poller', 'recovery', 'shadowDoorbells'];
const QUEUE_PAIR_KEYS = ['size', 'interrupts', 'dptr'];
const RECOVERY_KEYS = Object.keys(RECOVERY_DEFAULTS);
/** The keys of DmaPoolOptions (lib/dma/pool.ts); a key added there fails the typecheck here. */
const POOL_KEY_SET: Record<keyof DmaPoolOptions, true> = { hugepages: true, shared: true };
const POOL_KEYS = Object.keys(POOL_KEY_SET);
/** Largest timeoutMs: timers hold 31 bits of milliseconds. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function checkOptionsObject(what: string, o: unknown, keys: string[]): Record<string, unknown> {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new InvalidArgumentError(`${what} must be an object, got ${describeValue(o)}`);
  }
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new InvalidArgumentError(`${what}: unknown option '${k}' (known: ${keys.join(', ')})`);
  }
  return o as Record<string, unknown>;
}

function checkInt(what: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${what} must be an integer ${min}..${max}, got ${describeValue(v)}`);
  }
}

/**
 * Checks open()'s options before anything is opened; throws InvalidArgumentError
 * (PHYR_INVALID_ARGUMENT) naming the option and what it accepts.
 */
export function checkOpenOptions(options: unknown): asserts options is OpenOptions | undefined {
  const o = checkOptionsObject('open() options', options, OPEN_KEYS);
  checkInt('timeoutMs (ms per command)', o.timeoutMs, 1, MAX_TIMEOUT_MS);
  checkInt('adminQueueSize', o.adminQueueSize, 2, 4096);
  checkInt('ioQueueSize', o.ioQueueSize, 2, 65536);
  if (o.completion !== undefined && o.completion !== 'poll' && o.completion !== 'interrupt') {
    throw new InvalidArgumentError(`completion must be 'poll' or 'interrupt', got ${describeValue(o.completion)}`);
  }
  if (o.poller !== undefined && o.poller !== 'auto' && o.poller !== 'manual') {
    throw new InvalidArgumentError(`poller must be 'auto' or 'manual', got ${describeValue(o.poller)}`);
  }
  if (o.shadowDoorbells !== undefined && typeof o.shadowDoorbells !== 'boolean') {
    throw new InvalidArgumentError(`shadowDoorbells must be true or false, got ${describeValue(o.shadowDoorbells)}`);
  }
  if (o.poller === 'manual' && o.completion === 'interrupt') {
    throw new InvalidArgumentError("poller: 'manual' applies to completion: 'poll' only; interrupts reap by themselves");
  }
  checkDptrMode(o.dptr);
  if (o.sgl !== undefined && typeof o.sgl !== 'boolean') throw new InvalidArgumentError(`sgl must be true or false, got ${describeValue(o.sgl)}`);
  if (o.dptr !== undefined && o.sgl !== undefined && (o.sgl === false) !== (o.dptr === 'prp')) {
    throw new InvalidArgumentError(`options sgl: ${String(o.sgl)} and dptr: '${String(o.dptr)}' disagree; give dptr only`);
  }
  // Values are checked by the pool itself (PHYR_DMA_BAD_ARGUMENT); the keys here.
  checkOptionsObject('pool', o.pool, POOL_KEYS);
  const r = checkOptionsObject('recovery', o.recovery, RECOVERY_KEYS);
  checkInt('recovery.attempts', r.attempts, 1, 100);
  checkInt('recovery.backoffMs', r.backoffMs, 0, 600_000);
  checkInt('recovery.maxResets', r.maxResets, 0, 1_000_000);
  checkInt('recovery.windowMs', r.windowMs, 1, MAX_TIMEOUT_MS);
}

/** Checks createQueuePair()'s options; throws InvalidArgumentError like checkOpenOptions. */
export function checkQueuePairOptions(options: unknown): asserts options is QueuePairOptions | undefined {
  const o = checkOptionsObject('createQueuePair() options', options, QUEUE_PAIR_KEYS);
  if (o.size !== undefined && (typeof o.size !== 'number' || !Number.isInteger(o.size))) {
    throw new InvalidArgumentError(`size (queue entries) must be an integer, got ${describeValue(o.size)}`);
  }
  if (o.interrupts !== undefined && typeof o.interrupts !== 'boolean') {
    throw new InvalidArgumentError(`interrupts must be true or false, got ${describeValue(o.interrupts)}`);
  }
  checkDptrMode(o.dptr);
}

/** Checks Controller.adminCommand()'s arguments (an SQE, optional pool memory and its used length). */
export function checkAdminCommandArgs(sqe: unknown, data: Pick<DmaBuffer, 'iova' | 'size'> | undefined, bytes: number | undefined): asserts sqe is Uint8Array {
  if (!(sqe instanceof Uint8Array) || sqe.byteLength !== NVME.SQE_SIZE) {
    throw new InvalidArgumentError(`adminCommand: sqe must be a Uint8Array of ${NVME.SQE_SIZE} bytes (see drivers/nvme/admin.ts), got ${describeValue(sqe)}`);
  }
  if (data !== undefined && (typeof data !== 'object' || data === null || !Number.isSafeInteger(data.iova) || !Number.isSafeInteger(data.size) || data.size <= 0)) {
    throw new InvalidArgumentError(`adminCommand: data must be a pool buffer ({ iova, size }), got ${describeValue(data)}`);
  }
  if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes <= 0 || (data !== undefined && bytes > data.size))) {
    throw new InvalidArgumentError(`adminCommand: bytes must be an integer 1..${data?.size ?? 0} (the data buffer's size), got ${describeValue(bytes)}`);
  }
}
