// C's printf "%#x": "0x" and lowercase hex digits, except that zero prints as "0".
export function cHex(v: number | bigint): string {
  const n = BigInt(v);
  return n === 0n ? '0' : `0x${n.toString(16)}`;
}

/** C's printf "%#0*x": zero-padded to `width` characters including the "0x" (zero: `width` zeros, no "0x"). */
export function cHexPadded(v: number, width: number): string {
  return v === 0 ? '0'.repeat(Math.max(1, width)) : `0x${(v >>> 0).toString(16).padStart(width - 2, '0')}`;
}
