// A served client: phyr.connect(socketPath). It attaches to a running `phyr serve`,
// maps its doorbells (the embedded controller's BAR0 memfd, or the doorbell page of a VFIO
// device's BAR0 through the device fd the daemon sends), keeps its DMA memory in a
// shared pool whose chunks the daemon maps into the controller's IOMMU inside this
// client's device-address window, and gets IO queue pairs the daemon created on its admin
// queue over rings in that memory. IO is the driver's native queue pair on those rings:
// SQEs written here, doorbells rung in the shared BAR, completions polled here — no daemon
// round trip per IO. The control path (attach, mappings, queue creation, identify) is
// request/answer over the socket (serve/protocol.ts).
import { closeChannelFd, mapSharedMemory, sharedMemoryFd } from '../lib/channel';
import { DmaPool, type DmaBuffer, type HugepageMode } from '../lib/dma';
import type { DmaAccess, IovaRange, PciFunction } from '../lib/pci/function';
import { mapSharedRegion } from '../lib/vfio';
import { vfioNative } from '../lib/vfio/native';
import { CPL, CPL_STATUS_MASK, CPL_WORDS, NVME, NvmeStatusError, opcodeName, parseIdentifyNamespace, QueuePair, REQ, REQ_WORDS, RESULT_CODE_MASK, SubmitResult, type IdentifyNamespace } from '../drivers/nvme';
import { checkConnectArguments, checkInteger, checkOptions } from './arguments';
import { Connection } from './connection';
import { connectServeSocket } from './socket-connect';
import { encode, parseReply, SERVE_PROTOCOL_VERSION, ServeClosedError, ServeProtocolError, ServeRequestError, type AttachInfo, type Reply, type Request, type ServedNamespaceInfo, type ServeStatus } from './protocol';

/** Options of connect(). */
export interface ConnectOptions {
  /** Hugepages for the client's DMA memory (as DmaPoolOptions.hugepages; default 'auto'). */
  hugepages?: HugepageMode;
  /** Entries of the queue pair behind the namespace API (default 128, at most CAP.MQES + 1). */
  ioQueueSize?: number;
  /** How long a control request may wait for the daemon's answer (default 10000 ms). */
  requestTimeoutMs?: number;
}

type Pending = { resolve: (r: Reply) => void; reject: (e: Error) => void };
type Outgoing = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The control connection: requests with answers, asynchronous or (for DMA mappings) synchronous. */
class ControlChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | undefined;
  readonly conn: Connection;
  /** The first answer's descriptors (attach: BAR0), taken by the caller. */
  lastFds: number[] = [];
  /** Called once when the connection fails (the daemon shut down, exited or was killed). */
  onFailure?: (e: Error) => void;

  constructor(
    fd: number,
    private readonly timeoutMs: number,
  ) {
    this.conn = new Connection(
      fd,
      (m) => this.onReply(parseReply(m.data), m.fds),
      () => this.fail(new ServeClosedError('the socket closed (the daemon exited or was killed)')),
    );
    this.conn.unref();
  }

  get failure(): Error | undefined {
    return this.dead;
  }

  private fail(e: Error): void {
    const first = this.dead === undefined;
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    this.conn.close();
    if (first) this.onFailure?.(this.dead);
  }

  private onReply(r: Reply, fds: number[]): void {
    if (r.type === 'shutdown') {
      for (const f of fds) closeChannelFd(f);
      this.fail(new ServeClosedError(r.reason));
      return;
    }
    const p = this.pending.get(r.id);
    if (!p) {
      for (const f of fds) closeChannelFd(f);
      return;
    }
    this.pending.delete(r.id);
    this.lastFds = fds;
    if (r.type === 'error') p.reject(new ServeRequestError(r.code, r.message));
    else p.resolve(r);
  }

  private check(): void {
    if (this.dead) throw this.dead;
  }

  request(req: Outgoing, fds: number[] = []): Promise<Reply> {
    this.check();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(new ServeRequestError('PHYR_SERVE_TIMEOUT', `${req.type}: no answer from the daemon within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      // An idle client does not keep its process alive; one awaiting an answer does.
      const settle = () => {
        clearTimeout(timer);
        if (this.pending.size === 0 && !this.conn.isClosed) this.conn.unref();
      };
      this.pending.set(id, {
        resolve: (r) => (settle(), resolve(r)),
        reject: (e) => (settle(), reject(e)),
      });
      this.conn.ref();
      try {
        this.conn.send(encode({ ...req, id } as Request), fds);
      } catch (e) {
        this.fail(e as Error);
      }
    });
  }

  /** The same, blocking the thread until the answer (messages meanwhile are delivered as usual). */
  requestSync(req: Outgoing, fds: number[] = []): Reply {
    this.check();
    let result: Reply | undefined;
    let error: Error | undefined;
    const id = this.nextId++;
    this.pending.set(id, { resolve: (r) => (result = r), reject: (e) => (error = e) });
    this.conn.send(encode({ ...req, id } as Request), fds);
    const deadline = Date.now() + this.timeoutMs;
    while (result === undefined && error === undefined) {
      const left = deadline - Date.now();
      const m = left > 0 ? this.conn.receiveNow(left) : null;
      if (m) {
        this.conn.deliver(m);
        continue;
      }
      if (this.dead) throw this.dead;
      this.pending.delete(id);
      throw new ServeRequestError('PHYR_SERVE_TIMEOUT', `${req.type}: no answer from the daemon within ${this.timeoutMs} ms`);
    }
    if (error) throw error;
    return result as Reply;
  }

  close(): void {
    this.fail(new ServeClosedError('the client closed its connection'));
  }
}

/**
 * The served controller as a PciFunction for this client's DMA pool: its IOMMU is the
 * daemon's, reached by request. Only mapping whole shared chunks is possible; on the
 * embedded controller bar(0) is the shared BAR0, over VFIO the client holds only the
 * doorbell page (not a BAR); config space and interrupts stay the daemon's.
 */
class ServedFunction implements PciFunction {
  constructor(
    readonly name: string,
    readonly kind: 'emu' | 'vfio',
    private readonly control: ControlChannel,
    private readonly bar0: ArrayBuffer | undefined,
    private readonly bar0Size: number,
    private readonly window: IovaRange,
  ) {}
  bar(index: number): ArrayBuffer {
    if (index !== 0) throw new ServeRequestError('PHYR_SERVE_REFUSED', `BAR ${index} is not served: a client maps BAR0 only`);
    if (!this.bar0) throw new ServeRequestError('PHYR_SERVE_REFUSED', "BAR0's registers are not served over VFIO: a client maps only the doorbell page");
    return this.bar0;
  }
  barSize(index: number): number {
    return index === 0 ? this.bar0Size : 0;
  }
  configRead(): number {
    throw new ServeRequestError('PHYR_SERVE_REFUSED', 'config space belongs to the daemon: a served client cannot read it');
  }
  configWrite(): void {
    throw new ServeRequestError('PHYR_SERVE_REFUSED', 'config space belongs to the daemon: a served client cannot write it');
  }
  iovaRanges(): IovaRange[] {
    return [{ ...this.window }];
  }
  dmaMap(memory: ArrayBuffer, offset: number, length: number, iova: number, _access: DmaAccess): void {
    const fd = sharedMemoryFd(memory);
    if (fd === undefined || offset !== 0 || length !== memory.byteLength) {
      throw new ServeRequestError('PHYR_SERVE_REFUSED', 'a served client maps only whole shared-memory chunks of its own pool (DmaPool { shared: true })');
    }
    this.control.requestSync({ type: 'map', iova, length }, [fd]);
  }
  dmaUnmap(iova: number, length: number): void {
    if (this.control.failure) return; // the daemon is gone, and its mappings with it
    this.control.requestSync({ type: 'unmap', iova, length });
  }
  enableMsix(): number[] {
    throw new ServeRequestError('PHYR_SERVE_REFUSED', "interrupts belong to the daemon: a served client's queues are polled");
  }
  close(): void {}
}

/** One IO of the namespace API waiting for its completion. */
interface InFlight {
  resolve: () => void;
  reject: (e: Error) => void;
  opcode: number;
  nsid: number;
  lba: number;
  blocks: number;
  bounce?: { buf: DmaBuffer; into?: Uint8Array };
}

/**
 * The namespace API's engine on one queue pair: one request slot per IO (tag = slot),
 * completions reaped by a poll that runs while anything is in flight.
 */
class PromiseEngine {
  private readonly free: number[] = [];
  private readonly inflight: Array<InFlight | undefined> = [];
  private readonly waiting: Array<() => void> = [];
  private polling = false;

  constructor(readonly qp: QueuePair) {
    for (let s = Math.min(qp.capacity, qp.slots) - 1; s >= 0; s--) this.free.push(s);
  }

  submit(io: InFlight, lbaSize: number, iova: number, bytes: number): void {
    const slot = this.free.pop();
    if (slot === undefined) {
      this.waiting.push(() => this.submit(io, lbaSize, iova, bytes));
      return;
    }
    const qp = this.qp;
    try {
      // setEntry checks that the data lies in this client's own pool data buffers: the
      // per-client check that makes an honest bug fail instead of reaching a peer.
      if (bytes > 0) qp.setEntry(slot, iova, bytes);
      qp.setIo(slot, io.opcode, io.nsid, io.lba, io.blocks, lbaSize, slot, bytes > 0 ? 1 : 0, slot);
      qp.submitBatch(slot, 1);
    } catch (e) {
      this.free.push(slot);
      io.reject(e as Error);
      return;
    }
    const result = qp.requests[slot * REQ_WORDS + REQ.RESULT] & RESULT_CODE_MASK;
    if (result !== SubmitResult.OK) {
      this.free.push(slot);
      if (result === SubmitResult.QUEUE_FULL) {
        this.waiting.push(() => this.submit(io, lbaSize, iova, bytes));
        this.schedule();
        return;
      }
      io.reject(new ServeRequestError('PHYR_SERVE_SUBMIT', `${opcodeName(false, io.opcode)} at LBA ${io.lba}: the queue pair refused it (submit result ${result})`));
      return;
    }
    this.inflight[slot] = io;
    this.schedule();
  }

  private schedule(): void {
    if (this.polling) return;
    this.polling = true;
    setImmediate(() => this.poll());
  }

  private poll(): void {
    this.polling = false;
    if (this.qp.isClosed) return;
    const n = this.qp.reap();
    const c = this.qp.completions;
    for (let i = 0; i < n; i++) {
      const tag = c[i * CPL_WORDS + CPL.TAG];
      const status = c[i * CPL_WORDS + CPL.STATUS_FLAGS] & CPL_STATUS_MASK;
      const io = this.inflight[tag];
      this.inflight[tag] = undefined;
      this.free.push(tag);
      if (!io) continue;
      if (status === 0) io.resolve();
      else io.reject(new NvmeStatusError(status, { admin: false, opcode: io.opcode, name: opcodeName(false, io.opcode), nsid: io.nsid }));
    }
    while (this.free.length > 0 && this.waiting.length > 0) (this.waiting.shift() as () => void)();
    if (this.inflight.some((x) => x !== undefined) || this.waiting.length > 0) this.schedule();
  }

  /** Rejects everything in flight (the queue pair is going away). */
  abort(e: Error): void {
    for (let s = 0; s < this.inflight.length; s++) {
      const io = this.inflight[s];
      this.inflight[s] = undefined;
      io?.reject(e);
    }
    this.waiting.length = 0;
  }
}

/** A namespace of the served controller: read, write and flush with promises. */
export class ServedNamespace {
  constructor(
    private readonly ctrl: ServedController,
    readonly nsid: number,
    /** Bytes per LBA. */
    readonly lbaSize: number,
    /** Capacity in LBAs. */
    readonly blocks: number,
  ) {}

  /** Identify Namespace through the daemon. */
  async identify(): Promise<IdentifyNamespace> {
    return parseIdentifyNamespace(await this.ctrl.identify(NVME.CNS_NAMESPACE, this.nsid));
  }

  /** Reads into `buf` (pool memory, or any Uint8Array: copied through pool memory) from `lba`. */
  read(lba: number, buf: DmaBuffer | Uint8Array): Promise<void> {
    return this.ctrl.io(NVME.IO_READ, this, lba, buf);
  }

  /** Writes `buf` at `lba`. */
  write(lba: number, buf: DmaBuffer | Uint8Array): Promise<void> {
    return this.ctrl.io(NVME.IO_WRITE, this, lba, buf);
  }

  /** Flush (NVMe 1.4 §6.8): data written before it is durable when it resolves. */
  flush(): Promise<void> {
    return this.ctrl.io(NVME.IO_FLUSH, this, 0, undefined);
  }
}

function isDmaBuffer(b: unknown): b is DmaBuffer {
  return typeof b === 'object' && b !== null && typeof (b as DmaBuffer).iova === 'number' && (b as DmaBuffer).bytes instanceof Uint8Array;
}

/** A controller served by `phyr serve`, as one client sees it. */
export class ServedController {
  /** This client's DMA memory (shared with the daemon, mapped in its window). */
  readonly pool: DmaPool;
  private readonly nsMap = new Map<number, ServedNamespace>();
  private readonly queuePairs = new Set<QueuePair>();
  private engine: Promise<PromiseEngine> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly control: ControlChannel,
    /** What the daemon said at attach. */
    readonly info: AttachInfo,
    /** The doorbells: BAR0 (embedded controller) or BAR0's doorbell page (VFIO); see info.doorbells. */
    private readonly doorbells: ArrayBuffer,
    private readonly options: ConnectOptions,
  ) {
    const bar0 = info.doorbells.via === 'memfd' ? doorbells : undefined;
    this.pool = new DmaPool(new ServedFunction(`serve:${socketPath}`, info.kind, control, bar0, info.barSize, info.iova), { shared: true, hugepages: options.hugepages ?? 'auto' });
    for (const n of info.namespaces) this.nsMap.set(n.nsid, new ServedNamespace(this, n.nsid, n.lbaSize, n.blocks));
    // Without the daemon no command completes (its controller is gone): what is in flight
    // on the namespace API fails with the reason instead of waiting for ever.
    control.onFailure = (e) => void this.engine?.then((engine) => engine.abort(e), () => undefined);
  }

  /** Attaches to the daemon listening at `socketPath`. */
  static async connect(socketPath: string, options: ConnectOptions = {}): Promise<ServedController> {
    checkConnectArguments(socketPath, options);
    const control = new ControlChannel(connectServeSocket(socketPath), options.requestTimeoutMs ?? 10_000);
    let reply: Reply;
    try {
      reply = await control.request({ type: 'attach', version: SERVE_PROTOCOL_VERSION });
    } catch (e) {
      control.close();
      throw e;
    }
    const fds = control.lastFds;
    const via = reply.type === 'attached' ? reply.info?.doorbells?.via : undefined;
    if (reply.type !== 'attached' || fds.length !== 1 || (via !== 'memfd' && via !== 'vfio')) {
      for (const f of fds) closeChannelFd(f);
      control.close();
      throw new ServeProtocolError(`attach: the daemon answered ${reply.type} with ${fds.length} descriptors, expected attached with the doorbells' descriptor and how to map it (memfd or vfio)`);
    }
    const { doorbells } = reply.info;
    let mapped: ArrayBuffer;
    try {
      // The descriptor is closed right after mapping either way: over VFIO the client keeps
      // no device fd (which could reset the device or write its config space), only the page.
      mapped = via === 'memfd' ? mapSharedMemory(fds[0], doorbells.length) : mapSharedRegion(fds[0], doorbells);
    } catch (e) {
      control.close();
      throw e;
    } finally {
      closeChannelFd(fds[0]);
    }
    return new ServedController(socketPath, control, reply.info, mapped, options);
  }

  /** Active namespaces. */
  namespaces(): ServedNamespace[] {
    return [...this.nsMap.values()];
  }

  /** Namespace `nsid` (a ServeRequestError when the controller has none by that id). */
  namespace(nsid: number): ServedNamespace {
    // NSID is a 32-bit field (NVMe 1.4 §3.2); 0 and FFFFFFFFh are never a namespace's.
    checkInteger('namespace: nsid', nsid, 1, 0xfffffffe);
    const ns = this.nsMap.get(nsid);
    if (!ns) throw new ServeRequestError('PHYR_UNKNOWN_NAMESPACE', `namespace ${nsid} is not active on the served controller (active: ${[...this.nsMap.keys()].join(', ') || 'none'})`);
    return ns;
  }

  /** The namespaces as the daemon described them. */
  get namespaceInfo(): ServedNamespaceInfo[] {
    return this.info.namespaces.map((n) => ({ ...n }));
  }

  /** An Identify structure (CNS namespace or controller) through the daemon. */
  async identify(cns: number, nsid = 0): Promise<Uint8Array> {
    checkInteger('identify: cns', cns, 0, 0xff);
    checkInteger('identify: nsid', nsid, 0, 0xffffffff);
    const r = await this.control.request({ type: 'identify', cns, nsid });
    if (r.type !== 'identify') throw new ServeProtocolError(`identify: the daemon answered ${r.type}`);
    return new Uint8Array(Buffer.from(r.data, 'base64'));
  }

  /** The daemon's counters. */
  async status(): Promise<ServeStatus> {
    const r = await this.control.request({ type: 'status' });
    if (r.type !== 'status') throw new ServeProtocolError(`status: the daemon answered ${r.type}`);
    return r.status;
  }

  /**
   * A new IO queue pair of this client (the batch API of drivers/nvme's QueuePair): rings
   * and list pages in this client's pool, created by the daemon; polled.
   */
  async createQueuePair(options: { size?: number } = {}): Promise<QueuePair> {
    const o = checkOptions('createQueuePair options', options, ['size']);
    if (o.size !== undefined) checkInteger('createQueuePair options: size', o.size, 2, this.info.maxQueueEntries);
    if (this.closing) throw new ServeClosedError('the client is closed');
    const size = options.size ?? Math.min(256, this.info.maxQueueEntries);
    if (!Number.isInteger(size) || size < 2 || size > this.info.maxQueueEntries) {
      throw new ServeRequestError('PHYR_SERVE_BAD_QUEUE', `queue size ${size} is outside 2..${this.info.maxQueueEntries} (CAP.MQES + 1)`);
    }
    const { pageSize } = this.info.caps;
    const trackers = Math.min(size - 1, size - Math.floor(size / 4));
    const sq = this.pool.alloc(size * NVME.SQE_SIZE, { align: pageSize, internal: true });
    const cq = this.pool.alloc(size * NVME.CQE_SIZE, { align: pageSize, internal: true });
    const lists = this.pool.alloc(trackers * pageSize, { align: pageSize, internal: true });
    const freeAll = () => [sq, cq, lists].forEach((b) => b.free());
    let qid: number;
    try {
      const r = await this.control.request({ type: 'createQueuePair', size, sqIova: sq.iova, cqIova: cq.iova });
      if (r.type !== 'queuePair') throw new ServeProtocolError(`createQueuePair: the daemon answered ${r.type}`);
      qid = r.qid;
    } catch (e) {
      freeAll();
      throw e;
    }
    const region = (b: DmaBuffer) => ({ buffer: b.bytes.buffer as ArrayBuffer, offset: b.bytes.byteOffset, iova: b.iova });
    const qp = new QueuePair({
      id: qid,
      size,
      bar: this.doorbells,
      doorbellBase: this.info.doorbells.base,
      doorbellStride: this.info.doorbellStride,
      sq: region(sq),
      cq: region(cq),
      lists: { ...region(lists), pages: trackers },
      caps: this.info.caps,
    });
    this.queuePairs.add(qp);
    qp.onClose = async () => {
      this.queuePairs.delete(qp);
      if (!this.control.failure) await this.control.request({ type: 'deleteQueuePair', qid }).catch(() => undefined);
      freeAll();
    };
    return qp;
  }

  /** @internal The namespace API's IO. */
  async io(opcode: number, ns: ServedNamespace, lba: number, buf: DmaBuffer | Uint8Array | undefined): Promise<void> {
    if (this.closing) throw new ServeClosedError('the client is closed');
    if (this.control.failure) throw this.control.failure;
    let bytes = 0;
    let iova = 0;
    let bounce: InFlight['bounce'];
    if (buf !== undefined) {
      if (!isDmaBuffer(buf) && !(buf instanceof Uint8Array)) {
        const shown = typeof buf === 'string' ? `'${buf}'` : buf === null ? 'null' : typeof buf;
        throw new ServeRequestError('PHYR_INVALID_IO', `${opcodeName(false, opcode)}: the buffer must be a Uint8Array/Buffer or a DmaBuffer of this client's pool (ctrl.pool.alloc()), not ${shown}`);
      }
      bytes = isDmaBuffer(buf) ? buf.size : buf.byteLength;
      if (!Number.isSafeInteger(lba) || lba < 0 || bytes === 0 || bytes % ns.lbaSize !== 0 || lba + bytes / ns.lbaSize > ns.blocks) {
        throw new ServeRequestError('PHYR_INVALID_IO', `${opcodeName(false, opcode)}: LBA ${lba} + ${bytes} bytes must be whole ${ns.lbaSize}-byte blocks inside the namespace's ${ns.blocks} blocks`);
      }
      if (isDmaBuffer(buf)) iova = buf.iova;
      else {
        // Not pool memory: through a pool buffer (one copy), since only pool memory is mapped.
        const b = this.pool.alloc(bytes);
        if (opcode === NVME.IO_WRITE) b.bytes.set(buf);
        bounce = { buf: b, into: opcode === NVME.IO_READ ? buf : undefined };
        iova = b.iova;
      }
    }
    const engine = await (this.engine ??= this.createQueuePair({ size: this.options.ioQueueSize ?? Math.min(128, this.info.maxQueueEntries) }).then((qp) => new PromiseEngine(qp)));
    try {
      await new Promise<void>((resolve, reject) => {
        engine.submit({ resolve, reject, opcode, nsid: ns.nsid, lba, blocks: bytes / ns.lbaSize, bounce }, ns.lbaSize, iova, bytes);
      });
      if (bounce?.into) bounce.into.set(bounce.buf.bytes);
    } finally {
      bounce?.buf.free();
    }
  }

  /** Deletes this client's queue pairs, frees its memory and detaches. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const engine = await this.engine?.catch(() => undefined);
      engine?.abort(new ServeClosedError('the client closed'));
      for (const qp of [...this.queuePairs]) await qp.close();
      if (!this.control.failure) {
        try {
          this.pool.close();
        } catch {
          // the daemon went away meanwhile: its mappings went with it
        }
      }
      this.control.close();
      // Over VFIO the doorbell page keeps the daemon's device open (the kernel holds the
      // device file for the mapping): unmap it, now that no queue pair rings it.
      if (this.info.doorbells.via === 'vfio') {
        try {
          vfioNative().unmapBuffer(this.doorbells);
        } catch {
          // an application's batch queue pair still holds it: unmapped when collected
        }
      }
    })();
    return this.closing;
  }
}

/** Attaches to a running `phyr serve` at `socketPath` (see ServedController). */
export function connect(socketPath: string, options: ConnectOptions = {}): Promise<ServedController> {
  return ServedController.connect(socketPath, options);
}
