// An NVMe controller driven from user space: bring-up, admin commands, IO queue pairs,
// namespaces, completion delivery (polled or MSI-X interrupts), timeouts with Abort and
// reset, CSTS.CFS watch, bounded recovery (then a dead state), and a clean close. A
// controller that becomes unreachable without close() is released and reported.
//
// The Controller is the composition of its parts, each behind the narrow interface it
// declares: bring-up.ts (BringUpHost), queues.ts (QueueHost), completions.ts (PollerHost),
// recovery.ts (RecoveryHost), close.ts (CloseHost), dispatcher.ts (DispatcherHost),
// namespace.ts (NamespaceHost); options.ts checks what open() is given, leftovers.ts
// releases what an unclosed controller held, cmb.ts drives the controller memory buffer.
import { DmaPool, type DmaBuffer } from '../../lib/dma';
import type { EventfdWatch } from '../../lib/eventfd';
import { PhyrError } from '../../lib/errors';
import type { PciFunction } from '../../lib/pci/function';
import { deleteQueueSqe } from './admin';
import { configureShadowDoorbells, identifyData, negotiateQueues, restart, scanNamespaces, startWithAdminQueue, type BringUpHost } from './bring-up';
import { CmbSlot, type ControllerMemoryBuffer } from './cmb';
import { teardown, type CloseHost } from './close';
import { Interrupts, KeepAlive, Poller } from './completions';
import { Dispatcher, newCommand, type DispatcherHost } from './dispatcher';
import { CommandInfo, ControllerClosedError, InvalidArgumentError, describeValue, opcodeName } from './errors';
import { IdentifyController, parseIdentifyController } from './identify';
import { trackLeftovers, type Leftovers } from './leftovers';
import { Lifecycle } from './lifecycle';
import type { Namespace } from './namespace';
import { RECOVERY_DEFAULTS, checkAdminCommandArgs, checkOpenOptions, checkQueuePairOptions, type CompletionMode, type DataPointerMode, type OpenOptions, type QueuePairOptions, type RecoveryOptions } from './options';
import type { QueueCaps, QueuePair } from './queue-pair';
import { QueueSet, checkSglAvailable, queueCaps, type QueueRuntime } from './queues';
import { Recovery, type AdminRun } from './recovery';
import { readCap, type ControllerCap } from './registers';
import { NVME } from '../../spec/nvme';

export { RECOVERY_DEFAULTS, SglUnavailableError, checkOpenOptions } from './options';
export type { CompletionMode, DataPointerMode, OpenOptions, QueuePairOptions, RecoveryOptions } from './options';

/** A namespace id that is not active on the controller. */
export class UnknownNamespaceError extends PhyrError {
  constructor(nsid: number, active: number[]) {
    super('PHYR_UNKNOWN_NAMESPACE', `namespace ${nsid} is not an active namespace of this controller (active: ${active.join(', ') || 'none'})`);
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

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
  /**
   * Why the controller offered shadow doorbells (Doorbell Buffer Config) yet the IO queues
   * use MMIO doorbells: it failed the command. Undefined otherwise (see shadowDoorbells).
   */
  shadowDoorbellsRefused: string | undefined;

  private readonly life = new Lifecycle();
  private readonly queues: QueueSet;
  private readonly nsMap = new Map<number, Namespace>();
  private readonly watches: EventfdWatch[] = [];
  private readonly irq = new Interrupts(this.watches);
  private readonly keepAlive = new KeepAlive(this);
  private readonly poller: Poller;
  private readonly recoverer: Recovery;
  private readonly tickMs: number;
  private readonly dptrMode: DataPointerMode;
  private readonly cmbSlot: CmbSlot;
  private readonly leftovers: Leftovers;
  // Timer and eventfd callbacks reach the controller through this, so that they do not keep it reachable.
  private readonly self = new WeakRef<Controller>(this);
  private readonly dispatcherHost: DispatcherHost;
  private readonly partHost: BringUpHost & CloseHost;

  private constructor(
    /** The PCI function (BAR, config space, IOMMU, MSI-X). */
    readonly fn: PciFunction,
    /** The DMA pool all driver memory comes from. */
    readonly pool: DmaPool,
    ownsFn: boolean,
    private readonly options: OpenOptions,
  ) {
    const bar = fn.bar(0);
    this.leftovers = { target: fn.name, fn, pool, ownsFn, bar, timer: undefined, watches: this.watches, released: false };
    trackLeftovers(this.leftovers, this);
    this.cap = readCap(bar);
    this.pageSize = Math.max(4096, this.cap.mpsMin);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.recoveryLimits = Object.freeze({ ...RECOVERY_DEFAULTS, ...options.recovery });
    this.tickMs = Math.max(5, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.completion = options.completion ?? 'poll';
    this.dptrMode = options.dptr ?? (options.sgl === false ? 'prp' : 'auto');
    const ctrl = this;
    const adminCommand = (sqe: Uint8Array, data?: DmaBuffer): Promise<number> => this.adminCommand(sqe, data);
    const life = this.life;
    this.cmbSlot = new CmbSlot({ fn, bar, pool, cmbs: this.cap.cmbs, closedError: () => (life.state === 'closed' ? new ControllerClosedError('enableCmb') : undefined) });
    // One host object serves the parts that only read the controller's pieces.
    this.partHost = {
      fn,
      bar,
      cap: this.cap,
      pageSize: this.pageSize,
      pool,
      ownsFn,
      timeoutMs: this.timeoutMs,
      life,
      keepAlive: this.keepAlive,
      irq: this.irq,
      leftovers: this.leftovers,
      cmb: this.cmbSlot,
      adminCommand,
      get queues() {
        return ctrl.queues;
      },
      get queuesGranted() {
        return ctrl.queuesGranted;
      },
      set queuesGranted(g) {
        ctrl.queuesGranted = g;
      },
    };
    this.queues = new QueueSet(this.partHost);
    const restartAfterReset = (run: AdminRun): Promise<void> => restart(this.partHost, run, this.cmbSlot.cmb?.iova);
    this.recoverer = new Recovery(
      { fn, bar, cap: this.cap, timeoutMs: this.timeoutMs, life, queues: this.queues, adminCommand, restart: restartAfterReset },
      this.recoveryLimits,
      this.recovery,
      this.tickMs,
    );
    const autoPoll = this.completion === 'poll' && (options.poller ?? 'auto') === 'auto';
    this.poller = new Poller({ queues: this.queues, life: this.life, checkHealth: () => this.recoverer.checkHealth() }, this.keepAlive, autoPoll);
    this.dispatcherHost = {
      addListPages: (qp) => this.queues.addListPages(qp),
      cancelledError: (cmd) => this.recoverer.cancelledError(cmd),
      activity: () => this.poller.activity(),
      statusError: (cmd, status) => this.recoverer.statusError(cmd, status),
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
      if (ctrl) await teardown(ctrl.partHost, false).catch(() => undefined);
      else {
        pool.close();
        if (ownsFn) fn.close();
      }
      throw e;
    }
  }

  // Bring-up per NVMe 1.4 §7.6.1 (bring-up.ts), then the namespace API's IO queue pair and
  // the timer of timeouts and the CSTS watch.
  private async bringUp(): Promise<void> {
    const interrupts = this.completion === 'interrupt';
    await startWithAdminQueue(this.partHost, this.options, interrupts ? this.irq : undefined, this.dispatcherHost, this.onVector());
    this.identify = parseIdentifyController(await identifyData(this.partHost, NVME.CNS_CONTROLLER, 0));
    checkSglAvailable(this.identify, this.dptrMode, this.fn.kind === 'emu');
    await negotiateQueues(this.partHost);
    this.shadowDoorbellsRefused = await configureShadowDoorbells(this.partHost, this.identify, this.options.shadowDoorbells ?? true);
    for (const ns of await scanNamespaces(this.partHost, this)) this.nsMap.set(ns.nsid, ns);
    const io = await this.createIoQueue(Math.min(this.options.ioQueueSize ?? 1024, this.cap.maxQueueEntries), interrupts, this.dptrMode);
    this.queues.io = io;
    io.disp = new Dispatcher(io.qp, this.dispatcherHost);
    const self = this.self;
    this.leftovers.timer = this.keepAlive.start(this.tickMs, () => self.deref()?.onTimer());
  }

  // An MSI-X vector's callback, holding the controller weakly.
  private onVector(): (vector: number) => void {
    const self = this.self;
    return (vector) => self.deref()?.poller.onVector(vector);
  }

  private async createIoQueue(size: number, interrupts: boolean, mode: DataPointerMode): Promise<QueueRuntime> {
    const r = await this.queues.createIo(size, this.queueCapsFor(mode), interrupts ? (qid) => this.irq.vectorFor(qid) : undefined);
    this.irq.watch(r, this.onVector());
    return r;
  }

  private onTimer(): void {
    if (this.keepAlive.held && this.life.state !== 'resetting' && !this.poller.pending()) this.keepAlive.release();
    this.recoverer.onTick();
  }

  /** Data-plane capabilities of IO queues (in the controller's data-pointer mode unless `mode` is given). */
  queueCapsFor(mode: DataPointerMode = this.dptrMode): QueueCaps {
    return queueCaps(this.identify, this.cap, this.pageSize, mode);
  }

  /** Data-plane capabilities of the namespace API's IO queue. */
  get queueCaps(): QueueCaps {
    return this.queueCapsFor();
  }

  /** True when the IO queues publish doorbells in shadow memory (OpenOptions.shadowDoorbells). */
  get shadowDoorbells(): boolean {
    return this.queues.shadow !== undefined;
  }

  /** The data-pointer mode the namespace API uses (OpenOptions.dptr). */
  get dataPointerMode(): DataPointerMode {
    return this.dptrMode;
  }

  /** Runs an admin command; resolves with CQE DW0. `data` is device memory (a pool buffer; PRP). */
  async adminCommand(sqe: Uint8Array, data?: Pick<DmaBuffer, 'iova' | 'size'>, bytes?: number): Promise<number> {
    checkAdminCommandArgs(sqe, data, bytes);
    if (this.life.state === 'closed') throw new ControllerClosedError('adminCommand');
    if (this.life.state === 'failed') throw this.life.failure as Error;
    const opcode = sqe[0];
    const info: CommandInfo = { admin: true, opcode, name: opcodeName(true, opcode) };
    return new Promise<number>((resolve, reject) => {
      const cmd = newCommand(info, (err, dw0) => (err ? reject(err) : resolve(dw0)));
      cmd.sqe = sqe;
      if (data) {
        cmd.addr = data.iova;
        cmd.len = bytes ?? data.size;
      }
      (this.queues.admin?.disp as Dispatcher).enqueue(cmd);
    });
  }

  // ---- the application's view ----

  /** Throws the typed error that says why no command can be submitted now. */
  checkUsable(what: string): void {
    this.life.checkUsable(what);
  }

  /** The dispatcher behind the namespace API (internal). */
  ioDispatcher(): Dispatcher {
    return this.io?.disp as Dispatcher;
  }

  // The namespace API's queue and the application's (tests read their memory).
  private get io(): QueueRuntime | undefined {
    return this.queues.io;
  }

  private get userQueues(): Set<QueueRuntime> {
    return this.queues.user;
  }

  /** Reaps completions of the driver's queues now; returns how many commands settled. */
  poll(): number {
    return this.poller.poll();
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
    if (options.interrupts && !this.irq.enabled) {
      throw new InvalidArgumentError("interrupts need the controller opened with { completion: 'interrupt' }");
    }
    const mode = options.dptr ?? this.dptrMode;
    checkSglAvailable(this.identify, mode, this.fn.kind === 'emu');
    const r = await this.createIoQueue(size, options.interrupts ?? false, mode);
    this.userQueues.add(r);
    r.qp.onClose = () => this.destroyUserQueue(r);
    return r.qp;
  }

  private async destroyUserQueue(r: QueueRuntime): Promise<void> {
    if (!this.userQueues.delete(r)) return;
    if (this.life.state === 'live') {
      await this.adminCommand(deleteQueueSqe(true, r.qp.id)).catch(() => undefined);
      await this.adminCommand(deleteQueueSqe(false, r.qp.id)).catch(() => undefined);
    }
    this.queues.free(r);
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
    return this.recoverer.recover(reason, false);
  }

  /** Why the controller can no longer be used (DeviceGoneError, ControllerDeadError), if it can't. */
  get deadReason(): Error | undefined {
    return this.life.state === 'failed' ? this.life.failure : undefined;
  }

  /**
   * Deletes the IO queues, sends the shutdown notification (CC.SHN, wait SHST), rejects
   * anything still in flight with ControllerClosedError, unmaps everything. Idempotent;
   * works (and settles) in every state, a dead controller included.
   */
  close(): Promise<void> {
    this.life.closing ??= teardown(this.partHost, true);
    return this.life.closing;
  }

  /**
   * Turns on the controller memory buffer and maps it for IO data (its phyr entries carry
   * PhyrFlags.CMB; commands whose data mixes CMB and host memory are split at the boundary).
   * Idempotent. Throws CmbUnavailableError when the controller has none usable.
   */
  async enableCmb(): Promise<ControllerMemoryBuffer> {
    this.checkUsable('enableCmb');
    return this.cmbSlot.enable();
  }

  /** The enabled controller memory buffer, if enableCmb() was called. */
  get cmb(): ControllerMemoryBuffer | undefined {
    return this.cmbSlot.cmb;
  }

  /** Resolves once no reset is running (at once when none is). Never rejects. */
  ready(): Promise<void> {
    return this.life.resetting ? this.life.resetting.catch(() => undefined) : Promise.resolve();
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.life.stopping;
  }

  /** 'live', 'resetting', 'dead' (see deadReason) or 'closed'. */
  get status(): 'live' | 'resetting' | 'dead' | 'closed' {
    const { state } = this.life;
    return this.life.stopping ? 'closed' : state === 'failed' ? 'dead' : state;
  }
}
