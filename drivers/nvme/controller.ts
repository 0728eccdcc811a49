// An NVMe controller driven from user space: bring-up, admin commands, IO queue pairs,
// namespaces, completion delivery (polled or MSI-X interrupts), timeouts with Abort and
// reset, CSTS.CFS watch, bounded recovery (then a dead state), and a clean close. A
// controller that becomes unreachable without close() is released and reported.
import { DmaPool, type DeviceMemoryMapping, type DmaBuffer, type DmaPoolOptions } from '../../lib/dma';
import type { EventfdWatch } from '../../lib/eventfd';
import { PhyrError } from '../../lib/errors';
import type { PciFunction } from '../../lib/pci/function';
import { disableCmb, enableCmb, programCba, type ControllerMemoryBuffer } from './cmb';
import { abortSqe, createCqSqe, createSqSqe, deleteQueueSqe, identifySqe, setNumberOfQueuesSqe } from './admin';
import { Command, Dispatcher, DispatcherHost, newCommand } from './dispatcher';
import {
  CommandInfo,
  ControllerClosedError,
  ControllerDeadError,
  ControllerFatalError,
  ControllerResetError,
  ControllerResettingError,
  DeviceGoneError,
  InvalidArgumentError,
  InvalidIoError,
  NvmeStatusError,
  NvmeTimeoutError,
  describeValue,
  opcodeName,
} from './errors';
import { read32, write32 } from '../../lib/mmio';
import { IdentifyController, IdentifyNamespace, parseIdentifyController, parseIdentifyNamespace } from './identify';
import { Namespace } from './namespace';
import { QueuePair, type QueueCaps } from './queue-pair';
import { ControllerCap, disable, enable, enableBusMaster, msixVectorCount, readCap, readCsts, setAdminQueue, shutdown } from './registers';
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
}

/**
 * How hard the driver tries to recover a failing controller before declaring it dead
 * (every pending and later command then fails with ControllerDeadError).
 */
export interface RecoveryOptions {
  /** Reset attempts per recovery (default 3); attempt n > 1 waits backoffMs × 2^(n−2) first. */
  attempts?: number;
  /** Wait before the second attempt, doubled for each further one (default 50 ms). */
  backoffMs?: number;
  /** Automatic recoveries allowed within windowMs; a fault beyond them is fatal (default 5). */
  maxResets?: number;
  /** The window of maxResets in ms (default 60000). */
  windowMs?: number;
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

const OPEN_KEYS = ['pool', 'timeoutMs', 'adminQueueSize', 'ioQueueSize', 'completion', 'dptr', 'sgl', 'poller', 'recovery'];
const QUEUE_PAIR_KEYS = ['size', 'interrupts', 'dptr'];
const RECOVERY_KEYS = Object.keys(RECOVERY_DEFAULTS);
/** The keys of DmaPoolOptions (lib/dma/pool.ts); a key added there fails the typecheck here. */
const POOL_KEY_SET: Record<keyof DmaPoolOptions, true> = { hugepages: true };
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

function checkQueuePairOptions(options: unknown): asserts options is QueuePairOptions | undefined {
  const o = checkOptionsObject('createQueuePair() options', options, QUEUE_PAIR_KEYS);
  if (o.size !== undefined && (typeof o.size !== 'number' || !Number.isInteger(o.size))) {
    throw new InvalidArgumentError(`size (queue entries) must be an integer, got ${describeValue(o.size)}`);
  }
  if (o.interrupts !== undefined && typeof o.interrupts !== 'boolean') {
    throw new InvalidArgumentError(`interrupts must be true or false, got ${describeValue(o.interrupts)}`);
  }
  checkDptrMode(o.dptr);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- controllers that are never closed ----
//
// What a controller holds outside the JS heap (locked DMA memory, the device, its thread,
// timers, eventfd watches), kept apart from the controller itself so that a
// FinalizationRegistry can release it once the controller is unreachable. Nothing here
// refers back to the controller.
interface Leftovers {
  target: string;
  fn: PciFunction;
  pool: DmaPool;
  ownsFn: boolean;
  bar: ArrayBuffer;
  timer: NodeJS.Timeout | undefined;
  watches: EventfdWatch[];
  released: boolean;
}

const unclosed = new Set<Leftovers>();
let exitHook = false;

// Stops the device from touching memory (CC.EN = 0, bus mastering off), then unmaps and
// releases everything. Best effort: the device may be gone.
function releaseLeftovers(l: Leftovers): void {
  if (l.released) return;
  l.released = true;
  unclosed.delete(l);
  if (l.timer) clearInterval(l.timer);
  for (const w of l.watches) w.close();
  quiesce(l.fn, l.bar);
  try {
    l.pool.close();
  } finally {
    if (l.ownsFn) l.fn.close();
  }
}

const leakRegistry = new FinalizationRegistry<Leftovers>((l) => {
  if (l.released) return;
  let mib = 0;
  try {
    mib = Math.round(l.pool.stats().mappedBytes / 2 ** 20);
  } catch {
    // the pool's numbers are only for the message
  }
  try {
    releaseLeftovers(l);
  } catch {
    // released as far as possible
  }
  process.emitWarning(
    `a phyr Controller of '${l.target}' was garbage-collected without close(): its device and ${mib} MiB of locked DMA memory were released now. Call \`await ctrl.close()\` when done with a controller.`,
    { code: 'PHYR_CONTROLLER_LEAKED' },
  );
});

function trackLeftovers(l: Leftovers, owner: object): void {
  unclosed.add(l);
  leakRegistry.register(owner, l, l);
  if (!exitHook) {
    exitHook = true;
    // At exit the device thread and the locked memory go away with the process; stopping
    // the device first keeps it from running while the process is torn down.
    process.on('exit', () => {
      for (const x of [...unclosed]) {
        try {
          releaseLeftovers(x);
        } catch {
          // best effort at exit
        }
      }
    });
  }
}

function forgetLeftovers(l: Leftovers): void {
  leakRegistry.unregister(l);
  unclosed.delete(l);
  l.released = true;
}

const PCI_COMMAND = 0x04;
const PCI_COMMAND_BUS_MASTER = 0x4;

// CC.EN = 0 (NVMe 1.4 §3.1.5: the controller stops processing commands) and bus
// mastering off (no more DMA), without waiting: used when the controller is given up.
function quiesce(fn: PciFunction, bar: ArrayBuffer): void {
  try {
    const cc = read32(bar, NVME.REG_CC);
    if (cc !== 0xffffffff && (cc & NVME.CC_EN) !== 0) write32(bar, NVME.REG_CC, (cc & ~NVME.CC_EN) >>> 0);
  } catch {
    // registers unreachable
  }
  try {
    const cmd = fn.configRead(PCI_COMMAND, 2);
    if (cmd !== 0xffff && (cmd & PCI_COMMAND_BUS_MASTER) !== 0) fn.configWrite(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_BUS_MASTER);
  } catch {
    // config space unreachable
  }
}

/** Controllers with commands pending: held strongly so none is collected mid-IO. */
const busyControllers = new Set<object>();

/** A namespace id that is not active on the controller. */
export class UnknownNamespaceError extends PhyrError {
  constructor(nsid: number, active: number[]) {
    super('PHYR_UNKNOWN_NAMESPACE', `namespace ${nsid} is not an active namespace of this controller (active: ${active.join(', ') || 'none'})`);
  }
}

type State = 'live' | 'resetting' | 'closed' | 'failed';

// A queue pair plus what the controller keeps for it.
interface QueueRuntime {
  qp: QueuePair;
  disp?: Dispatcher;
  buffers: DmaBuffer[];
  vector: number;
  extraPages: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Most list pages one queue adds beyond one per tracker (16 MiB of 4 KiB pages). */
const MAX_EXTRA_LIST_PAGES = 4096;
/** Longest wait for one admin command of a reset (shorter when timeoutMs is). */
const RESET_COMMAND_MS = 5000;
const LIST_PAGE_GROWTH = 16;

/** One NVMe controller. */
export class Controller {
  /** Identify Controller data (nvme-cli field names). */
  identify!: IdentifyController;
  /** Decoded CAP register. */
  readonly cap: ControllerCap;
  /** Memory page size in use (CC.MPS). */
  readonly pageSize: number;
  /** Per-command timeout in ms. */
  readonly timeoutMs: number;
  /** How completions are delivered. */
  readonly completion: CompletionMode;
  /** IO queues granted by Set Features Number of Queues (submission, completion). */
  queuesGranted = { sq: 0, cq: 0 };
  /**
   * Counters of recovery actions: Aborts sent, recoveries started (resets), reset
   * attempts made (a recovery makes up to RecoveryOptions.attempts), the last reason.
   */
  readonly recovery = { aborts: 0, resets: 0, attempts: 0, lastResetReason: '' };
  /** The recovery limits in force (OpenOptions.recovery over RECOVERY_DEFAULTS). */
  readonly recoveryLimits: Readonly<Required<RecoveryOptions>>;

  private readonly bar: ArrayBuffer;
  private state: State = 'live';
  private failure: Error | undefined;
  private admin!: QueueRuntime;
  private io!: QueueRuntime;
  private readonly userQueues = new Set<QueueRuntime>();
  private readonly nsMap = new Map<number, Namespace>();
  private readonly usedQids = new Set<number>();
  private pollScheduled = false;
  private pollTicks = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  private resetting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private msixFds: number[] = [];
  private readonly watches: EventfdWatch[] = [];
  private readonly dptrMode: DataPointerMode;
  private cmbWindow: { cmb: ControllerMemoryBuffer; mapping: DeviceMemoryMapping } | undefined;
  private cmbEnabling: Promise<ControllerMemoryBuffer> | undefined;
  private readonly autoPoll: boolean;
  private readonly host: DispatcherHost;
  private readonly leftovers: Leftovers;
  private readonly self = new WeakRef<Controller>(this);
  private autoResetTimes: number[] = [];
  private held = false;

  private constructor(
    /** The PCI function (BAR, config space, IOMMU, MSI-X). */
    readonly fn: PciFunction,
    /** The DMA pool all driver memory comes from. */
    readonly pool: DmaPool,
    private readonly ownsFn: boolean,
    private readonly options: OpenOptions,
  ) {
    this.bar = fn.bar(0);
    this.leftovers = { target: fn.name, fn, pool, ownsFn, bar: this.bar, timer: undefined, watches: this.watches, released: false };
    trackLeftovers(this.leftovers, this);
    this.cap = readCap(this.bar);
    this.pageSize = Math.max(4096, this.cap.mpsMin);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.recoveryLimits = Object.freeze({ ...RECOVERY_DEFAULTS, ...options.recovery });
    this.tickMs = Math.max(5, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.completion = options.completion ?? 'poll';
    this.autoPoll = this.completion === 'poll' && (options.poller ?? 'auto') === 'auto';
    this.dptrMode = options.dptr ?? (options.sgl === false ? 'prp' : 'auto');
    this.host = {
      addListPages: (qp) => this.addListPages(qp),
      cancelledError: (cmd) => this.cancelledError(cmd),
      activity: () => this.activity(),
      statusError: (cmd, status) => this.statusError(cmd, status),
    };
  }

  /** Brings up the controller behind `fn` (which it then owns when `ownsFn`). */
  static async open(fn: PciFunction, options: OpenOptions = {}, ownsFn = false): Promise<Controller> {
    if (typeof fn !== 'object' || fn === null || typeof (fn as Partial<PciFunction>).bar !== 'function' || typeof (fn as Partial<PciFunction>).configRead !== 'function') {
      throw new InvalidArgumentError(`Controller.open needs a PCI function (see openPciFunction), got ${describeValue(fn)}`);
    }
    checkOpenOptions(options);
    options ??= {};
    const pool = new DmaPool(fn, options.pool);
    let ctrl: Controller | undefined;
    try {
      ctrl = new Controller(fn, pool, ownsFn, options);
      await ctrl.bringUp();
      return ctrl;
    } catch (e) {
      if (ctrl) await ctrl.teardown(false).catch(() => undefined);
      else {
        pool.close();
        if (ownsFn) fn.close();
      }
      throw e;
    }
  }

  // Bring-up per NVMe 1.4 §7.6.1: disable, wait RDY=0, admin queue, enable, wait RDY=1,
  // Identify, Number of Queues, namespaces, the default IO queue pair.
  private async bringUp(): Promise<void> {
    enableBusMaster(this.fn);
    await disable(this.bar, this.cap);
    if (this.completion === 'interrupt') this.setupInterrupts();
    const mqes = this.cap.maxQueueEntries;
    for (const key of ['adminQueueSize', 'ioQueueSize'] as const) {
      const v = this.options[key];
      if (v !== undefined && v > mqes) throw new InvalidArgumentError(`${key} ${v} is more than this controller's queues hold (CAP.MQES + 1 = ${mqes})`);
    }
    const size = Math.min(this.options.adminQueueSize ?? 64, mqes, 4096);
    this.admin = this.newRuntime(0, size, { pageSize: this.pageSize, sglSupport: 0, bitBucket: false, maxTransfer: 0 }, this.completion === 'interrupt' ? 0 : -1);
    this.admin.disp = new Dispatcher(this.admin.qp, this.host);
    this.watchVector(this.admin);
    await this.enableWithAdminQueue();
    const id = await this.identifyRaw(NVME.CNS_CONTROLLER, 0);
    this.identify = parseIdentifyController(id);
    this.checkSglAvailable(this.dptrMode);
    await this.negotiateQueues();
    await this.scanNamespaces();
    const ioSize = Math.min(this.options.ioQueueSize ?? 1024, this.cap.maxQueueEntries);
    this.io = await this.createIoQueue(ioSize, this.completion === 'interrupt');
    this.io.disp = new Dispatcher(this.io.qp, this.host);
    // Timeouts and the CSTS watch: one timer (at most one wake-up per second when the
    // default timeout is used). It is unref'd while nothing is pending, so an idle
    // controller never keeps the process alive, and ref'd while commands are (hold()).
    // It reaches the controller through a WeakRef, so it does not keep it reachable.
    const self = this.self;
    this.timer = setInterval(() => self.deref()?.onTimer(), this.tickMs);
    this.timer.unref();
    this.leftovers.timer = this.timer;
  }

  private async enableWithAdminQueue(): Promise<void> {
    const q = this.admin;
    setAdminQueue(this.bar, q.qp.size, q.buffers[0].iova, q.buffers[1].iova);
    await enable(this.bar, this.cap, this.pageSize);
  }

  private async negotiateQueues(): Promise<void> {
    const want = 64;
    const dw0 = await this.adminCommand(setNumberOfQueuesSqe(want, want));
    this.queuesGranted = { sq: (dw0 & 0xffff) + 1, cq: ((dw0 >>> 16) & 0xffff) + 1 };
  }

  private async scanNamespaces(): Promise<void> {
    const list = await this.identifyRaw(NVME.CNS_ACTIVE_NS_LIST, 0);
    const ids = new Uint32Array(list.buffer, list.byteOffset, 1024);
    for (const nsid of ids) {
      if (nsid === 0) break;
      const data = await this.identifyRaw(NVME.CNS_NAMESPACE, nsid);
      this.nsMap.set(nsid, new Namespace(this, nsid, parseIdentifyNamespace(data)));
    }
  }

  /** Data-plane capabilities of IO queues (in the controller's data-pointer mode unless `mode` is given). */
  queueCapsFor(mode: DataPointerMode = this.dptrMode): QueueCaps {
    const sgls = this.identify.sgls;
    const mdts = this.identify.mdts;
    const sgl = mode !== 'prp';
    return {
      pageSize: this.pageSize,
      sglSupport: sgl ? sgls & NVME.SGLS_SUPPORT_MASK : 0,
      bitBucket: sgl && (sgls & NVME.SGLS_BIT_BUCKET) !== 0,
      maxTransfer: mdts ? 2 ** mdts * this.cap.mpsMin : 0,
      preferSgl: mode === 'sgl',
    };
  }

  /** Data-plane capabilities of the namespace API's IO queue. */
  get queueCaps(): QueueCaps {
    return this.queueCapsFor();
  }

  /** The data-pointer mode the namespace API uses (OpenOptions.dptr). */
  get dataPointerMode(): DataPointerMode {
    return this.dptrMode;
  }

  // 'sgl' needs SGL support in Identify Controller SGLS bits 1:0 (NVMe 1.4 §5.15.2.1).
  private checkSglAvailable(mode: DataPointerMode): void {
    if (mode === 'sgl' && (this.identify.sgls & NVME.SGLS_SUPPORT_MASK) === 0) {
      throw new SglUnavailableError(this.fn.kind === 'emu');
    }
  }

  private newRuntime(qid: number, size: number, caps: QueueCaps, vector: number): QueueRuntime {
    const trackers = Math.min(size - 1, size - Math.floor(size / 4));
    const buffers: DmaBuffer[] = [];
    try {
      buffers.push(this.pool.alloc(size * NVME.SQE_SIZE, { align: this.pageSize }));
      buffers.push(this.pool.alloc(size * NVME.CQE_SIZE, { align: this.pageSize }));
      buffers.push(this.pool.alloc(trackers * this.pageSize, { align: this.pageSize }));
      buffers[1].bytes.fill(0);
      const region = (b: DmaBuffer) => ({ buffer: b.bytes.buffer as ArrayBuffer, offset: b.bytes.byteOffset, iova: b.iova });
      const qp = new QueuePair({
        id: qid,
        size,
        bar: this.bar,
        doorbellStride: this.cap.dstrd,
        sq: region(buffers[0]),
        cq: region(buffers[1]),
        lists: { ...region(buffers[2]), pages: trackers },
        caps,
      });
      qp.vector = vector;
      this.usedQids.add(qid);
      return { qp, buffers, vector, extraPages: 0 };
    } catch (e) {
      for (const b of buffers) b.free();
      throw e;
    }
  }

  private freeRuntime(r: QueueRuntime): void {
    void r.qp.close();
    for (const b of r.buffers) {
      try {
        b.free();
      } catch {
        // already released by pool.close()
      }
    }
    r.buffers = [];
    this.usedQids.delete(r.qp.id);
  }

  private nextQid(): number {
    for (let q = 1; q <= this.queuesGranted.sq && q <= this.queuesGranted.cq; q++) if (!this.usedQids.has(q)) return q;
    throw new PhyrError('PHYR_NO_QUEUES', `all ${Math.min(this.queuesGranted.sq, this.queuesGranted.cq)} IO queue pairs the controller granted are in use; close one first`);
  }

  private async createIoQueue(size: number, interrupts: boolean, mode: DataPointerMode = this.dptrMode): Promise<QueueRuntime> {
    const qid = this.nextQid();
    const vector = interrupts ? this.vectorFor(qid) : -1;
    const r = this.newRuntime(qid, size, this.queueCapsFor(mode), vector);
    try {
      // Create the CQ before its SQ (NVMe 1.4 §7.6.1).
      await this.adminCommand(createCqSqe(qid, size, vector), r.buffers[1]);
      try {
        await this.adminCommand(createSqSqe(qid, size, qid), r.buffers[0]);
      } catch (e) {
        await this.adminCommand(deleteQueueSqe(false, qid)).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      this.freeRuntime(r);
      throw e;
    }
    this.watchVector(r);
    return r;
  }

  // ---- interrupts ----

  private setupInterrupts(): void {
    const offered = msixVectorCount(this.fn);
    if (offered === 0) throw new InvalidIoError("the function has no MSI-X capability: open it with { completion: 'poll' }");
    this.msixFds = this.fn.enableMsix(Math.min(offered, 17));
  }

  private vectorFor(qid: number): number {
    return this.msixFds.length > 1 ? 1 + ((qid - 1) % (this.msixFds.length - 1)) : 0;
  }

  private watchVector(r: QueueRuntime): void {
    if (r.vector < 0 || this.msixFds.length === 0) return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { watchEventfd } = require('../../lib/eventfd') as typeof import('../../lib/eventfd');
    const fd = this.msixFds[r.vector];
    if (this.watches.some((w) => w.fd === fd && !w.closed)) return;
    const self = this.self;
    const vector = r.vector;
    this.watches.push(watchEventfd(fd, () => self.deref()?.onVector(vector)));
  }

  private onVector(vector: number): void {
    for (const q of this.allRuntimes()) {
      if (q.vector !== vector || q.qp.isClosed) continue;
      if (q.disp) q.disp.poll();
      else q.qp.onInterrupt?.();
    }
  }

  private *allRuntimes(): Iterable<QueueRuntime> {
    if (this.admin) yield this.admin;
    if (this.io) yield this.io;
    yield* this.userQueues;
  }

  // ---- admin commands ----

  /** Runs an admin command; resolves with CQE DW0. `data` is device memory (a pool buffer; PRP). */
  async adminCommand(sqe: Uint8Array, data?: Pick<DmaBuffer, 'iova' | 'size'>, bytes?: number): Promise<number> {
    if (!(sqe instanceof Uint8Array) || sqe.byteLength !== NVME.SQE_SIZE) {
      throw new InvalidArgumentError(`adminCommand: sqe must be a Uint8Array of ${NVME.SQE_SIZE} bytes (see drivers/nvme/admin.ts), got ${describeValue(sqe)}`);
    }
    if (data !== undefined && (typeof data !== 'object' || data === null || !Number.isSafeInteger(data.iova) || !Number.isSafeInteger(data.size) || data.size <= 0)) {
      throw new InvalidArgumentError(`adminCommand: data must be a pool buffer ({ iova, size }), got ${describeValue(data)}`);
    }
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes <= 0 || (data !== undefined && bytes > data.size))) {
      throw new InvalidArgumentError(`adminCommand: bytes must be an integer 1..${data?.size ?? 0} (the data buffer's size), got ${describeValue(bytes)}`);
    }
    if (this.state === 'closed') throw new ControllerClosedError('adminCommand');
    if (this.state === 'failed') throw this.failure as Error;
    const opcode = sqe[0];
    const info: CommandInfo = { admin: true, opcode, name: opcodeName(true, opcode) };
    return new Promise<number>((resolve, reject) => {
      const cmd = newCommand(info, (err, dw0) => (err ? reject(err) : resolve(dw0)));
      cmd.sqe = sqe;
      if (data) {
        cmd.addr = data.iova;
        cmd.len = bytes ?? data.size;
      }
      (this.admin.disp as Dispatcher).enqueue(cmd);
    });
  }

  private async identifyRaw(cns: number, nsid: number): Promise<Uint8Array> {
    const buf = this.pool.alloc(NVME.IDENTIFY_DATA_SIZE, { align: this.pageSize });
    try {
      buf.bytes.fill(0);
      await this.adminCommand(identifySqe(cns, nsid), buf);
      return Uint8Array.from(buf.bytes);
    } finally {
      buf.free();
    }
  }

  // ---- polling, timeouts, CFS ----

  private activity(): void {
    if (!this.held) this.hold();
    if ((this.autoPoll || this.internalPolling()) && !this.pollScheduled) {
      // Bring-up, reset and close poll for their own admin commands in every mode.
      this.pollScheduled = true;
      setImmediate(() => this.pollTick());
    }
  }

  // A pending command keeps the process alive, as a pending fs operation does: the timer
  // is ref'd (and the controller held strongly) from the first submission until a tick
  // finds every queue idle. Toggled at most once per tick, never per command.
  private hold(): void {
    if (!this.timer || this.state === 'closed') return;
    this.held = true;
    this.timer.ref();
    busyControllers.add(this);
  }

  private releaseHold(): void {
    this.held = false;
    this.timer?.unref();
    busyControllers.delete(this);
  }

  private pending(): boolean {
    for (const r of [this.admin, this.io]) if (r?.disp && !r.qp.isClosed && (r.disp.outstanding > 0 || r.disp.waiting > 0)) return true;
    return false;
  }

  private internalPolling(): boolean {
    return !this.timer || this.state !== 'live' || this.closing !== undefined;
  }

  private pollTick(): void {
    this.pollScheduled = false;
    let busy = false;
    const queues = this.autoPoll ? [this.admin, this.io] : [this.admin];
    for (const r of queues) {
      if (!r?.disp || r.qp.isClosed) continue;
      r.disp.poll();
      busy ||= r.disp.outstanding > 0 || r.disp.waiting > 0;
    }
    if (!this.autoPoll && !this.internalPolling()) busy = false;
    // Watch CSTS every 256 polls: a fatal controller never completes anything.
    if (busy && (++this.pollTicks & 255) === 0 && !this.checkHealth()) return;
    if (busy) {
      this.pollScheduled = true;
      setImmediate(() => this.pollTick());
    }
  }

  /** Reaps completions of the driver's queues now; returns how many commands settled. */
  poll(): number {
    let n = 0;
    for (const r of [this.admin, this.io]) if (r?.disp && !r.qp.isClosed) n += r.disp.poll();
    return n;
  }

  // Returns false when the controller is unusable (a reset or failure was started).
  // A function whose config space is unreadable (or reads all ones) is gone.
  private probeDevice(): void {
    let vendor: number;
    try {
      vendor = this.fn.configRead(0, 2);
    } catch (e) {
      throw new DeviceGoneError(`its config space cannot be read (${(e as Error).message})`);
    }
    if (vendor === 0xffff) throw new DeviceGoneError('its config space reads all ones');
    // VS (NVMe 1.4 §3.1.2) is a constant of a live controller with a major version of at
    // least 1. After a hot unplug behind VFIO, vfio-pci keeps answering config reads from
    // its virtual config space, but BAR0 reads all zeros (QEMU 7.2) or all ones (a real
    // bus): either is a controller that is no longer there.
    const vs = read32(this.bar, NVME.REG_VS);
    if (vs === 0 || vs === 0xffffffff) throw new DeviceGoneError(`its Version register reads ${vs === 0 ? 'all zeros' : 'all ones'}`);
  }

  private checkHealth(): boolean {
    if (this.state !== 'live' || this.closing) return true;
    let csts: number;
    try {
      this.probeDevice();
      csts = readCsts(this.bar);
    } catch (e) {
      this.die(e instanceof DeviceGoneError ? e : new DeviceGoneError(`its registers cannot be read (${(e as Error).message})`));
      return false;
    }
    if ((csts & NVME.CSTS_CFS) !== 0) {
      this.autoReset('controller fatal status (CSTS.CFS)');
      return false;
    }
    return true;
  }

  // Every tick: the CSTS watch, then timeouts (NVMe 1.4 §5.1 Abort). A command older than
  // timeoutMs gets an Abort; when the controller answers "not aborted" (DW0 bit 0 = 1),
  // the Abort fails, or the command is still there one tick later, the controller is
  // reset. Either way the command fails with NvmeTimeoutError. Admin commands are not
  // aborted: their timeout resets at once.
  private onTimer(): void {
    if (this.held && this.state !== 'resetting' && !this.pending()) this.releaseHold();
    if (this.state !== 'live' || this.closing) return;
    if (!this.checkHealth()) return;
    // A command is stamped with the epoch current at submission, up to one tick before
    // the next: one tick more than timeoutMs / tickMs guarantees it is at least
    // timeoutMs old when it expires (and at most one tick older).
    const age = Math.ceil(this.timeoutMs / this.tickMs) + 1;
    for (const r of [this.admin, this.io]) {
      if (!r?.disp || r.qp.isClosed || r.disp.outstanding === 0) continue;
      r.qp.native.tick();
      const expired = r.qp.native.expired(age);
      if (expired.length === 0) continue;
      const late = expired.some(([tag]) => r.disp?.commandOf(tag)?.aborted) ? new Set(r.qp.native.expired(age + 1).map(([t]) => t)) : undefined;
      for (const [tag, cid] of expired) {
        const cmd = r.disp.commandOf(tag);
        if (!cmd) continue;
        if (r === this.admin || (cmd.aborted && late?.has(tag))) {
          this.timedOutReset(cmd);
          return;
        }
        if (!cmd.aborted) this.sendAbort(r, tag, cid, cmd);
      }
    }
  }

  private sendAbort(r: QueueRuntime, tag: number, cid: number, cmd: Command): void {
    cmd.aborted = true;
    this.recovery.aborts++;
    const stillThere = (): boolean => !r.qp.isClosed && r.disp?.commandOf(tag) === cmd;
    this.adminCommand(abortSqe(r.qp.id, cid)).then(
      (dw0) => {
        // Abort DW0 bit 0 (NVMe 1.4 §5.1): 1 = the command was not aborted.
        if ((dw0 & 1) !== 0 && stillThere()) this.timedOutReset(cmd);
      },
      () => {
        if (stillThere()) this.timedOutReset(cmd);
      },
    );
  }

  private timedOutReset(cmd: Command): void {
    if (this.state !== 'live' || this.closing) return;
    cmd.timedOut = true;
    this.autoReset(`${cmd.info.name} timed out after ${this.timeoutMs} ms`);
  }

  private cancelledError(cmd: Command): Error {
    if (this.state === 'failed' && this.failure) return this.failure;
    if (cmd.timedOut || cmd.aborted) return new NvmeTimeoutError(cmd.info, this.timeoutMs, 'reset');
    if (this.state === 'closed' || this.closing) return new ControllerClosedError(cmd.info.name);
    return new ControllerResetError(cmd.info, this.recovery.lastResetReason || 'reset');
  }

  // Errors of commands the controller completed with a status. Two of them are the
  // driver's own doing and are reported as what the application asked for or ran into:
  // Command Abort Requested after a timeout's Abort is the timeout, and Command Aborted
  // due to SQ Deletion while closing is the close (NVMe 1.4 §5.6: deleting an SQ aborts
  // what it still holds).
  private statusError(cmd: Command, status: number): Error {
    const sct = (status >> 8) & 7;
    const sc = status & 0xff;
    if (sct === NVME.SCT_GENERIC) {
      if (sc === NVME.SC_ABORTED_BY_REQUEST && cmd.aborted) return new NvmeTimeoutError(cmd.info, this.timeoutMs, 'aborted');
      if (sc === NVME.SC_ABORTED_SQ_DELETION && this.closing) return new ControllerClosedError(cmd.info.name);
    }
    return new NvmeStatusError(status, cmd.info);
  }

  private addListPages(qp: QueuePair): boolean {
    const r = [...this.allRuntimes()].find((x) => x.qp === qp);
    if (!r || r.extraPages >= MAX_EXTRA_LIST_PAGES) return false;
    const b = this.pool.alloc(LIST_PAGE_GROWTH * this.pageSize, { align: this.pageSize });
    qp.addListPages(b.bytes.buffer as ArrayBuffer, b.bytes.byteOffset, b.iova, LIST_PAGE_GROWTH);
    r.buffers.push(b);
    r.extraPages += LIST_PAGE_GROWTH;
    return true;
  }

  // ---- the application's view ----

  /** Throws the typed error that says why no command can be submitted now. */
  checkUsable(what: string): void {
    if (this.state === 'live' && !this.closing) return;
    if (this.state === 'closed' || this.closing) throw new ControllerClosedError(what);
    if (this.state === 'resetting') throw new ControllerResettingError(what);
    throw this.failure ?? new ControllerFatalError('the controller failed');
  }

  /** The dispatcher behind the namespace API (internal). */
  ioDispatcher(): Dispatcher {
    return this.io.disp as Dispatcher;
  }

  /** Namespace `nsid`; throws UnknownNamespaceError when it is not active. */
  namespace(nsid: number): Namespace {
    if (typeof nsid !== 'number' || !Number.isInteger(nsid) || nsid < 1 || nsid > 0xfffffffe) {
      throw new InvalidArgumentError(`namespace id must be an integer 1..4294967294 (NSID), got ${describeValue(nsid)}`);
    }
    this.checkUsable(`namespace(${nsid})`);
    const ns = this.nsMap.get(nsid);
    if (!ns) throw new UnknownNamespaceError(nsid, [...this.nsMap.keys()]);
    return ns;
  }

  /** Active namespaces, by id. */
  namespaces(): Namespace[] {
    return [...this.nsMap.values()];
  }

  /**
   * A new IO queue pair for the batch API (CQ then SQ created on the controller). The
   * controller's own poller does not touch it: the application submits and reaps.
   */
  async createQueuePair(options: QueuePairOptions = {}): Promise<QueuePair> {
    checkQueuePairOptions(options);
    options ??= {};
    this.checkUsable('createQueuePair');
    const size = options.size ?? Math.min(256, this.cap.maxQueueEntries);
    if (!Number.isInteger(size) || size < 2 || size > this.cap.maxQueueEntries) {
      throw new InvalidArgumentError(`queue size ${size} is outside 2..${this.cap.maxQueueEntries} (CAP.MQES + 1)`);
    }
    if (options.interrupts && this.msixFds.length === 0) {
      throw new InvalidArgumentError("interrupts need the controller opened with { completion: 'interrupt' }");
    }
    const mode = options.dptr ?? this.dptrMode;
    this.checkSglAvailable(mode);
    const r = await this.createIoQueue(size, options.interrupts ?? false, mode);
    this.userQueues.add(r);
    r.qp.onClose = () => this.destroyUserQueue(r);
    return r.qp;
  }

  private async destroyUserQueue(r: QueueRuntime): Promise<void> {
    if (!this.userQueues.delete(r)) return;
    if (this.state === 'live') {
      await this.adminCommand(deleteQueueSqe(true, r.qp.id)).catch(() => undefined);
      await this.adminCommand(deleteQueueSqe(false, r.qp.id)).catch(() => undefined);
    }
    this.freeRuntime(r);
  }

  // ---- reset, failure, close ----

  /**
   * Resets the controller: disable, reject every command in flight with a reset error
   * (or a timeout error for the one that timed out), re-enable, recreate every queue.
   * Up to RecoveryOptions.attempts attempts with backoff; when all fail the controller
   * is dead (ControllerDeadError, also for every later call) and this rejects with it.
   */
  reset(reason = 'requested by the application'): Promise<void> {
    if (typeof reason !== 'string') return Promise.reject(new InvalidArgumentError(`reset(reason): reason must be a string, got ${describeValue(reason)}`));
    return this.recover(reason, false);
  }

  // Automatic recovery, bounded: more than maxResets within windowMs is a recurring fault
  // no reset cures, and the controller is declared dead instead.
  private autoReset(reason: string): void {
    this.recover(reason, true).catch(() => undefined);
  }

  private recover(reason: string, automatic: boolean): Promise<void> {
    if (this.state === 'closed' || this.closing) return Promise.reject(new ControllerClosedError('reset'));
    if (this.state === 'failed') return Promise.reject(this.failure as Error);
    if (this.resetting) return this.resetting;
    if (automatic) {
      const { maxResets, windowMs } = this.recoveryLimits;
      const now = Date.now();
      this.autoResetTimes = this.autoResetTimes.filter((t) => now - t < windowMs);
      if (this.autoResetTimes.length >= maxResets) {
        this.die(new ControllerDeadError(reason, `it recurred after ${maxResets} automatic reset${maxResets === 1 ? '' : 's'} within ${windowMs} ms (OpenOptions.recovery.maxResets)`));
        return Promise.reject(this.failure as Error);
      }
      this.autoResetTimes.push(now);
    }
    this.resetting = this.runReset(reason).finally(() => {
      this.resetting = undefined;
    });
    return this.resetting;
  }

  private async runReset(reason: string): Promise<void> {
    this.state = 'resetting';
    this.recovery.resets++;
    this.recovery.lastResetReason = reason;
    const { attempts, backoffMs } = this.recoveryLimits;
    let last: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2));
      if (this.closing) throw new ControllerClosedError('reset');
      this.recovery.attempts++;
      try {
        await this.resetOnce(reason);
        this.state = 'live';
        // Commands queued while the reset ran were refused; what completes now is new.
        return;
      } catch (e) {
        last = e as Error;
        if (this.closing) throw new ControllerClosedError('reset');
        if (last instanceof DeviceGoneError) break;
      }
    }
    this.die(last instanceof DeviceGoneError ? last : new ControllerDeadError(reason, `${attempts} reset attempt${attempts === 1 ? '' : 's'} failed`, last));
    throw this.failure as Error;
  }

  // One reset (NVMe 1.4 §7.3.2 controller reset, then §7.6.1 initialization again). Every
  // wait is bounded: RDY by CAP.TO, each admin command by RESET_COMMAND_MS (or timeoutMs),
  // and a CSTS.CFS or an all-ones register fails the attempt at once.
  private async resetOnce(reason: string): Promise<void> {
    this.probeDevice();
    await disable(this.bar, this.cap);
    // The reset re-establishes bus mastering too, in case it was lost (after the
    // disable, so nothing still queued runs before the queues are rebuilt).
    enableBusMaster(this.fn);
    for (const r of this.allRuntimes()) {
      if (r.disp) {
        r.disp.cancelInflight();
        r.disp.rejectWaiting((cmd) => new ControllerResetError(cmd.info, reason));
      } else if (!r.qp.isClosed) {
        const n = r.qp.native.cancelAll(0x7fff);
        r.qp.onReset?.(n);
      }
    }
    await this.enableWithAdminQueue();
    // CMBMSC may not survive a controller reset on every device: set it again.
    if (this.cmbWindow) programCba(this.bar, this.cmbWindow.cmb.iova);
    const dw0 = await this.resetCommand(setNumberOfQueuesSqe(64, 64));
    this.queuesGranted = { sq: (dw0 & 0xffff) + 1, cq: ((dw0 >>> 16) & 0xffff) + 1 };
    for (const r of [this.io, ...this.userQueues]) {
      const { id, size } = r.qp;
      await this.resetCommand(createCqSqe(id, size, r.vector), r.buffers[1]);
      await this.resetCommand(createSqSqe(id, size, id), r.buffers[0]);
    }
  }

  // An admin command of a reset: settles within its limit, or as soon as CSTS shows a
  // fatal status (or reads all ones), or when close() is called. A command left behind
  // is cancelled by the next attempt's disable.
  private resetCommand(sqe: Uint8Array, data?: DmaBuffer): Promise<number> {
    const p = this.adminCommand(sqe, data);
    const name = opcodeName(true, sqe[0]);
    const limit = Math.min(this.timeoutMs, RESET_COMMAND_MS);
    const deadline = Date.now() + limit;
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearInterval(watch);
        return true;
      };
      const watch = setInterval(() => {
        let err: Error | undefined;
        try {
          if (this.closing) err = new ControllerClosedError('reset');
          else if ((readCsts(this.bar) & NVME.CSTS_CFS) !== 0) err = new ControllerFatalError(`CSTS.CFS set while the reset waited for ${name}`);
          else if (Date.now() > deadline) err = new ControllerFatalError(`${name} did not complete within ${limit} ms during the reset`);
        } catch (e) {
          err = e as Error;
        }
        if (err && finish()) reject(err);
      }, 2);
      p.then(
        (v) => finish() && resolve(v),
        (e: Error) => finish() && reject(e),
      );
    });
  }

  // The controller is given up (device gone, or recovery exhausted): stop it from
  // touching memory, then fail every pending command with `err`, and every later call.
  private die(err: Error): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.failure = err;
    quiesce(this.fn, this.bar);
    for (const r of this.allRuntimes()) {
      if (r.disp) {
        r.disp.cancelInflight();
        r.disp.rejectWaiting(() => err);
      } else if (!r.qp.isClosed) {
        const n = r.qp.native.cancelAll(0x7fff);
        r.qp.onReset?.(n);
      }
    }
  }

  /** Why the controller can no longer be used (DeviceGoneError, ControllerDeadError), if it can't. */
  get deadReason(): Error | undefined {
    return this.state === 'failed' ? this.failure : undefined;
  }

  /**
   * Deletes the IO queues, sends the shutdown notification (CC.SHN, wait SHST), rejects
   * anything still in flight with ControllerClosedError, unmaps everything. Idempotent;
   * works (and settles) in every state, a dead controller included.
   */
  close(): Promise<void> {
    this.closing ??= this.teardown(true);
    return this.closing;
  }

  private async teardown(graceful: boolean): Promise<void> {
    // A running reset sees `closing` and stops at its next step.
    if (this.resetting) await this.resetting.catch(() => undefined);
    const wasLive = this.state === 'live';
    if (graceful && wasLive && this.admin?.disp) {
      const queues = [...this.userQueues, ...(this.io ? [this.io] : [])];
      const limit = Math.min(this.timeoutMs, 5000);
      const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, limit).unref())]);
      try {
        for (const r of queues) await bounded(this.adminCommand(deleteQueueSqe(true, r.qp.id)));
        for (const r of queues) await bounded(this.adminCommand(deleteQueueSqe(false, r.qp.id)));
      } catch {
        // a controller that refuses deletion is shut down anyway
      }
    }
    const wasFailed = this.state === 'failed';
    this.state = 'closed';
    try {
      if (graceful && wasLive) {
        if (!(await shutdown(this.bar, this.cap.timeoutMs))) quiesce(this.fn, this.bar);
      } else if (!wasFailed) {
        quiesce(this.fn, this.bar);
      }
    } catch {
      // the device may be gone: make sure it stops, then unmap below
      quiesce(this.fn, this.bar);
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.releaseHold();
    for (const w of this.watches) w.close();
    for (const r of [...this.allRuntimes()]) {
      if (r.disp) {
        r.disp.cancelInflight();
        r.disp.rejectWaiting((cmd) => new ControllerClosedError(cmd.info.name));
      }
      this.freeRuntime(r);
    }
    this.userQueues.clear();
    if (this.cmbWindow) {
      const { mapping } = this.cmbWindow;
      this.cmbWindow = undefined;
      try {
        disableCmb(this.bar, mapping);
      } catch {
        // pool.close() below unmaps it anyway
      }
    }
    forgetLeftovers(this.leftovers);
    try {
      this.pool.close();
    } finally {
      if (this.ownsFn) this.fn.close();
    }
  }

  /**
   * Turns on the controller memory buffer and maps it for IO data (its phyr entries carry
   * PhyrFlags.CMB; commands whose data mixes CMB and host memory are split at the boundary).
   * Idempotent. Throws CmbUnavailableError when the controller has none usable.
   */
  async enableCmb(): Promise<ControllerMemoryBuffer> {
    this.checkUsable('enableCmb');
    this.cmbEnabling ??= enableCmb(this.fn, this.pool, this.cap.cmbs).then(
      (w) => {
        if (this.state === 'closed') {
          // closed while the CMB was being enabled: leave the device as close() did
          try {
            disableCmb(this.bar, w.mapping);
          } catch {
            // the closed pool already unmapped the window
          }
          throw new ControllerClosedError('enableCmb');
        }
        this.cmbWindow = w;
        return w.cmb;
      },
      (e: unknown) => {
        this.cmbEnabling = undefined;
        throw e;
      },
    );
    return this.cmbEnabling;
  }

  /** The enabled controller memory buffer, if enableCmb() was called. */
  get cmb(): ControllerMemoryBuffer | undefined {
    return this.cmbWindow?.cmb;
  }

  /** Resolves once no reset is running (at once when none is). Never rejects. */
  ready(): Promise<void> {
    return this.resetting ? this.resetting.catch(() => undefined) : Promise.resolve();
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.state === 'closed' || this.closing !== undefined;
  }

  /** 'live', 'resetting', 'dead' (see deadReason) or 'closed'. */
  get status(): 'live' | 'resetting' | 'dead' | 'closed' {
    return this.closing !== undefined || this.state === 'closed' ? 'closed' : this.state === 'failed' ? 'dead' : this.state;
  }
}
