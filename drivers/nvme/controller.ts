// An NVMe controller driven from user space: bring-up, admin commands, IO queue pairs,
// namespaces, completion delivery (polled or MSI-X interrupts), timeouts with Abort and
// reset, CSTS.CFS watch, and a clean close.
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
  ControllerFatalError,
  ControllerResetError,
  ControllerResettingError,
  DeviceGoneError,
  InvalidIoError,
  NvmeTimeoutError,
  opcodeName,
} from './errors';
import { IdentifyController, IdentifyNamespace, parseIdentifyController, parseIdentifyNamespace } from './identify';
import { Namespace } from './namespace';
import { QueuePair, type QueueCaps } from './queue-pair';
import { ControllerCap, disable, enable, enableBusMaster, msixVectorCount, readCap, readCsts, setAdminQueue, shutdown } from './registers';
import { NVME } from './spec';

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
}

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
    throw new InvalidIoError(`dptr must be 'auto', 'prp' or 'sgl', got ${JSON.stringify(mode)}`);
  }
}

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
const MAX_EXTRA_LIST_PAGES = 4096;
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
  /** Counters of recovery actions. */
  readonly recovery = { aborts: 0, resets: 0, lastResetReason: '' };

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

  private constructor(
    /** The PCI function (BAR, config space, IOMMU, MSI-X). */
    readonly fn: PciFunction,
    /** The DMA pool all driver memory comes from. */
    readonly pool: DmaPool,
    private readonly ownsFn: boolean,
    private readonly options: OpenOptions,
  ) {
    this.bar = fn.bar(0);
    this.cap = readCap(this.bar);
    this.pageSize = Math.max(4096, this.cap.mpsMin);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new InvalidIoError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    this.tickMs = Math.max(5, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.completion = options.completion ?? 'poll';
    this.autoPoll = this.completion === 'poll' && (options.poller ?? 'auto') === 'auto';
    this.dptrMode = options.dptr ?? (options.sgl === false ? 'prp' : 'auto');
    this.host = {
      addListPages: (qp) => this.addListPages(qp),
      cancelledError: (cmd) => this.cancelledError(cmd),
      activity: () => this.activity(),
    };
  }

  /** Brings up the controller behind `fn` (which it then owns when `ownsFn`). */
  static async open(fn: PciFunction, options: OpenOptions = {}, ownsFn = false): Promise<Controller> {
    if (options.completion !== undefined && options.completion !== 'poll' && options.completion !== 'interrupt') {
      throw new InvalidIoError(`completion must be 'poll' or 'interrupt', got '${String(options.completion)}'`);
    }
    if (options.poller !== undefined && options.poller !== 'auto' && options.poller !== 'manual') {
      throw new InvalidIoError(`poller must be 'auto' or 'manual', got '${String(options.poller)}'`);
    }
    checkDptrMode(options.dptr);
    if (options.dptr !== undefined && options.sgl !== undefined && (options.sgl === false) !== (options.dptr === 'prp')) {
      throw new InvalidIoError(`options sgl: ${options.sgl} and dptr: '${options.dptr}' disagree; give dptr only`);
    }
    const pool = new DmaPool(fn, options.pool);
    let ctrl: Controller | undefined;
    try {
      ctrl = new Controller(fn, pool, ownsFn, options);
      await ctrl.bringUp();
      return ctrl;
    } catch (e) {
      if (ctrl) await ctrl.teardown(false).catch(() => undefined);
      else pool.close();
      if (ownsFn) fn.close();
      throw e;
    }
  }

  // Bring-up per NVMe 1.4 §7.6.1: disable, wait RDY=0, admin queue, enable, wait RDY=1,
  // Identify, Number of Queues, namespaces, the default IO queue pair.
  private async bringUp(): Promise<void> {
    enableBusMaster(this.fn);
    await disable(this.bar, this.cap);
    if (this.completion === 'interrupt') this.setupInterrupts();
    const size = Math.min(this.options.adminQueueSize ?? 64, this.cap.maxQueueEntries, 4096);
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
    // Timeouts and the CSTS watch: one unref'd timer (at most one wake-up per second when
    // the default timeout is used), so it never keeps the process alive.
    this.timer = setInterval(() => this.onTimer(), this.tickMs);
    this.timer.unref();
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

  private async recreateIoQueue(r: QueueRuntime): Promise<void> {
    const { id, size } = r.qp;
    await this.adminCommand(createCqSqe(id, size, r.vector), r.buffers[1]);
    await this.adminCommand(createSqSqe(id, size, id), r.buffers[0]);
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
    this.watches.push(
      watchEventfd(fd, () => {
        for (const q of this.allRuntimes()) {
          if (q.vector !== r.vector || q.qp.isClosed) continue;
          if (q.disp) q.disp.poll();
          else q.qp.onInterrupt?.();
        }
      }),
    );
  }

  private *allRuntimes(): Iterable<QueueRuntime> {
    if (this.admin) yield this.admin;
    if (this.io) yield this.io;
    yield* this.userQueues;
  }

  // ---- admin commands ----

  /** Runs an admin command; resolves with CQE DW0. `data` is device memory (a pool buffer; PRP). */
  async adminCommand(sqe: Uint8Array, data?: Pick<DmaBuffer, 'iova' | 'size'>, bytes?: number): Promise<number> {
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
    if ((this.autoPoll || this.internalPolling()) && !this.pollScheduled) {
      // Bring-up, reset and close poll for their own admin commands in every mode.
      this.pollScheduled = true;
      setImmediate(() => this.pollTick());
    }
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
  }

  private checkHealth(): boolean {
    if (this.state !== 'live') return true;
    let csts: number;
    try {
      this.probeDevice();
      csts = readCsts(this.bar);
    } catch (e) {
      this.fail(e instanceof DeviceGoneError ? e : new DeviceGoneError(`its registers cannot be read (${(e as Error).message})`));
      return false;
    }
    if ((csts & NVME.CSTS_CFS) !== 0) {
      this.reset('controller fatal status (CSTS.CFS)').catch(() => undefined);
      return false;
    }
    return true;
  }

  private onTimer(): void {
    if (!this.checkHealth()) return;
    const age = Math.ceil(this.timeoutMs / this.tickMs);
    for (const r of [this.admin, this.io]) {
      if (!r?.disp || r.qp.isClosed || r.disp.outstanding === 0) continue;
      r.qp.native.tick();
      for (const [tag, cid] of r.qp.native.expired(age)) {
        const cmd = r.disp.commandOf(tag);
        if (!cmd) continue;
        if (!cmd.aborted && r !== this.admin) {
          cmd.aborted = true;
          this.recovery.aborts++;
          this.adminCommand(abortSqe(r.qp.id, cid)).catch(() => undefined);
        } else if (cmd.aborted ? this.expiredTwice(r, tag, 2 * age) : true) {
          cmd.timedOut = true;
          this.reset(`${cmd.info.name} timed out after ${this.timeoutMs} ms`).catch(() => undefined);
          return;
        }
      }
    }
  }

  private expiredTwice(r: QueueRuntime, tag: number, age: number): boolean {
    return r.qp.native.expired(age).some(([t]) => t === tag);
  }

  private cancelledError(cmd: Command): Error {
    if (this.state === 'failed' && this.failure) return this.failure;
    if (cmd.timedOut || cmd.aborted) return new NvmeTimeoutError(cmd.info, this.timeoutMs);
    if (this.state === 'closed') return new ControllerClosedError(cmd.info.name);
    return new ControllerResetError(cmd.info, this.recovery.lastResetReason || 'reset');
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
    if (this.state === 'live') return;
    if (this.state === 'closed') throw new ControllerClosedError(what);
    if (this.state === 'resetting') throw new ControllerResettingError(what);
    throw this.failure ?? new ControllerFatalError('the controller failed');
  }

  /** The dispatcher behind the namespace API (internal). */
  ioDispatcher(): Dispatcher {
    return this.io.disp as Dispatcher;
  }

  /** Namespace `nsid`; throws UnknownNamespaceError when it is not active. */
  namespace(nsid: number): Namespace {
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
    this.checkUsable('createQueuePair');
    const size = options.size ?? Math.min(256, this.cap.maxQueueEntries);
    if (!Number.isInteger(size) || size < 2 || size > this.cap.maxQueueEntries) {
      throw new InvalidIoError(`queue size ${size} is outside 2..${this.cap.maxQueueEntries} (CAP.MQES + 1)`);
    }
    if (options.interrupts && this.msixFds.length === 0) {
      throw new InvalidIoError("interrupts need the controller opened with { completion: 'interrupt' }");
    }
    checkDptrMode(options.dptr);
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
   */
  reset(reason = 'requested by the application'): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ControllerClosedError('reset'));
    if (this.resetting) return this.resetting;
    this.resetting = this.doReset(reason).finally(() => {
      this.resetting = undefined;
    });
    return this.resetting;
  }

  private async doReset(reason: string): Promise<void> {
    this.state = 'resetting';
    this.recovery.resets++;
    this.recovery.lastResetReason = reason;
    try {
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
      this.state = 'live';
      await this.negotiateQueues();
      await this.recreateIoQueue(this.io);
      for (const r of this.userQueues) await this.recreateIoQueue(r);
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
  }

  private fail(err: Error): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.failure = err instanceof DeviceGoneError || err instanceof ControllerFatalError ? err : new ControllerFatalError(err.message);
    for (const r of this.allRuntimes()) {
      if (!r.disp) continue;
      r.disp.cancelInflight();
      r.disp.rejectWaiting(() => this.failure as Error);
    }
  }

  /**
   * Deletes the IO queues, sends the shutdown notification (CC.SHN, wait SHST), rejects
   * anything still in flight, unmaps everything. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.teardown(true);
    return this.closing;
  }

  private async teardown(graceful: boolean): Promise<void> {
    const wasLive = this.state === 'live';
    if (this.resetting) await this.resetting.catch(() => undefined);
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
    this.state = 'closed';
    try {
      if (graceful && wasLive) await shutdown(this.bar, this.cap.timeoutMs);
    } catch {
      // the device may be gone; unmapping below still happens
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
    return this.state === 'closed';
  }
}
