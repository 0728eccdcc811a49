// A small NVMe/TCP host for the target's tests: ICReq, Connect, Property Get/Set, and
// commands with data in the capsule, after an R2T, or back in C2HData. It checks every PDU
// the target sends against the transport's layout, so a test fails on a malformed answer.
// The kernel's own initiator is the real oracle (test/vm/cases/fabric.ts); this host makes
// the target's refusals and its error paths reachable from a unit test.
import * as net from 'net';
import { crc32c } from '../../fabrics/crc32c';
import { NVMF, NVME_TCP as T } from '../../spec/nvmf';

export interface Completion {
  dw0: number;
  dw1: number;
  sqhd: number;
  sqid: number;
  cid: number;
  /** The 15-bit status field. */
  status: number;
  /** C2HData bytes that came for the command. */
  data: Buffer;
}

interface Waiter {
  resolve: (c: Completion) => void;
  data: Buffer[];
  /** Host data to send after an R2T. */
  out?: Buffer;
}

/** A PDU the target sent that is not a response of a known command. */
export interface TermReq {
  fes: number;
  fei: number;
}

export class FabricTestHost {
  private buf = Buffer.alloc(0);
  private readonly waiting = new Map<number, Waiter>();
  private nextCid = 1;
  private icResolve?: (h: Buffer) => void;
  /** The C2HTermReq the target sent, if it sent one. */
  term?: TermReq;
  readonly closed: Promise<void>;
  headerDigest = false;
  dataDigest = false;
  /** What the target sent that this host did not expect (a response for a command it did
   *  not send, a malformed PDU). A strict host also drops the connection at the first. */
  readonly surprises: string[] = [];
  strict = true;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => this.onData(c));
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<FabricTestHost> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new FabricTestHost(s)));
      s.once('error', reject);
    });
  }

  /** Raw bytes, for the hostile cases. */
  sendRaw(b: Buffer): void {
    this.socket.write(b);
  }

  close(): void {
    this.socket.destroy();
  }

  /** ICReq → ICResp; returns the ICResp header. */
  async icReq(digests = 0, hpda = 0): Promise<Buffer> {
    const b = Buffer.alloc(T.HLEN_ICREQ);
    b[0] = T.PDU_ICREQ;
    b[2] = T.HLEN_ICREQ;
    b.writeUInt32LE(T.HLEN_ICREQ, 4);
    b[T.IC_PDA] = hpda;
    b[T.IC_DGST] = digests;
    const got = new Promise<Buffer>((resolve) => (this.icResolve = resolve));
    this.socket.write(b);
    const resp = await got;
    this.headerDigest = (resp[T.IC_DGST] & T.DGST_HEADER) !== 0;
    this.dataDigest = (resp[T.IC_DGST] & T.DGST_DATA) !== 0;
    return resp;
  }

  /** Sends one command; `inCapsule` data goes in the capsule, `out` after an R2T. */
  command(sqe: Buffer, o: { inCapsule?: Buffer; out?: Buffer; readBytes?: number } = {}): Promise<Completion> {
    const cid = this.nextCid++ & 0xffff;
    sqe.writeUInt16LE(cid, 2);
    const len = o.inCapsule?.length ?? o.out?.length ?? o.readBytes ?? 0;
    // DPTR: one SGL descriptor, in-capsule (Data Block, Offset) or transport data.
    sqe.writeBigUInt64LE(0n, 24);
    sqe.writeUInt32LE(len, 32);
    sqe[39] = o.inCapsule ? NVMF.SGL_ID_DATA_OFFSET : NVMF.SGL_ID_TRANSPORT_DATA;
    sqe[1] = 0x40; // PSDT: SGL for data
    const done = new Promise<Completion>((resolve) => this.waiting.set(cid, { resolve, data: [], out: o.out }));
    const hd = this.headerDigest ? 4 : 0;
    const data = o.inCapsule;
    const dd = this.dataDigest && data ? 4 : 0;
    const h = Buffer.alloc(T.HLEN_CAPSULE_CMD);
    h[0] = T.PDU_CAPSULE_CMD;
    h[1] = (hd ? T.FLAG_HDGSTF : 0) | (dd ? T.FLAG_DDGSTF : 0);
    h[2] = T.HLEN_CAPSULE_CMD;
    h[3] = data ? T.HLEN_CAPSULE_CMD + hd : 0;
    h.writeUInt32LE(T.HLEN_CAPSULE_CMD + hd + (data?.length ?? 0) + dd, 4);
    sqe.copy(h, 8);
    this.socket.write(Buffer.concat([h, ...(hd ? [digest(h)] : []), ...(data ? [data] : []), ...(dd && data ? [digest(data)] : [])]));
    return done;
  }

  private onData(c: Buffer): void {
    this.buf = Buffer.concat([this.buf, c]);
    for (;;) {
      if (this.buf.length < 8) return;
      const plen = this.buf.readUInt32LE(4);
      if (plen < 8) {
        this.surprises.push(`a PDU with PLEN ${plen}`);
        this.socket.destroy();
        return;
      }
      if (this.buf.length < plen) return;
      const pdu = this.buf.subarray(0, plen);
      this.buf = this.buf.subarray(plen);
      try {
        this.onPdu(pdu);
      } catch (e) {
        this.surprises.push((e as Error).message);
        if (this.strict) this.socket.destroy();
      }
    }
  }

  private onPdu(p: Buffer): void {
    const type = p[0];
    const hlen = p[2];
    const hd = type !== T.PDU_ICRESP && type !== T.PDU_C2H_TERM_REQ && this.headerDigest ? 4 : 0;
    if (hd && p.readUInt32LE(hlen) !== crc32c(p.subarray(0, hlen))) throw new Error(`header digest of a type ${type} PDU is wrong`);
    switch (type) {
      case T.PDU_ICRESP:
        this.icResolve?.(Buffer.from(p));
        return;
      case T.PDU_C2H_TERM_REQ:
        this.term = { fes: p.readUInt16LE(T.TERM_FES), fei: p.readUInt32LE(T.TERM_FEI) };
        return;
      case T.PDU_CAPSULE_RESP: {
        const cid = p.readUInt16LE(8 + 12);
        const w = this.waiting.get(cid);
        if (!w) throw new Error(`a response for CID ${cid}, which is not outstanding`);
        this.waiting.delete(cid);
        w.resolve({ dw0: p.readUInt32LE(8), dw1: p.readUInt32LE(12), sqhd: p.readUInt16LE(16), sqid: p.readUInt16LE(18), cid, status: p.readUInt16LE(22) >> 1, data: Buffer.concat(w.data) });
        return;
      }
      case T.PDU_C2H_DATA: {
        const cid = p.readUInt16LE(T.DATA_CCCID);
        const off = p.readUInt32LE(T.DATA_OFFSET);
        const len = p.readUInt32LE(T.DATA_LENGTH);
        const pdo = p[3];
        const w = this.waiting.get(cid);
        if (!w) throw new Error(`C2HData for CID ${cid}, which is not outstanding`);
        if (off !== Buffer.concat(w.data).length) throw new Error(`C2HData at ${off}, out of order`);
        const data = p.subarray(pdo, pdo + len);
        if (this.dataDigest && p.readUInt32LE(pdo + len) !== crc32c(data)) throw new Error('C2HData data digest is wrong');
        w.data.push(Buffer.from(data));
        return;
      }
      case T.PDU_R2T: {
        const cid = p.readUInt16LE(T.DATA_CCCID);
        const ttag = p.readUInt16LE(T.DATA_TTAG);
        const off = p.readUInt32LE(T.DATA_OFFSET);
        const len = p.readUInt32LE(T.DATA_LENGTH);
        const out = this.waiting.get(cid)?.out;
        if (!out) throw new Error(`R2T for CID ${cid}, which sends no data`);
        this.h2cData(cid, ttag, off, out.subarray(off, off + len));
        return;
      }
      default:
        throw new Error(`PDU type ${type} from the target`);
    }
  }

  /** Sends host data in H2CData PDUs of at most 64 KiB. */
  h2cData(cid: number, ttag: number, offset: number, data: Buffer, chunk = 65536): void {
    for (let at = 0; at < data.length; at += chunk) {
      const piece = data.subarray(at, Math.min(data.length, at + chunk));
      const hd = this.headerDigest ? 4 : 0;
      const dd = this.dataDigest ? 4 : 0;
      const h = Buffer.alloc(T.HLEN_DATA);
      h[0] = T.PDU_H2C_DATA;
      h[1] = (hd ? T.FLAG_HDGSTF : 0) | (dd ? T.FLAG_DDGSTF : 0) | (at + piece.length >= data.length ? T.FLAG_LAST_PDU : 0);
      h[2] = T.HLEN_DATA;
      h[3] = T.HLEN_DATA + hd;
      h.writeUInt32LE(T.HLEN_DATA + hd + piece.length + dd, 4);
      h.writeUInt16LE(cid, T.DATA_CCCID);
      h.writeUInt16LE(ttag, T.DATA_TTAG);
      h.writeUInt32LE(offset + at, T.DATA_OFFSET);
      h.writeUInt32LE(piece.length, T.DATA_LENGTH);
      this.socket.write(Buffer.concat([h, ...(hd ? [digest(h)] : []), piece, ...(dd ? [digest(piece)] : [])]));
    }
  }
}

function digest(b: Buffer): Buffer {
  const d = Buffer.alloc(4);
  d.writeUInt32LE(crc32c(b));
  return d;
}

/** An SQE with opcode and nsid set. */
export function sqe(opcode: number, nsid = 0, cdw: Record<number, number> = {}): Buffer {
  const b = Buffer.alloc(64);
  b[0] = opcode;
  b.writeUInt32LE(nsid, 4);
  for (const [k, v] of Object.entries(cdw)) b.writeUInt32LE(v >>> 0, Number(k) * 4);
  return b;
}

/** A Fabrics Connect SQE and its 1024 bytes of data. */
export function connectCommand(qid: number, sqsize: number, kato: number, subnqn: string, hostnqn: string, cntlid: number = NVMF.CNTLID_DYNAMIC): { sqe: Buffer; data: Buffer } {
  const s = sqe(NVMF.OPC_FABRICS);
  s[NVMF.SQE_FCTYPE] = NVMF.FCTYPE_CONNECT;
  s.writeUInt16LE(qid, NVMF.CONNECT_QID);
  s.writeUInt16LE(sqsize, NVMF.CONNECT_SQSIZE);
  s.writeUInt32LE(kato, NVMF.CONNECT_KATO);
  const d = Buffer.alloc(NVMF.CONNECT_DATA_SIZE);
  d.writeUInt16LE(cntlid, NVMF.CONNECT_DATA_CNTLID);
  d.write(subnqn, NVMF.CONNECT_DATA_SUBNQN, 'utf8');
  d.write(hostnqn, NVMF.CONNECT_DATA_HOSTNQN, 'utf8');
  return { sqe: s, data: d };
}

export function propertyCommand(fctype: number, offset: number, size8: boolean, value = 0): Buffer {
  const s = sqe(NVMF.OPC_FABRICS);
  s[NVMF.SQE_FCTYPE] = fctype;
  s[NVMF.PROPERTY_ATTRIB] = size8 ? NVMF.PROPERTY_SIZE_8 : NVMF.PROPERTY_SIZE_4;
  s.writeUInt32LE(offset, NVMF.PROPERTY_OFFSET);
  s.writeUInt32LE(value >>> 0, NVMF.PROPERTY_VALUE);
  return s;
}
