// The phyr serve daemon: owns one controller — the embedded one or a PCI device through
// VFIO — brought up by the driver as open() does, and serves clients over a Unix socket
// (docs/SERVE.md). A client gets its doorbells (the embedded controller's BAR0 memfd, or
// the VFIO device fd with the offset of BAR0's doorbell page) and a device-address window
// of its own; it hands the daemon its DMA memory (memfds), which the daemon maps into the
// controller's IOMMU inside that window (VFIO_IOMMU_MAP_DMA on VFIO); the daemon creates IO
// queue pairs whose rings lie in that memory on its admin queue. IO itself never passes
// through here. When a client's socket closes (exit, crash,
// kill -9) its queues are deleted (Delete SQ then CQ, NVMe 1.4 §5.6, §5.7 — the controller
// completes or aborts what was in flight) and its mappings removed; both are counted.
import * as fs from 'fs';
import { acceptConnection, closeChannelFd, listenSocket, mapSharedMemory, peerOf, watchSocket, type ChannelMessage, type ChannelWatch } from '../lib/channel';
import { PhyrError } from '../lib/errors';
import { RangeAllocator } from '../lib/dma/iova';
import type { EmuFunction } from '../emu';
import { adminSqe, Controller, getFeaturesSqe, identifySqe, NVME } from '../drivers/nvme';
import type { DmaBuffer } from '../lib/dma';
import type { PciFunction } from '../lib/pci/function';
import { VfioFunction } from '../lib/vfio';
import { openPciFunction, targetKind } from '../targets';
import { checkServeOptions } from './arguments';
import { Connection } from './connection';
import { encode, parseRequest, SERVE_PROTOCOL_VERSION, ServeProtocolError, type AttachInfo, type DoorbellAccess, type Reply, type Request, type ServeClientStatus, type ServeStatus } from './protocol';

/** The target cannot be served (not a controller, or an embedded one with shared=off). */
export class ServeTargetError extends PhyrError {
  constructor(message: string) {
    super('PHYR_SERVE_TARGET', message);
  }
}

/** Options of a daemon. */
export interface ServeOptions {
  /** Socket path; must not exist. */
  socket: string;
  /** Group that may connect: the socket becomes 0660 and owned by it. Default: 0600, owner only. */
  group?: number;
  /** One line per client attach/detach and at start and stop (default: none). */
  log?: (line: string) => void;
}

// Client windows on the embedded controller: 64 GiB each, from 2^47 up, far above the
// daemon's own pool (which grows from the bottom of the IOMMU's range and holds a few MiB).
const WINDOW_BYTES = 2 ** 36;
const WINDOWS_START = 2 ** 47;
const WINDOWS_END = 2 ** 48 - 1;
// On VFIO the container's IOVA space is what the host IOMMU offers (39 bits is common), so
// a window is 4 GiB, taken from the container's free space beside the driver's own.
const VFIO_WINDOW_BYTES = 2 ** 32;
const WINDOW_ALIGN = 2 ** 21;
const PAGE = 4096;
/** How long SIGTERM waits for told clients to hang up before their queues are deleted. */
const SHUTDOWN_GRACE_MS = 2000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// NVMe 1.4 §5.3/§5.4 CDW11: PC (physically contiguous) is bit 0; CQID / IV start at bit 16.
const PC = 1;
const CDW11_ID_SHIFT = 16;

interface ClientQueue {
  qid: number;
}
interface ClientMapping {
  length: number;
  memory: ArrayBuffer;
}

class Client {
  readonly queues = new Map<number, ClientQueue>();
  readonly mappings = new Map<number, ClientMapping>();
  attached = false;
  constructor(
    readonly id: number,
    readonly conn: Connection,
    readonly pid: number,
    readonly window: { start: number; end: number },
  ) {}
}

/** Where clients' device-address windows come from: tryAlloc returns a start, or -1. */
interface WindowSource {
  readonly size: number;
  tryAlloc(): number;
  release(start: number): void;
}

function windowSource(fn: PciFunction): WindowSource {
  if (fn instanceof VfioFunction) {
    const container = fn.container;
    return {
      size: VFIO_WINDOW_BYTES,
      tryAlloc: () => {
        try {
          return container.allocIova(VFIO_WINDOW_BYTES, WINDOW_ALIGN);
        } catch {
          return -1; // the container's IOVA space is used up (PHYR_VFIO_IOVA_EXHAUSTED)
        }
      },
      release: (start) => container.freeIova(start, VFIO_WINDOW_BYTES),
    };
  }
  const ranges = new RangeAllocator([{ start: WINDOWS_START, end: WINDOWS_END }]);
  return { size: WINDOW_BYTES, tryAlloc: () => ranges.tryAlloc(WINDOW_BYTES, WINDOW_BYTES), release: (start) => ranges.release(start) };
}

/** A running daemon. */
export class ServeDaemon {
  private readonly clients = new Map<number, Client>();
  private readonly windows: WindowSource;
  private readonly freeQids: number[] = [];
  private listenFd = -1;
  private acceptWatch: ChannelWatch | undefined;
  private nextClientId = 1;
  private stopping: Promise<void> | undefined;
  private readonly counts = { attached: 0, detached: 0, releasedQueuePairs: 0, releasedMappings: 0, badMessages: 0 };
  /** Work in flight per client (attach, queue creation), awaited before its release. */
  private readonly busy = new Map<Client, Promise<unknown>>();
  private identifyBuf: DmaBuffer | undefined;
  /** What every client maps to ring its doorbells, and the descriptor sent with it. */
  private doorbells: { fd: number; access: DoorbellAccess } | undefined;

  private constructor(
    readonly target: string,
    readonly fn: PciFunction,
    readonly ctrl: Controller,
    private readonly options: ServeOptions,
  ) {
    this.windows = windowSource(fn);
  }

  /** Brings up the controller of `target` (emu or a PCI address) and listens at options.socket. */
  static async start(target: string, options: ServeOptions): Promise<ServeDaemon> {
    checkServeOptions(target, options);
    const fn = openPciFunction(sharedTarget(target));
    let ctrl: Controller;
    try {
      // No shadow doorbells (Doorbell Buffer Config, NVMe 2.0 §5.8): the shadow buffer is
      // the daemon's memory, and a controller that uses it reads every IO queue's tail
      // from there — a client's MMIO doorbell writes would be overridden by a value it
      // cannot write (QEMU's NVMe then never sees the client's commands).
      ctrl = await Controller.open(fn, { shadowDoorbells: false }, true);
    } catch (e) {
      fn.close();
      throw e;
    }
    const d = new ServeDaemon(target, fn, ctrl, options);
    try {
      await d.init();
    } catch (e) {
      await ctrl.close();
      throw e;
    }
    return d;
  }

  private async init(): Promise<void> {
    // Number of Queues (§5.21.1.7): what the controller granted, 0's based. The driver's
    // own IO queue takes the lowest ids; clients get the rest, from the top down.
    const dw0 = await this.ctrl.adminCommand(getFeaturesSqe(NVME.FEAT_NUMBER_OF_QUEUES, 0, 0));
    const granted = Math.min((dw0 & 0xffff) + 1, (dw0 >>> CDW11_ID_SHIFT) + 1);
    for (let q = granted; q >= 2; q--) this.freeQids.push(q);
    this.doorbells = this.shareDoorbells(granted);
    this.identifyBuf = this.ctrl.pool.alloc(NVME.IDENTIFY_DATA_SIZE);
    const mode = this.options.group === undefined ? 0o600 : 0o660;
    this.listenFd = listenSocket(this.options.socket, mode);
    if (this.options.group !== undefined) fs.chownSync(this.options.socket, process.getuid?.() ?? -1, this.options.group);
    this.acceptWatch = watchSocket(this.listenFd, () => this.acceptAll());
    this.log(`phyr serve: ${this.target} on ${this.options.socket} (mode ${mode.toString(8)}, ${this.freeQids.length} queue pairs for clients, doorbells by ${this.doorbells.access.via})`);
  }

  // The embedded controller's BAR0 is a memfd: clients map all of it. Over VFIO a client
  // gets the device fd and the offset of the doorbell pages only (NVMe 1.4 §3.1.24: the
  // doorbells of queue ids 0..maxQid from 1000h on, 4 << CAP.DSTRD bytes apart), so the
  // library path never maps the registers (CC, AQA, the admin queue's addresses).
  private shareDoorbells(maxQid: number): { fd: number; access: DoorbellAccess } {
    if (this.fn instanceof VfioFunction) {
      const span = 2 * (maxQid + 1) * (4 << this.ctrl.cap.dstrd);
      const length = Math.ceil(span / PAGE) * PAGE;
      const share = this.fn.shareBar(0, NVME.REG_DOORBELLS, length);
      return { fd: share.fd, access: { via: 'vfio', offset: share.offset, length, base: 0 } };
    }
    const emu = this.fn as EmuFunction;
    return { fd: emu.barFd(0), access: { via: 'memfd', offset: 0, length: emu.barSize(0), base: NVME.REG_DOORBELLS } };
  }

  /** Counters (also the `status` request's answer). */
  status(): ServeStatus {
    let queuePairs = 0;
    let mappings = 0;
    const perClient: ServeClientStatus[] = [];
    for (const c of this.clients.values()) {
      queuePairs += c.queues.size;
      mappings += c.mappings.size;
      perClient.push({ clientId: c.id, pid: c.pid, attached: c.attached, queuePairs: c.queues.size, mappings: c.mappings.size });
    }
    const emu = this.fn as Partial<EmuFunction>;
    const iommuMappings = typeof emu.mappingCount === 'function' && !(this.fn instanceof VfioFunction) ? emu.mappingCount() : mappings;
    return { clients: this.clients.size, ...this.counts, queuePairs, mappings, iommuMappings, freeQueuePairs: this.freeQids.length, perClient };
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private acceptAll(): void {
    for (;;) {
      const fd = acceptConnection(this.listenFd);
      if (fd === null) return;
      const window = this.windows.tryAlloc();
      let pid = 0;
      try {
        pid = peerOf(fd).pid;
      } catch {
        // the peer is already gone: the connection's hang-up cleans up
      }
      if (window < 0) {
        closeChannelFd(fd);
        this.log(`phyr serve: refused a client (pid ${pid}): no device-address window left`);
        continue;
      }
      const id = this.nextClientId++;
      let client: Client | undefined = undefined;
      const conn = new Connection(
        fd,
        (m) => this.onMessage(client as Client, m),
        () => void this.release(client as Client, 'disconnected'),
        0,
      );
      client = new Client(id, conn, pid, { start: window, end: window + this.windows.size - 1 });
      this.clients.set(id, client);
    }
  }

  private reply(c: Client, r: Reply, fds: number[] = []): void {
    if (c.conn.isClosed) return;
    try {
      c.conn.send(encode(r), fds);
    } catch {
      void this.release(c, 'stopped reading');
    }
  }

  private onMessage(c: Client, m: ChannelMessage): void {
    let req: Request;
    try {
      req = parseRequest(m.data, m.fds.length);
    } catch (e) {
      for (const f of m.fds) closeChannelFd(f);
      this.counts.badMessages++;
      const id = idOf(m.data);
      this.reply(c, { type: 'error', id, code: (e as PhyrError).code ?? 'PHYR_SERVE_BAD_MESSAGE', message: (e as Error).message });
      return;
    }
    const work = this.handle(c, req, m.fds).catch((e: Error) => {
      this.reply(c, { type: 'error', id: req.id, code: (e as PhyrError).code ?? 'PHYR_SERVE_FAILED', message: e.message });
    });
    const prev = this.busy.get(c) ?? Promise.resolve();
    this.busy.set(c, prev.then(() => work));
  }

  private async handle(c: Client, req: Request, fds: number[]): Promise<void> {
    if (req.type !== 'attach' && req.type !== 'status' && !c.attached) {
      for (const f of fds) closeChannelFd(f);
      throw new ServeProtocolError(`${req.type}: attach first`);
    }
    switch (req.type) {
      case 'attach':
        return this.attach(c, req);
      case 'map':
        return this.map(c, req, fds[0]);
      case 'unmap':
        this.unmap(c, req.iova, req.length);
        return this.reply(c, { type: 'ok', id: req.id });
      case 'createQueuePair':
        return this.createQueuePair(c, req);
      case 'deleteQueuePair':
        await this.deleteQueuePair(c, req.qid);
        return this.reply(c, { type: 'ok', id: req.id });
      case 'identify':
        return this.identify(c, req);
      case 'status':
        return this.reply(c, { type: 'status', id: req.id, status: this.status() });
    }
  }

  private attach(c: Client, req: Extract<Request, { type: 'attach' }>): void {
    if (req.version !== SERVE_PROTOCOL_VERSION) {
      throw new ServeProtocolError(`attach: protocol version ${req.version} is not this daemon's (${SERVE_PROTOCOL_VERSION}); use a client of the same phyr version`);
    }
    if (c.attached) throw new ServeProtocolError('attach: this connection is already attached');
    const caps = this.ctrl.queueCaps;
    const doorbells = this.doorbells as { fd: number; access: DoorbellAccess };
    const info: AttachInfo = {
      clientId: c.id,
      kind: this.fn.kind,
      barSize: this.fn.barSize(0),
      doorbells: doorbells.access,
      doorbellStride: this.ctrl.cap.dstrd,
      maxQueueEntries: this.ctrl.cap.maxQueueEntries,
      iova: c.window,
      caps: { pageSize: caps.pageSize, sglSupport: caps.sglSupport, bitBucket: caps.bitBucket, maxTransfer: caps.maxTransfer },
      namespaces: this.ctrl.namespaces().map((n) => ({ nsid: n.nsid, lbaSize: n.lbaSize, blocks: n.blocks })),
    };
    c.attached = true;
    this.counts.attached++;
    this.log(`phyr serve: client ${c.id} attached (pid ${c.pid}, window 0x${c.window.start.toString(16)})`);
    this.reply(c, { type: 'attached', id: req.id, info }, [doorbells.fd]);
  }

  private inWindow(c: Client, iova: number, length: number): boolean {
    return length > 0 && iova >= c.window.start && iova + length - 1 <= c.window.end;
  }

  private map(c: Client, req: Extract<Request, { type: 'map' }>, fd: number): void {
    try {
      if (!this.inWindow(c, req.iova, req.length) || req.iova % PAGE !== 0 || req.length % PAGE !== 0) {
        throw new PhyrError('PHYR_SERVE_BAD_RANGE', `map: [0x${req.iova.toString(16)}, +${req.length}) is not page-aligned inside this client's window 0x${c.window.start.toString(16)}..0x${c.window.end.toString(16)}`);
      }
      const memory = mapSharedMemory(fd, req.length);
      this.fn.dmaMap(memory, 0, req.length, req.iova, { read: true, write: true });
      c.mappings.set(req.iova, { length: req.length, memory });
    } finally {
      closeChannelFd(fd);
    }
    this.reply(c, { type: 'ok', id: req.id });
  }

  private unmap(c: Client, iova: number, length: number): void {
    const m = c.mappings.get(iova);
    if (!m || m.length !== length) throw new PhyrError('PHYR_SERVE_BAD_RANGE', `unmap: this client has no mapping at 0x${iova.toString(16)} of ${length} bytes`);
    this.fn.dmaUnmap(iova, m.length);
    c.mappings.delete(iova);
  }

  // [iova, iova + length) inside one of this client's mappings: a queue's rings must be the
  // client's own memory, never a peer's or the daemon's (the device would write CQEs there).
  private ownsRange(c: Client, iova: number, length: number): boolean {
    for (const [at, m] of c.mappings) if (iova >= at && iova + length <= at + m.length) return true;
    return false;
  }

  private async createQueuePair(c: Client, req: Extract<Request, { type: 'createQueuePair' }>): Promise<void> {
    const { size, sqIova, cqIova } = req;
    if (size < 2 || size > this.ctrl.cap.maxQueueEntries) {
      throw new PhyrError('PHYR_SERVE_BAD_QUEUE', `createQueuePair: size ${size} is outside 2..${this.ctrl.cap.maxQueueEntries} (CAP.MQES + 1)`);
    }
    for (const [what, iova, bytes] of [['SQ', sqIova, size * NVME.SQE_SIZE], ['CQ', cqIova, size * NVME.CQE_SIZE]] as const) {
      if (iova % this.ctrl.pageSize !== 0 || !this.ownsRange(c, iova, bytes)) {
        throw new PhyrError('PHYR_SERVE_BAD_RANGE', `createQueuePair: the ${what} at 0x${iova.toString(16)} (${bytes} bytes) is not page-aligned memory this client mapped`);
      }
    }
    const qid = this.freeQids.pop();
    if (qid === undefined) throw new PhyrError('PHYR_NO_QUEUES', 'createQueuePair: every IO queue pair of the controller is in use; close one first');
    const sizeField = ((size - 1) << CDW11_ID_SHIFT) >>> 0;
    try {
      // Create I/O Completion Queue (§5.3), polled (no interrupt: IEN clear), then the SQ (§5.4).
      await this.ctrl.adminCommand(adminSqe(NVME.ADMIN_CREATE_CQ, { cdw10: (qid | sizeField) >>> 0, cdw11: PC }), { iova: cqIova, size: size * NVME.CQE_SIZE });
      try {
        await this.ctrl.adminCommand(adminSqe(NVME.ADMIN_CREATE_SQ, { cdw10: (qid | sizeField) >>> 0, cdw11: (PC | (qid << CDW11_ID_SHIFT)) >>> 0 }), { iova: sqIova, size: size * NVME.SQE_SIZE });
      } catch (e) {
        await this.ctrl.adminCommand(adminSqe(NVME.ADMIN_DELETE_CQ, { cdw10: qid })).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      this.freeQids.push(qid);
      throw e;
    }
    if (c.conn.isClosed) {
      // The client died while its queues were being made: the release already ran.
      await this.deleteQueues(qid);
      this.counts.releasedQueuePairs++;
      return;
    }
    c.queues.set(qid, { qid });
    this.reply(c, { type: 'queuePair', id: req.id, qid });
  }

  private async deleteQueues(qid: number): Promise<void> {
    // Delete I/O Submission Queue first (§5.7: its commands are completed or aborted), then
    // its Completion Queue (§5.6; deleting a CQ with an SQ still on it is refused).
    await this.ctrl.adminCommand(adminSqe(NVME.ADMIN_DELETE_SQ, { cdw10: qid })).catch(() => undefined);
    await this.ctrl.adminCommand(adminSqe(NVME.ADMIN_DELETE_CQ, { cdw10: qid })).catch(() => undefined);
    this.freeQids.push(qid);
  }

  private async deleteQueuePair(c: Client, qid: number): Promise<void> {
    if (!c.queues.delete(qid)) throw new PhyrError('PHYR_SERVE_BAD_QUEUE', `deleteQueuePair: queue pair ${qid} is not this client's`);
    await this.deleteQueues(qid);
  }

  private async identify(c: Client, req: Extract<Request, { type: 'identify' }>): Promise<void> {
    // Only the read-only Identify structures are shared: namespace and controller data.
    if (req.cns !== NVME.CNS_NAMESPACE && req.cns !== NVME.CNS_CONTROLLER) {
      throw new PhyrError('PHYR_SERVE_REFUSED', `identify: CNS ${req.cns} is not served (only the namespace and controller structures)`);
    }
    const buf = this.identifyBuf as DmaBuffer;
    await this.ctrl.adminCommand(identifySqe(req.cns, req.nsid), buf, NVME.IDENTIFY_DATA_SIZE);
    this.reply(c, { type: 'identify', id: req.id, data: Buffer.from(buf.bytes).toString('base64') });
  }

  // The client is gone (or being sent away): its queues are deleted and its memory
  // unmapped, after whatever the daemon was doing for it has finished.
  private async release(c: Client, why: string): Promise<void> {
    if (!this.clients.delete(c.id)) return;
    c.conn.close();
    await (this.busy.get(c) ?? Promise.resolve()).catch(() => undefined);
    this.busy.delete(c);
    const queues = c.queues.size;
    for (const qid of [...c.queues.keys()]) {
      c.queues.delete(qid);
      if (this.ctrl.status === 'live') await this.deleteQueues(qid);
      this.counts.releasedQueuePairs++;
    }
    const mappings = c.mappings.size;
    for (const [iova, m] of c.mappings) {
      try {
        this.fn.dmaUnmap(iova, m.length);
      } catch {
        // the function is already closed (shutdown)
      }
      this.counts.releasedMappings++;
    }
    c.mappings.clear();
    this.windows.release(c.window.start);
    if (c.attached) this.counts.detached++;
    this.log(`phyr serve: client ${c.id} detached (pid ${c.pid}, ${why}): released ${queues} queue pairs, ${mappings} mappings`);
  }

  /** Tells every client, releases them, closes the socket and the controller. Idempotent. */
  stop(reason = 'the daemon is shutting down'): Promise<void> {
    this.stopping ??= (async () => {
      this.acceptWatch?.close();
      if (this.listenFd >= 0) closeChannelFd(this.listenFd);
      try {
        fs.unlinkSync(this.options.socket);
      } catch {
        // already gone
      }
      const all = [...this.clients.values()];
      for (const c of all) this.reply(c, { type: 'shutdown', id: 0, reason });
      // A client closes its socket when told; over VFIO it should also drop its doorbell
      // mapping (close()), which holds the device open. Give them a moment, bounded, so a
      // hung client cannot hold the shutdown up.
      for (let waited = 0; waited < SHUTDOWN_GRACE_MS && all.some((c) => this.clients.has(c.id)); waited += 20) await sleep(20);
      await Promise.all(all.map((c) => this.release(c, 'daemon shutdown')));
      this.identifyBuf?.free();
      await this.ctrl.close();
      this.log(`phyr serve: stopped (${reason})`);
    })();
    return this.stopping;
  }
}

// The id of a message that failed to parse, when it has one (so the client's request
// settles), else 0.
function idOf(data: Uint8Array): number {
  try {
    const o = JSON.parse(Buffer.from(data).toString('utf8')) as { id?: unknown };
    return typeof o?.id === 'number' && Number.isSafeInteger(o.id) && o.id > 0 ? o.id : 0;
  } catch {
    return 0;
  }
}

/**
 * The target string as the daemon opens it: a PCI address as given (a VFIO device), an
 * embedded controller with shared=on (BAR0 in a memfd clients can map).
 */
export function sharedTarget(target: string): string {
  const kind = targetKind(target);
  if (kind === 'vfio') return target;
  if (kind !== 'emu') {
    throw new ServeTargetError(`phyr serve serves a controller: 'emu[:key=value,...]' or the PCI address of a device bound to vfio-pci; '${target}' is not a controller`);
  }
  if (/(^|[:,])shared=off(,|$)/.test(target)) throw new ServeTargetError(`'${target}': phyr serve needs shared=on (clients map BAR0); drop shared=off`);
  if (/(^|[:,])shared=on(,|$)/.test(target)) return target;
  return target === 'emu' ? 'emu:shared=on' : `${target},shared=on`;
}
