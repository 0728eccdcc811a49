// NVMe/TCP PDU framing on the controller side: cuts the host's byte stream into PDUs and
// checks every header field the transport defines before anything acts on it, and builds
// the PDUs a controller sends. A host that breaks a rule gets a FabricTcpError naming the
// Fatal Error Status and the offending field (NVMe/TCP §3.6.2.5: the C2HTermReq carries
// both), and the connection is then closed; nothing in a malformed PDU is ever used.
//
// The layouts and values come from spec/nvmf.h (NVME_TCP); section numbers are of the
// NVMe/TCP Transport Specification 1.0a.
import { NVME_TCP } from '../spec/nvmf';
import { crc32c } from './crc32c';

const T = NVME_TCP;

/** A PDU the host sent, checked: its header (common header included, digest excluded) and
 *  its PDU data (padding and digest excluded; empty when it has none). */
export interface HostPdu {
  type: number;
  flags: number;
  header: Buffer;
  /** The PDU data as one Buffer: a view of the received chunk when it lies in one, else
   *  joined (a copy) at first use. The data path reads dataParts instead. */
  readonly data: Buffer;
  /** The PDU data as views of the received chunks, in order (no copy). */
  dataParts: Buffer[];
  dataLength: number;
  /** False when a data digest was negotiated and the one received does not match: the PDU is
   *  well framed, but its data must not be used (§3.4.2: a transport error of that command). */
  dataDigestOk: boolean;
}

/** A rule of the transport the host broke; fatal for the connection (§3.6.2.5). */
export class FabricTcpError extends Error {
  readonly code = 'PHYR_NVME_TCP_FATAL';
  /** Fatal Error Status (NVME_TCP.FES_*). */
  readonly fes: number;
  /** Fatal Error Information: the byte offset of the offending header field, or for a
   *  data-limit error the limit itself. */
  readonly fei: number;
  /** The offending PDU's header as received (at most 128 bytes), for the C2HTermReq. */
  readonly header: Buffer;
  constructor(fes: number, fei: number, message: string, header: Buffer) {
    super(`NVMe/TCP: ${message}`);
    this.name = 'FabricTcpError';
    this.fes = fes;
    this.fei = fei;
    this.header = header.subarray(0, T.TERM_MAX_DATA);
  }
}

/** What the ICReq/ICResp exchange settled (§3.6.2.2, §3.6.2.3). */
export interface TcpConnectionParams {
  headerDigest: boolean;
  dataDigest: boolean;
  /** PDU data alignment the host asked for, in bytes ((HPDA + 1) * 4): where the data of a
   *  PDU this controller sends starts. */
  hostAlignment: number;
  /** The largest PDU data of an H2CData PDU this controller accepts (MAXH2CDATA). */
  maxH2cData: number;
  /** The largest in-capsule data of a command capsule on this queue. */
  maxInCapsuleData: number;
}

/** Parameters before the ICReq: no digests, no data but the ICReq's own fixed header. */
export const INITIAL_PARAMS: TcpConnectionParams = {
  headerDigest: false,
  dataDigest: false,
  hostAlignment: 4,
  maxH2cData: T.MIN_MAXH2CDATA,
  maxInCapsuleData: 0,
};

// The header length each PDU type a host may send must have (§3.6.2).
const HOST_HLEN = new Map<number, number>([
  [T.PDU_ICREQ, T.HLEN_ICREQ],
  [T.PDU_H2C_TERM_REQ, T.HLEN_TERM_REQ],
  [T.PDU_CAPSULE_CMD, T.HLEN_CAPSULE_CMD],
  [T.PDU_H2C_DATA, T.HLEN_DATA],
]);

/** Copies PDU data bytes [from, to) into `target` at `at` (the one copy of a write's data,
 *  from the socket's chunks into the payload buffer). */
export function copyData(pdu: HostPdu, target: Uint8Array, at: number, from = 0, to = pdu.dataLength): void {
  let pos = 0;
  for (const part of pdu.dataParts) {
    const end = pos + part.length;
    if (end > from && pos < to) {
      const a = Math.max(from, pos) - pos;
      const b = Math.min(to, end) - pos;
      target.set(b - a === part.length ? part : part.subarray(a, b), at);
      at += b - a;
    }
    pos = end;
    if (pos >= to) break;
  }
}

class ReceivedPdu implements HostPdu {
  private joined: Buffer | undefined;
  constructor(
    readonly type: number,
    readonly flags: number,
    readonly header: Buffer,
    readonly dataParts: Buffer[],
    readonly dataLength: number,
    readonly dataDigestOk: boolean,
  ) {}
  get data(): Buffer {
    if (!this.joined) this.joined = this.dataParts.length === 1 ? this.dataParts[0] : Buffer.concat(this.dataParts, this.dataLength);
    return this.joined;
  }
}

const EMPTY = Buffer.alloc(0);

// Views of bytes [from, to) of `parts` (consecutive pieces of the stream).
function partsOf(parts: Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (const p of parts) {
    const end = pos + p.length;
    if (end > from && pos < to) out.push(p.subarray(Math.max(from, pos) - pos, Math.min(to, end) - pos));
    pos = end;
    if (pos >= to) break;
  }
  return out;
}

// Bytes [from, to) of `parts` as one Buffer: a view when they lie in one part, else joined.
function joinOf(parts: Buffer[], from: number, to: number): Buffer {
  const ps = partsOf(parts, from, to);
  if (ps.length === 1) return ps[0];
  return ps.length === 0 ? EMPTY : Buffer.concat(ps, to - from);
}

/** Cuts a byte stream from a host into checked PDUs. Feed it with push(), take PDUs with
 *  next() until it returns null; after the ICReq, settle() the negotiated parameters. */
export class HostPduReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private params: TcpConnectionParams = INITIAL_PARAMS;
  private seenIcReq = false;

  /** Bytes received and not yet returned as PDUs. */
  get pending(): number {
    return this.buffered;
  }

  /** The parameters the ICResp announced; applies to every PDU after the ICReq. */
  settle(params: TcpConnectionParams): void {
    this.params = params;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete PDU, or null when more bytes are needed. Throws FabricTcpError on a
   *  PDU that breaks the transport's rules; the reader is unusable afterwards. */
  next(): HostPdu | null {
    if (this.buffered < T.CH_SIZE) return null;
    const ch = this.peek(T.CH_SIZE);
    const type = ch[T.CH_TYPE];
    const flags = ch[T.CH_FLAGS];
    const hlen = ch[T.CH_HLEN];
    const pdo = ch[T.CH_PDO];
    const plen = ch.readUInt32LE(T.CH_PLEN);
    const fail = (fes: number, fei: number, why: string): FabricTcpError =>
      new FabricTcpError(fes, fei, why, this.peek(Math.min(this.buffered, Math.max(hlen, T.CH_SIZE))));

    const wantHlen = HOST_HLEN.get(type);
    if (wantHlen === undefined) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_TYPE, `PDU type ${type} is not one a host sends`);
    // §3.6.2.2: the ICReq is the first PDU and comes once.
    if (!this.seenIcReq && type !== T.PDU_ICREQ) throw fail(T.FES_PDU_SEQUENCE_ERROR, T.CH_TYPE, `PDU type ${type} before the ICReq`);
    if (this.seenIcReq && type === T.PDU_ICREQ) throw fail(T.FES_PDU_SEQUENCE_ERROR, T.CH_TYPE, 'a second ICReq');
    if (hlen !== wantHlen) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_HLEN, `HLEN ${hlen} for PDU type ${type}, which has ${wantHlen}`);

    // The ICReq and the termination requests never carry digests (§3.6.2.2, §3.6.2.4).
    const digestible = type === T.PDU_CAPSULE_CMD || type === T.PDU_H2C_DATA;
    const hdgst = digestible && this.params.headerDigest ? T.DIGEST_SIZE : 0;
    const ddgstNegotiated = digestible && this.params.dataDigest;
    // §3.6.1: HDGSTF / DDGSTF say whether the digest is present; they must match what was
    // negotiated.
    if (((flags & T.FLAG_HDGSTF) !== 0) !== (hdgst !== 0)) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_FLAGS, `HDGSTF ${flags & T.FLAG_HDGSTF ? 'set' : 'clear'} where header digests are ${hdgst ? 'on' : 'off'}`);

    const maxData = type === T.PDU_H2C_DATA ? this.params.maxH2cData : type === T.PDU_CAPSULE_CMD ? this.params.maxInCapsuleData : type === T.PDU_H2C_TERM_REQ ? T.TERM_MAX_DATA : 0;
    const headerEnd = hlen + hdgst;
    if (plen < headerEnd) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_PLEN, `PLEN ${plen} is shorter than the header (${headerEnd} bytes)`);
    let dataStart = headerEnd;
    let dataLen = 0;
    const hasData = plen > headerEnd;
    if (hasData && type === T.PDU_ICREQ) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_PLEN, `PLEN ${plen} for an ICReq, which is ${T.HLEN_ICREQ} bytes`);
    if (hasData) {
      // §3.6.1: PDO is where the data starts, after the header (and its digest), aligned as
      // the ICResp's CPDA asks; phyr announces CPDA 0, so any dword-aligned PDO past the
      // header is taken.
      if (pdo < headerEnd || pdo % 4 !== 0 || pdo > plen) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_PDO, `PDO ${pdo} with a header of ${headerEnd} bytes and PLEN ${plen}`);
      dataStart = pdo;
      const ddgst = ddgstNegotiated ? T.DIGEST_SIZE : 0;
      dataLen = plen - pdo - ddgst;
      if (dataLen <= 0) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_PLEN, `PLEN ${plen} leaves no data after PDO ${pdo}`);
      if (dataLen > maxData) throw fail(T.FES_DATA_LIMIT_EXCEEDED, maxData, `${dataLen} bytes of PDU data where at most ${maxData} are allowed`);
      if (((flags & T.FLAG_DDGSTF) !== 0) !== ddgstNegotiated) throw fail(T.FES_INVALID_PDU_HEADER, T.CH_FLAGS, `DDGSTF ${flags & T.FLAG_DDGSTF ? 'set' : 'clear'} where data digests are ${ddgstNegotiated ? 'on' : 'off'}`);
    } else if (pdo !== 0) {
      throw fail(T.FES_INVALID_PDU_HEADER, T.CH_PDO, `PDO ${pdo} in a PDU without data`);
    }
    if (this.buffered < plen) return null;

    // The PDU as views of the chunks it arrived in; only a header (or digest) that spans
    // chunks is joined, the data never is.
    const whole = this.take(plen);
    const header = joinOf(whole, 0, hlen);
    if (hdgst) {
      const got = joinOf(whole, hlen, hlen + hdgst).readUInt32LE(0);
      if (crc32c(header) !== got) throw new FabricTcpError(T.FES_HEADER_DIGEST_ERROR, 0, 'header digest mismatch', header);
    }
    const dataParts = dataLen ? partsOf(whole, dataStart, dataStart + dataLen) : [];
    let dataDigestOk = true;
    if (hasData && ddgstNegotiated) {
      let crc = 0;
      for (const p of dataParts) crc = crc32c(p, crc);
      dataDigestOk = crc === joinOf(whole, dataStart + dataLen, dataStart + dataLen + T.DIGEST_SIZE).readUInt32LE(0);
    }
    if (type === T.PDU_ICREQ) this.seenIcReq = true;
    return new ReceivedPdu(type, flags, header, dataParts.length ? dataParts : [EMPTY], dataLen, dataDigestOk);
  }

  // The first n buffered bytes, as one Buffer: a view of the first chunk when it holds them,
  // else those n bytes joined (the chunks stay as they are).
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    return joinOf(this.chunks, 0, Math.min(n, this.buffered));
  }

  // The next n buffered bytes, as views of the chunks they are in.
  private take(n: number): Buffer[] {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const first = this.chunks[0];
      if (first.length <= left) {
        out.push(first);
        this.chunks.shift();
        left -= first.length;
      } else {
        out.push(first.subarray(0, left));
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out;
  }
}

// ---- PDUs a controller sends --------------------------------------------------------

function commonHeader(type: number, flags: number, hlen: number, pdo: number, plen: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b[T.CH_TYPE] = type;
  b[T.CH_FLAGS] = flags;
  b[T.CH_HLEN] = hlen;
  b[T.CH_PDO] = pdo;
  b.writeUInt32LE(plen, T.CH_PLEN);
  return b;
}

// Appends the header digest when negotiated: the wire pieces of a header-only PDU.
function withHeaderDigest(header: Buffer, p: TcpConnectionParams): Buffer[] {
  if (!p.headerDigest) return [header];
  const d = Buffer.alloc(T.DIGEST_SIZE);
  d.writeUInt32LE(crc32c(header));
  return [header, d];
}

/** The ICResp (§3.6.2.3): PFV 1.0, CPDA 0, the digests enabled, MAXH2CDATA. */
export function icResp(p: TcpConnectionParams): Buffer {
  const b = commonHeader(T.PDU_ICRESP, 0, T.HLEN_ICRESP, 0, T.HLEN_ICRESP, T.HLEN_ICRESP);
  b.writeUInt16LE(T.PFV_1_0, T.IC_PFV);
  b[T.IC_PDA] = 0;
  b[T.IC_DGST] = (p.headerDigest ? T.DGST_HEADER : 0) | (p.dataDigest ? T.DGST_DATA : 0);
  b.writeUInt32LE(p.maxH2cData, T.IC_MAX);
  return b;
}

/** A response capsule carrying one 16-byte completion queue entry (§3.6.2.7). */
export function capsuleResp(cqe: Uint8Array, p: TcpConnectionParams): Buffer[] {
  const hdgst = p.headerDigest ? T.DIGEST_SIZE : 0;
  const b = commonHeader(T.PDU_CAPSULE_RESP, hdgst ? T.FLAG_HDGSTF : 0, T.HLEN_CAPSULE_RESP, 0, T.HLEN_CAPSULE_RESP + hdgst, T.HLEN_CAPSULE_RESP);
  b.set(cqe.subarray(0, T.HLEN_CAPSULE_RESP - T.CH_SIZE), T.CH_SIZE);
  return withHeaderDigest(b, p);
}

/** An R2T (§3.6.2.10): asks the host for `length` bytes of command `cccid` from `offset`. */
export function r2t(cccid: number, ttag: number, offset: number, length: number, p: TcpConnectionParams): Buffer[] {
  const hdgst = p.headerDigest ? T.DIGEST_SIZE : 0;
  const b = commonHeader(T.PDU_R2T, hdgst ? T.FLAG_HDGSTF : 0, T.HLEN_R2T, 0, T.HLEN_R2T + hdgst, T.HLEN_R2T);
  b.writeUInt16LE(cccid, T.DATA_CCCID);
  b.writeUInt16LE(ttag, T.DATA_TTAG);
  b.writeUInt32LE(offset, T.DATA_OFFSET);
  b.writeUInt32LE(length, T.DATA_LENGTH);
  return withHeaderDigest(b, p);
}

/** A C2HData PDU (§3.6.2.9) with `data` at byte `offset` of command `cccid`'s data. `last`
 *  marks the command's last data PDU; `success` with it says no response capsule follows. */
export function c2hData(cccid: number, offset: number, data: Buffer, last: boolean, success: boolean, p: TcpConnectionParams): Buffer[] {
  const hdgst = p.headerDigest ? T.DIGEST_SIZE : 0;
  const ddgst = p.dataDigest ? T.DIGEST_SIZE : 0;
  const headerEnd = T.HLEN_DATA + hdgst;
  // §3.6.1: the data starts at the host's alignment (HPDA), padded with zeros.
  const pdo = Math.ceil(headerEnd / p.hostAlignment) * p.hostAlignment;
  const plen = pdo + data.length + ddgst;
  const flags = (hdgst ? T.FLAG_HDGSTF : 0) | (ddgst ? T.FLAG_DDGSTF : 0) | (last ? T.FLAG_LAST_PDU : 0) | (last && success ? T.FLAG_SUCCESS : 0);
  const b = commonHeader(T.PDU_C2H_DATA, flags, T.HLEN_DATA, pdo, plen, T.HLEN_DATA);
  b.writeUInt16LE(cccid, T.DATA_CCCID);
  b.writeUInt32LE(offset, T.DATA_OFFSET);
  b.writeUInt32LE(data.length, T.DATA_LENGTH);
  const out = withHeaderDigest(b, p);
  if (pdo > headerEnd) out.push(Buffer.alloc(pdo - headerEnd));
  out.push(data);
  if (ddgst) {
    const d = Buffer.alloc(T.DIGEST_SIZE);
    d.writeUInt32LE(crc32c(data));
    out.push(d);
  }
  return out;
}

/** A C2HTermReq (§3.6.2.5): the fatal error, and the offending PDU's header. */
export function c2hTermReq(err: FabricTcpError): Buffer {
  const plen = T.HLEN_TERM_REQ + err.header.length;
  const b = commonHeader(T.PDU_C2H_TERM_REQ, 0, T.HLEN_TERM_REQ, err.header.length ? T.HLEN_TERM_REQ : 0, plen, plen);
  b.writeUInt16LE(err.fes, T.TERM_FES);
  b.writeUInt32LE(err.fei >>> 0, T.TERM_FEI);
  err.header.copy(b, T.HLEN_TERM_REQ);
  return b;
}
