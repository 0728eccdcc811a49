// One NVMe/TCP connection: one queue of one fabric controller (NVMe/TCP §3.1). It answers
// the ICReq, takes the Connect that says which queue it is, then runs command capsules:
// host data arrives in the capsule or after an R2T in H2CData PDUs, controller data leaves
// in C2HData PDUs, and each command ends with a response capsule (NVMe/TCP §3.3, §3.4).
// Any rule of the transport the host breaks ends the connection with a C2HTermReq.
import type { Socket } from 'net';
import { NVME } from '../spec/nvme';
import { NVMF, NVME_TCP } from '../spec/nvmf';
import { SUCCESS, commandSequenceError, completion, dataDirection, dword, invalidField, invalidOpcode, parseCommand, type FabricCommand, type FabricStatus } from './capsule';
import { FABRIC_LIMITS, type CommandResult, type FabricController } from './fabric-controller';
import { QueueBuffers } from './queue-buffers';
import type { DmaBuffer } from '../lib/dma';
import { FabricTcpError, HostPduReader, copyData, c2hData, c2hTermReq, capsuleResp, icResp, r2t, type HostPdu, type TcpConnectionParams } from './tcp-pdu';

const T = NVME_TCP;

/** What a Connect asks for (NVMe-oF §3.3). */
export interface ConnectRequest {
  qid: number;
  sqsize: number;
  kato: number;
  hostid: Buffer;
  cntlid: number;
  subnqn: string;
  hostnqn: string;
}

/** The target's answer to a Connect: the controller the queue belongs to, or a status (with
 *  the Invalid Parameters offset in dw0). */
export type ConnectAnswer = { controller: FabricController } | { status: FabricStatus; dw0?: number };

/** What the queue needs of its target. */
export interface QueueHost {
  connect(req: ConnectRequest, queue: TcpQueue): ConnectAnswer;
  /** Called once when the connection is gone. */
  closed(queue: TcpQueue, why: string): void;
}

/** The largest H2CData PDU this target takes (MAXH2CDATA), and the in-capsule data limit
 *  of the admin queue, which hosts fix at 8 KiB (and IO queues read from IOCCSZ). */
const MAX_H2C_DATA = 128 * 1024;
const IN_CAPSULE_DATA = 8192;
/** The largest transfer a command may ask for: MDTS (Identify), in 4 KiB pages. */
const MAX_TRANSFER = 4096 * 2 ** FABRIC_LIMITS.mdts;
/** C2HData PDUs carry at most this much (a read of more is split). */
const MAX_C2H_DATA = 128 * 1024;
/** Bytes queued on the socket and not yet sent above which the queue stops reading the
 *  host's commands (the host's reads would otherwise pile up in memory). */
export const MAX_UNSENT = 4 * 1024 * 1024;

const transientTransportError: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_TRANSIENT_TRANSPORT_ERROR, retry: true };
const sglLengthInvalid: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_DATA_SGL_LENGTH_INVALID };
const sglTypeInvalid: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_SGL_DESCRIPTOR_TYPE_INVALID };

const nqnAt = (b: Buffer, at: number): string => {
  const raw = b.subarray(at, at + NVMF.NQN_SIZE);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
};

interface PendingWrite {
  cmd: FabricCommand;
  buf: Uint8Array;
  dma: DmaBuffer | undefined;
  received: number;
}

const viewOf = (b: DmaBuffer): Buffer => Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.size);

export class TcpQueue {
  private readonly reader = new HostPduReader();
  private params: TcpConnectionParams | undefined;
  private controller: FabricController | undefined;
  /** Queue ID from the Connect; -1 before it. */
  qid = -1;
  private entries = 0;
  private sqhd = 0;
  private readonly writes = new Map<number, PendingWrite>();
  private nextTtag = 0;
  private ending = false;
  /** The IO queue's payload buffers (pool memory of the backing controller); none on the
   *  admin queue and on a backend without a pool. */
  buffers: QueueBuffers | undefined;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: QueueHost,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('drain', () => this.flow());
    socket.on('close', () => {
      for (const w of this.writes.values()) this.releasePayload(w.dma);
      this.writes.clear();
      this.buffers?.close();
      this.host.closed(this, this.ending ? 'ended' : 'closed by the host');
    });
  }

  /** The peer, for log lines. */
  get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Closes the connection (the association ended, or the target stops). */
  end(): void {
    this.ending = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    this.reader.push(chunk);
    try {
      for (let pdu = this.reader.next(); pdu; pdu = this.reader.next()) this.onPdu(pdu);
    } catch (err) {
      if (err instanceof FabricTcpError) this.fatal(err);
      else throw err;
    }
    this.flow();
  }

  /** Backpressure: no more commands are read while the queue's buffers are at their cap or
   *  more than MAX_UNSENT bytes wait on the socket; reading resumes when both drain. The
   *  buffers of writes that sent an R2T come back only once their H2CData is read, so while
   *  such writes wait reading goes on at the cap (a host that keeps to SQSIZE has at most
   *  `entries` of them; one that has more is held back again). */
  private flow(): void {
    const waitingWrites = this.writes.size;
    const atCap = (this.buffers?.full ?? false) && (waitingWrites === 0 || waitingWrites > this.entries);
    const stop = atCap || this.socket.writableLength > MAX_UNSENT;
    if (stop && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!stop && this.paused && !this.ending) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** True while the queue does not read the socket (backpressure). */
  get readingPaused(): boolean {
    return this.paused;
  }

  // A payload buffer of `size` bytes: pool memory when the queue has room, else (over the
  // cap, or without a pool) ordinary memory the driver maps for the one IO.
  private payload(size: number): { buf: Uint8Array; dma: DmaBuffer | undefined } {
    const dma = this.buffers?.acquire(size);
    return dma ? { buf: viewOf(dma), dma } : { buf: Buffer.alloc(size), dma: undefined };
  }

  private releasePayload(dma: DmaBuffer | undefined): void {
    if (!dma || !this.buffers) return;
    this.buffers.release(dma);
    if (this.paused) this.flow();
  }

  private fatal(err: FabricTcpError): void {
    if (this.ending) return;
    this.socket.write(c2hTermReq(err));
    this.end();
  }

  private onPdu(pdu: HostPdu): void {
    switch (pdu.type) {
      case T.PDU_ICREQ:
        return this.onIcReq(pdu);
      case T.PDU_CAPSULE_CMD:
        return this.onCapsule(pdu);
      case T.PDU_H2C_DATA:
        return this.onH2cData(pdu);
      case T.PDU_H2C_TERM_REQ:
        this.end();
        return;
    }
  }

  private onIcReq(pdu: HostPdu): void {
    const h = pdu.header;
    const pfv = h.readUInt16LE(T.IC_PFV);
    const hpda = h[T.IC_PDA];
    if (pfv !== T.PFV_1_0) throw new FabricTcpError(T.FES_UNSUPPORTED_PARAMETER, T.IC_PFV, `PFV ${pfv}; this target speaks 1.0 (0)`, h);
    if (hpda > T.PDA_MAX) throw new FabricTcpError(T.FES_UNSUPPORTED_PARAMETER, T.IC_PDA, `HPDA ${hpda} is above ${T.PDA_MAX}`, h);
    const dgst = h[T.IC_DGST];
    this.params = {
      headerDigest: (dgst & T.DGST_HEADER) !== 0,
      dataDigest: (dgst & T.DGST_DATA) !== 0,
      hostAlignment: (hpda + 1) * 4,
      maxH2cData: MAX_H2C_DATA,
      maxInCapsuleData: IN_CAPSULE_DATA,
    };
    this.socket.write(icResp(this.params));
    this.reader.settle(this.params);
  }

  private onCapsule(pdu: HostPdu): void {
    const cmd = parseCommand(Buffer.from(pdu.header.subarray(T.CH_SIZE, T.HLEN_CAPSULE_CMD)));
    if (this.entries) this.sqhd = (this.sqhd + 1) % this.entries;
    if (!pdu.dataDigestOk) return this.respond(cmd, { status: transientTransportError });
    const dir = dataDirection(cmd);
    if (dir === 'both') return this.respond(cmd, { status: invalidOpcode });
    if (dir === 'in' && cmd.sgl.length > 0) {
      if (cmd.sgl.id === NVMF.SGL_ID_DATA_OFFSET) {
        const { address, length } = cmd.sgl;
        if (address + length > pdu.dataLength) return this.respond(cmd, { status: sglLengthInvalid });
        // The one copy of a write's data: from the socket's chunk into the payload buffer.
        const p = this.payload(length);
        copyData(pdu, p.buf, 0, address, address + length);
        return this.run(cmd, p.buf, p.dma);
      }
      if (cmd.sgl.id !== NVMF.SGL_ID_TRANSPORT_DATA) return this.respond(cmd, { status: sglTypeInvalid });
      if (pdu.dataLength) return this.respond(cmd, { status: invalidField });
      if (cmd.sgl.length > MAX_TRANSFER) return this.respond(cmd, { status: sglLengthInvalid });
      // NVMe/TCP §3.4.2: the controller asks for the data with an R2T; one per command here.
      const ttag = this.nextTtag;
      this.nextTtag = (this.nextTtag + 1) & 0xffff;
      const p = this.payload(cmd.sgl.length);
      this.writes.set(ttag, { cmd, buf: p.buf, dma: p.dma, received: 0 });
      this.send(r2t(cmd.cid, ttag, 0, cmd.sgl.length, this.params!));
      return;
    }
    if (dir === 'out' && cmd.sgl.length > 0 && cmd.sgl.id !== NVMF.SGL_ID_TRANSPORT_DATA) return this.respond(cmd, { status: sglTypeInvalid });
    // A read on an IO queue: the device writes the data into a payload buffer, which leaves
    // in C2HData PDUs as it is (NVMe/TCP §3.4.1).
    if (dir === 'out' && cmd.sgl.length > 0 && this.qid > 0 && cmd.opcode === NVME.IO_READ && this.buffers && cmd.sgl.length <= MAX_TRANSFER) {
      const p = this.payload(cmd.sgl.length);
      return this.run(cmd, undefined, p.dma, p.buf);
    }
    this.run(cmd, undefined);
  }

  private onH2cData(pdu: HostPdu): void {
    const h = pdu.header;
    const cccid = h.readUInt16LE(T.DATA_CCCID);
    const ttag = h.readUInt16LE(T.DATA_TTAG);
    const offset = h.readUInt32LE(T.DATA_OFFSET);
    const length = h.readUInt32LE(T.DATA_LENGTH);
    const w = this.writes.get(ttag);
    // §3.6.2.8: data for a transfer that was not asked for, or out of its range, is fatal.
    if (!w || w.cmd.cid !== cccid) throw new FabricTcpError(T.FES_INVALID_PDU_HEADER, T.DATA_TTAG, `H2CData for TTAG ${ttag} CCCID ${cccid}, which no R2T asked for`, h);
    if (length !== pdu.dataLength) throw new FabricTcpError(T.FES_INVALID_PDU_HEADER, T.DATA_LENGTH, `DATAL ${length} with ${pdu.dataLength} bytes of PDU data`, h);
    if (offset !== w.received || offset + length > w.buf.length) throw new FabricTcpError(T.FES_DATA_OUT_OF_RANGE, T.DATA_OFFSET, `H2CData at ${offset}+${length} where ${w.received} of ${w.buf.length} bytes arrived`, h);
    copyData(pdu, w.buf, offset);
    w.received += length;
    if (!pdu.dataDigestOk) {
      this.writes.delete(ttag);
      this.releasePayload(w.dma);
      return this.respond(w.cmd, { status: transientTransportError });
    }
    if (w.received === w.buf.length) {
      this.writes.delete(ttag);
      this.run(w.cmd, w.buf, w.dma);
    }
  }

  // `dma` is the command's payload buffer: released once the device is done for a write,
  // once the socket has sent the data for a read (respond).
  private run(cmd: FabricCommand, data: Uint8Array | undefined, dma?: DmaBuffer, readInto?: Uint8Array): void {
    this.execute(cmd, data, readInto).then(
      (r) => this.respond(cmd, r, readInto ? dma : undefined),
      () => this.respond(cmd, { status: { sct: NVME.SCT_GENERIC, sc: NVME.SC_INTERNAL_ERROR } }, readInto ? dma : undefined),
    );
    // A write's buffer is released when its command settles (before the response leaves).
    if (!readInto && dma) this.settled(cmd, dma);
  }

  private readonly settling = new Map<FabricCommand, DmaBuffer>();
  private settled(cmd: FabricCommand, dma: DmaBuffer): void {
    this.settling.set(cmd, dma);
  }

  private async execute(cmd: FabricCommand, data: Uint8Array | undefined, readInto?: Uint8Array): Promise<CommandResult> {
    if (cmd.fctype === NVMF.FCTYPE_CONNECT) return this.connect(cmd, data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : undefined);
    const ctrl = this.controller;
    if (!ctrl) return { status: commandSequenceError };
    if (cmd.fctype >= 0) {
      if (this.qid !== 0) return { status: invalidOpcode };
      if (cmd.fctype === NVMF.FCTYPE_PROPERTY_GET) return ctrl.propertyGet(dword(cmd.sqe, NVMF.PROPERTY_OFFSET / 4), (cmd.sqe[NVMF.PROPERTY_ATTRIB] & NVMF.PROPERTY_SIZE_MASK) === NVMF.PROPERTY_SIZE_8);
      if (cmd.fctype === NVMF.FCTYPE_PROPERTY_SET) return ctrl.propertySet(dword(cmd.sqe, NVMF.PROPERTY_OFFSET / 4), dword(cmd.sqe, NVMF.PROPERTY_VALUE / 4));
      return { status: invalidOpcode };
    }
    return this.qid === 0 ? ctrl.admin(cmd) : ctrl.io(cmd, data, readInto);
  }

  private connect(cmd: FabricCommand, data: Buffer | undefined): CommandResult {
    if (this.controller) return { status: commandSequenceError };
    const ipoSqe = (at: number) => ({ status: { sct: NVME.SCT_COMMAND_SPECIFIC, sc: NVMF.SC_CONNECT_INVALID_PARAMETERS }, dw0: at });
    if (cmd.sqe.readUInt16LE(NVMF.CONNECT_RECFMT) !== NVMF.CONNECT_RECFMT_1_0) return { status: { sct: NVME.SCT_COMMAND_SPECIFIC, sc: NVMF.SC_CONNECT_INCOMPATIBLE_FORMAT } };
    if (!data || data.length !== NVMF.CONNECT_DATA_SIZE) return { status: sglLengthInvalid };
    const sqsize = cmd.sqe.readUInt16LE(NVMF.CONNECT_SQSIZE);
    // NVMe-oF §3.3: SQSIZE is 0's based, at least 1 (two entries), at most MQES.
    if (sqsize < 1 || sqsize > FABRIC_LIMITS.queueEntries - 1) return ipoSqe(NVMF.CONNECT_SQSIZE);
    const req: ConnectRequest = {
      qid: cmd.sqe.readUInt16LE(NVMF.CONNECT_QID),
      sqsize,
      kato: cmd.sqe.readUInt32LE(NVMF.CONNECT_KATO),
      hostid: Buffer.from(data.subarray(NVMF.CONNECT_DATA_HOSTID, NVMF.CONNECT_DATA_HOSTID + NVMF.HOSTID_SIZE)),
      cntlid: data.readUInt16LE(NVMF.CONNECT_DATA_CNTLID),
      subnqn: nqnAt(data, NVMF.CONNECT_DATA_SUBNQN),
      hostnqn: nqnAt(data, NVMF.CONNECT_DATA_HOSTNQN),
    };
    const answer = this.host.connect(req, this);
    if ('status' in answer) return { status: answer.status, dw0: answer.dw0 ?? 0 };
    this.controller = answer.controller;
    this.qid = req.qid;
    this.entries = sqsize + 1;
    this.sqhd = 1 % this.entries;
    const pool = answer.controller.subsystem.backend?.pool;
    // Every command the host may have outstanding, at the largest transfer (MDTS).
    if (req.qid > 0 && pool) this.buffers = new QueueBuffers(pool, this.entries * MAX_TRANSFER);
    return { status: SUCCESS, dw0: req.qid === 0 ? answer.controller.cntlid : 0 };
  }

  private respond(cmd: FabricCommand, r: CommandResult, readBuffer?: DmaBuffer): void {
    const written = this.settling.get(cmd);
    if (written) {
      this.settling.delete(cmd);
      this.releasePayload(written);
    }
    if (this.ending || !this.params) return this.releasePayload(readBuffer);
    const ok = r.status.sct === NVME.SCT_GENERIC && r.status.sc === NVME.SC_SUCCESS;
    let sentFrom = false;
    if (ok && r.data && cmd.sgl.length > 0) {
      const data = r.data.length > cmd.sgl.length ? r.data.subarray(0, cmd.sgl.length) : r.data;
      for (let off = 0; off < data.length; off += MAX_C2H_DATA) {
        const piece = data.subarray(off, Math.min(data.length, off + MAX_C2H_DATA));
        const last = off + piece.length >= data.length;
        // The data pieces are views of the payload buffer: it goes back for reuse only when
        // the socket has written the last of them (the write's callback), never before.
        this.send(c2hData(cmd.cid, off, piece, last, false, this.params), last && readBuffer ? () => this.releasePayload(readBuffer) : undefined);
        sentFrom ||= last && readBuffer !== undefined;
      }
    }
    if (!sentFrom) this.releasePayload(readBuffer);
    this.send(capsuleResp(completion(cmd, r.status, this.sqhd, Math.max(this.qid, 0), r.dw0 ?? 0, r.dw1 ?? 0), this.params));
  }

  // The PDUs of one tick leave in one writev: the socket is corked at the first and
  // uncorked once the tick's work is done (a response is a header, data and a capsule).
  private corked = false;

  private send(pieces: Buffer[], sent?: () => void): void {
    if (this.ending) {
      sent?.();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    const n = pieces.length;
    for (let i = 0; i < n; i++) {
      if (sent && i === n - 1) this.socket.write(pieces[i], () => sent());
      else this.socket.write(pieces[i]);
    }
    if (this.socket.writableLength > MAX_UNSENT) this.flow();
  }
}
