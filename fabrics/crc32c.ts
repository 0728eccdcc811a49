// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the digest NVMe/TCP puts after a
// PDU header (HDGST) and after its data (DDGST) when the ICReq/ICResp exchange enabled them
// (NVMe/TCP §3.6.2.2, §3.3.x "Digests": CRC32C as iSCSI defines it, RFC 3720 §12.1).
// Eight tables (slicing-by-8) make a 4 KiB block cost about 4096/8 table rounds; the digest
// is written to the wire little-endian.

const POLY = 0x82f63b78;
const TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  return t;
})();

/** Continues a CRC-32C over `bytes[start, end)`; start with `crc = 0` (the pre- and
 *  post-inversion are inside, so chained calls over pieces equal one call over the whole). */
export function crc32c(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c =
      t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24] ^
      t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < end; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
