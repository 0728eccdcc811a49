// NVMe/TCP framing on the controller side (fabrics/tcp-pdu.ts): the CRC-32C digest against
// RFC 3720's published vectors, PDUs cut at every byte boundary, each header rule a host
// can break answered with the Fatal Error Status and field the transport names, and a
// seeded stream of random bytes that only ever yields PDUs or that typed error.
import t from 'tap';
import { crc32c } from '../../fabrics/crc32c';
import { FabricTcpError, HostPduReader, INITIAL_PARAMS, c2hData, copyData, c2hTermReq, capsuleResp, icResp, r2t, type TcpConnectionParams } from '../../fabrics/tcp-pdu';
import { NVME_TCP as T } from '../../spec/nvmf';

const DIGESTS: TcpConnectionParams = { headerDigest: true, dataDigest: true, hostAlignment: 4, maxH2cData: 8192, maxInCapsuleData: 8192 };

function header(type: number, hlen: number, plen: number, flags = 0, pdo = 0): Buffer {
  const b = Buffer.alloc(hlen);
  b[0] = type;
  b[1] = flags;
  b[2] = hlen;
  b[3] = pdo;
  b.writeUInt32LE(plen, 4);
  return b;
}
const digestOf = (b: Buffer) => {
  const d = Buffer.alloc(4);
  d.writeUInt32LE(crc32c(b));
  return d;
};
const icReq = (digest = 0) => {
  const b = header(T.PDU_ICREQ, T.HLEN_ICREQ, T.HLEN_ICREQ);
  b[T.IC_DGST] = digest;
  return b;
};
// A command capsule with in-capsule data, digests as `p` says.
function capsule(data: Buffer, p: TcpConnectionParams, cid = 7): Buffer {
  const hd = p.headerDigest ? 4 : 0;
  const dd = p.dataDigest ? 4 : 0;
  const pdo = T.HLEN_CAPSULE_CMD + hd;
  const h = header(T.PDU_CAPSULE_CMD, T.HLEN_CAPSULE_CMD, pdo + data.length + dd, (hd ? T.FLAG_HDGSTF : 0) | (dd && data.length ? T.FLAG_DDGSTF : 0), data.length ? pdo : 0);
  h.writeUInt16LE(cid, 10);
  return Buffer.concat([h, ...(hd ? [digestOf(h)] : []), data, ...(dd && data.length ? [digestOf(data)] : [])]);
}
function readerAfterIcReq(p: TcpConnectionParams): HostPduReader {
  const r = new HostPduReader();
  r.push(icReq());
  r.next();
  r.settle(p);
  return r;
}
type Checks = Pick<typeof t, 'ok' | 'same' | 'fail'>;
function fatal(t: Checks, fn: () => unknown, fes: number, fei: number, what: string): void {
  try {
    fn();
    t.fail(`${what}: no error`);
  } catch (e) {
    t.ok(e instanceof FabricTcpError, `${what}: a FabricTcpError`);
    const err = e as FabricTcpError;
    t.same({ fes: err.fes, fei: err.fei }, { fes, fei }, `${what}: FES ${fes}, FEI ${fei} (${err.message})`);
  }
}

t.test('CRC-32C matches the vectors of RFC 3720 §B.4 and chains over pieces', async (t) => {
  t.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa, '32 bytes of zeros');
  t.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43, '32 bytes of ones');
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e, '32 incrementing bytes');
  t.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c, '32 decrementing bytes');
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the check value of "123456789"');
  const b = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) t.equal(crc32c(b, crc32c(b, 0, 0, cut), cut), crc32c(b), `split at ${cut}`);
});

t.test('a PDU cut at every byte boundary comes out whole, once', async (t) => {
  const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const stream = Buffer.concat([icReq(), capsule(data, DIGESTS)]);
  for (let cut = 1; cut < stream.length; cut++) {
    const r = new HostPduReader();
    const got = [];
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
      r.push(part);
      for (let p = r.next(); p; p = r.next()) {
        got.push(p);
        if (p.type === T.PDU_ICREQ) r.settle(DIGESTS);
      }
    }
    if (got.length !== 2 || !got[1].data.equals(data) || !got[1].dataDigestOk || got[1].header.readUInt16LE(10) !== 7) {
      t.fail(`cut at ${cut}: ${got.length} PDUs`);
      return;
    }
  }
  t.pass(`${stream.length - 1} cuts, each gave the ICReq and the capsule with its 100 bytes`);
  const r = new HostPduReader();
  for (const byte of stream) r.push(Buffer.from([byte]));
  t.equal(r.next()?.type, T.PDU_ICREQ, 'byte by byte: the ICReq');
  r.settle(DIGESTS);
  t.same(r.next()?.data, data, 'byte by byte: the capsule data');
  t.equal(r.next(), null, 'then nothing');
  t.equal(r.pending, 0, 'nothing left over');
});

t.test('each header rule a host breaks is fatal with the status and field NVMe/TCP names', async (t) => {
  const fresh = () => new HostPduReader();
  fatal(t, () => { const r = fresh(); r.push(header(0x08, 24, 24)); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_TYPE, 'an unknown PDU type');
  fatal(t, () => { const r = fresh(); r.push(header(T.PDU_C2H_DATA, 24, 24)); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_TYPE, 'a controller-to-host type from the host');
  fatal(t, () => { const r = fresh(); r.push(capsule(Buffer.alloc(0), INITIAL_PARAMS)); r.next(); }, T.FES_PDU_SEQUENCE_ERROR, T.CH_TYPE, 'a capsule before the ICReq');
  fatal(t, () => { const r = readerAfterIcReq(INITIAL_PARAMS); r.push(icReq()); r.next(); }, T.FES_PDU_SEQUENCE_ERROR, T.CH_TYPE, 'a second ICReq');
  fatal(t, () => { const r = fresh(); const b = icReq(); b[2] = 127; r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_HLEN, 'an ICReq with HLEN 127');
  fatal(t, () => { const r = fresh(); const b = Buffer.concat([icReq(), Buffer.alloc(4)]); b.writeUInt32LE(132, 4); r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_PLEN, 'an ICReq with PLEN 132');
  const p = { ...INITIAL_PARAMS, maxInCapsuleData: 64 };
  fatal(t, () => { const r = readerAfterIcReq(p); const b = capsule(Buffer.alloc(16), p); b.writeUInt32LE(60, 4); r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_PLEN, 'a capsule with PLEN shorter than its header');
  fatal(t, () => { const r = readerAfterIcReq(p); const b = capsule(Buffer.alloc(16), p); b[3] = 70; r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_PDO, 'a PDO inside the header');
  fatal(t, () => { const r = readerAfterIcReq(p); const b = capsule(Buffer.alloc(16), p); b[3] = 74; r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_PDO, 'a PDO that is not dword aligned');
  fatal(t, () => { const r = readerAfterIcReq(p); const b = capsule(Buffer.alloc(0), p); b[3] = 72; r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_PDO, 'a PDO in a PDU without data');
  fatal(t, () => { const r = readerAfterIcReq(p); r.push(capsule(Buffer.alloc(68), p)); r.next(); }, T.FES_DATA_LIMIT_EXCEEDED, 64, '68 bytes of in-capsule data where 64 are allowed');
  fatal(t, () => { const r = readerAfterIcReq(p); const b = capsule(Buffer.alloc(0), p); b.writeUInt32LE(0xffffffff, 4); b[3] = 72; r.push(b); r.next(); }, T.FES_DATA_LIMIT_EXCEEDED, 64, 'a PLEN of 4 GiB, before any of it arrived');
  fatal(t, () => { const r = readerAfterIcReq(DIGESTS); r.push(capsule(Buffer.alloc(8), { ...DIGESTS, headerDigest: false })); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_FLAGS, 'no header digest where one was negotiated');
  fatal(t, () => { const r = readerAfterIcReq(INITIAL_PARAMS); const b = capsule(Buffer.alloc(0), INITIAL_PARAMS); b[1] = T.FLAG_HDGSTF; r.push(b); r.next(); }, T.FES_INVALID_PDU_HEADER, T.CH_FLAGS, 'HDGSTF without header digests');
  fatal(t, () => { const r = readerAfterIcReq(DIGESTS); const b = capsule(Buffer.alloc(8), DIGESTS); b[72] ^= 1; r.push(b); r.next(); }, T.FES_HEADER_DIGEST_ERROR, 0, 'a header digest that does not match');
  const r = readerAfterIcReq(DIGESTS);
  const b = capsule(Buffer.alloc(8, 3), DIGESTS);
  b[b.length - 1] ^= 1;
  r.push(b);
  const got = r.next();
  t.equal(got?.dataDigestOk, false, 'a data digest that does not match: well framed, data marked bad');
  t.equal(got?.data.length, 8, 'its data length');
});

t.test('controller PDUs: the fields, digests and padding on the wire', async (t) => {
  const ic = icResp(DIGESTS);
  t.same([ic[0], ic[2], ic.readUInt32LE(4), ic[T.IC_DGST], ic.readUInt32LE(T.IC_MAX)], [T.PDU_ICRESP, 128, 128, 3, 8192], 'ICResp: type, HLEN, PLEN, both digests, MAXH2CDATA');
  const cqe = Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1));
  const resp = Buffer.concat(capsuleResp(cqe, DIGESTS));
  t.equal(resp.length, 28, 'a response capsule with its header digest is 28 bytes');
  t.same(resp.subarray(8, 24), cqe, 'it carries the CQE');
  t.equal(resp.readUInt32LE(24), crc32c(resp.subarray(0, 24)), 'and the digest of its header');
  const data = Buffer.from('0123456789abcdef');
  const c2h = Buffer.concat(c2hData(9, 4096, data, true, false, { ...DIGESTS, hostAlignment: 64 }));
  t.equal(c2h[3], 64, 'C2HData: PDO at the host alignment of 64');
  t.same(c2h.subarray(28, 64), Buffer.alloc(36), 'zeros between the header digest and the data');
  t.same(c2h.subarray(64, 80), data, 'the data at PDO');
  t.equal(c2h.readUInt32LE(80), crc32c(data), 'the data digest after it');
  t.equal(c2h.readUInt32LE(4), 84, 'PLEN covers all of it');
  t.equal(c2h[1], T.FLAG_HDGSTF | T.FLAG_DDGSTF | T.FLAG_LAST_PDU, 'flags: both digests and LAST_PDU, no SUCCESS');
  t.same([c2h.readUInt16LE(8), c2h.readUInt32LE(12), c2h.readUInt32LE(16)], [9, 4096, 16], 'CCCID, offset, length');
  const r = Buffer.concat(r2t(5, 2, 8192, 4096, INITIAL_PARAMS));
  t.same([r[0], r.length, r.readUInt16LE(8), r.readUInt16LE(10), r.readUInt32LE(12), r.readUInt32LE(16)], [T.PDU_R2T, 24, 5, 2, 8192, 4096], 'R2T: type, length, CCCID, TTAG, offset, length');
  const err = new FabricTcpError(T.FES_INVALID_PDU_HEADER, T.CH_HLEN, 'x', header(T.PDU_CAPSULE_CMD, 72, 72));
  const term = c2hTermReq(err);
  t.same([term[0], term.readUInt32LE(4), term.readUInt16LE(8), term.readUInt32LE(10)], [T.PDU_C2H_TERM_REQ, 96, 1, 2], 'C2HTermReq: type, PLEN (24 + the 72-byte header), FES, FEI');
  t.equal(term[24], T.PDU_CAPSULE_CMD, 'it carries the offending header');
});

t.test('random byte streams yield PDUs or a FabricTcpError, never another error or a stall', async (t) => {
  let seed = 0x9e3779b9;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  let fatalCount = 0;
  let pdus = 0;
  for (let round = 0; round < 2000; round++) {
    const r = new HostPduReader();
    // Start most streams with a valid ICReq so the later checks are reached too.
    const params = { ...DIGESTS, headerDigest: rnd() < 0.5, dataDigest: rnd() < 0.5 };
    if (rnd() < 0.8) {
      r.push(icReq());
      r.next();
      r.settle(params);
    }
    let b: Buffer;
    if (rnd() < 0.5) {
      // Valid capsules with a byte or two changed, so the later checks and the success
      // path are reached too.
      b = Buffer.concat(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => capsule(Buffer.alloc(Math.floor(rnd() * 64), 0xa5), params)));
      for (let k = Math.floor(rnd() * 3); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    } else {
      const len = Math.floor(rnd() * 200);
      b = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      if (len > 4 && rnd() < 0.7) b[0] = [T.PDU_CAPSULE_CMD, T.PDU_H2C_DATA, T.PDU_H2C_TERM_REQ][Math.floor(rnd() * 3)];
      if (len > 4 && rnd() < 0.5) b[2] = [72, 24][Math.floor(rnd() * 2)];
    }
    r.push(b);
    try {
      for (let i = 0; i < 100 && r.next(); i++) pdus++;
    } catch (e) {
      if (!(e instanceof FabricTcpError)) {
        t.fail(`round ${round}: ${String(e)}`);
        return;
      }
      fatalCount++;
    }
  }
  t.ok(fatalCount > 500 && pdus > 300, `${fatalCount} of 2000 streams were refused as fatal, ${pdus} PDUs came out`);
});

t.test('PDU data stays views of the received chunks; only a split header is joined', async (t) => {
  const data = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 5) & 0xff));
  const pdu = capsule(data, DIGESTS);
  // One chunk: header and data are views of it.
  let r = readerAfterIcReq(DIGESTS);
  const one = Buffer.from(pdu);
  r.push(one);
  let got = r.next();
  t.equal(got?.dataParts.length, 1, 'one chunk: one data part');
  t.equal(got?.dataParts[0].buffer, one.buffer, 'the data part is a view of the chunk');
  t.equal(got?.header.buffer, one.buffer, 'so is the header');
  t.ok(got?.dataDigestOk, 'data digest checked');
  // Cut inside the header and inside the data: the header is joined, the data is two views.
  r = readerAfterIcReq(DIGESTS);
  const a = Buffer.from(pdu.subarray(0, 40));
  const b = Buffer.from(pdu.subarray(40, 2000));
  const c = Buffer.from(pdu.subarray(2000));
  r.push(a);
  t.equal(r.next(), null, 'a partial PDU waits');
  r.push(b);
  r.push(c);
  got = r.next();
  t.ok(got, 'the PDU after the last chunk');
  t.equal(got?.dataParts.length, 2, 'data across two chunks: two parts');
  t.equal(got?.dataParts[0].buffer, b.buffer, 'the first part is a view of the second chunk');
  t.equal(got?.dataParts[1].buffer, c.buffer, 'the second a view of the third');
  t.equal(got?.dataLength, data.length, 'dataLength');
  t.ok(got?.dataDigestOk, 'the data digest chains over the parts');
  t.same(got?.data, data, 'joined on demand, the bytes are the data');
  const into = new Uint8Array(100);
  copyData(got!, into, 0, 1990, 2090);
  t.same(Buffer.from(into), data.subarray(1990, 2090), 'copyData copies a range across parts');
});
