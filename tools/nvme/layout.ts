// One table per NVMe data structure: each field's JSON key (nvme-cli's), byte offset,
// width and how nvme-cli prints it. decode() turns a structure's bytes into nvme-cli's
// JSON object; the text printers read the same tables, so the two never disagree.
import { cHex } from './hex';
import { JcObject, int32, type JcValue } from './json-c';

/**
 * How a field is read and printed:
 * - int: little-endian unsigned of 1..4 bytes, printed as nvme-cli's json-c int (int32);
 * - u64: little-endian 8 bytes, printed as an unsigned integer;
 * - u128: little-endian 16 bytes, printed as a decimal string (nvme-cli's uint128 strings);
 * - str: ASCII up to the first NUL, trailing spaces kept (snprintf "%-.*s");
 * - uuid: 16 bytes as 8-4-4-4-12 lowercase hex; hex: bytes as lowercase hex, no dashes.
 */
export type FieldKind = 'int' | 'u64' | 'u128' | 'str' | 'uuid' | 'hex';

/** One field of a structure. */
export interface Field {
  /** nvme-cli's JSON key. */
  key: string;
  offset: number;
  width: number;
  kind: FieldKind;
  /** Printed in hexadecimal by the text output (nvme-cli prints these with %#x). */
  hexText?: boolean;
  /** Present only when this holds (nvme-cli leaves some fields out conditionally). */
  when?: (b: Bytes) => boolean;
}

/** Little-endian reads over a structure's bytes. */
export class Bytes {
  private readonly v: DataView;
  constructor(readonly b: Uint8Array) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  /** Unsigned little-endian value of 1..6 bytes (exact). */
  uint(o: number, width: number): number {
    let x = 0;
    for (let i = width - 1; i >= 0; i--) x = x * 256 + this.b[o + i];
    return x;
  }
  u8(o: number): number {
    return this.v.getUint8(o);
  }
  u16(o: number): number {
    return this.v.getUint16(o, true);
  }
  u32(o: number): number {
    return this.v.getUint32(o, true);
  }
  u64(o: number): bigint {
    return this.v.getBigUint64(o, true);
  }
  u128(o: number): bigint {
    return this.v.getBigUint64(o, true) | (this.v.getBigUint64(o + 8, true) << 64n);
  }
  /** ASCII up to the first NUL of a `width`-byte field (bytes kept as they are). */
  str(o: number, width: number): string {
    let s = '';
    for (let i = 0; i < width && this.b[o + i] !== 0; i++) s += String.fromCharCode(this.b[o + i]);
    return s;
  }
  hex(o: number, width: number): string {
    let s = '';
    for (let i = 0; i < width; i++) s += this.b[o + i].toString(16).padStart(2, '0');
    return s;
  }
  uuid(o: number): string {
    const h = this.hex(o, 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

/** A field's value as nvme-cli puts it into JSON. */
export function fieldValue(b: Bytes, f: Field): JcValue {
  switch (f.kind) {
    case 'int':
      return int32(b.uint(f.offset, f.width));
    case 'u64':
      return b.u64(f.offset);
    case 'u128':
      return b.u128(f.offset).toString();
    case 'str':
      return b.str(f.offset, f.width);
    case 'uuid':
      return b.uuid(f.offset);
    case 'hex':
      return b.hex(f.offset, f.width);
  }
}

/** The fields of `table` present in `b`, as a JSON object in table order. */
export function decode(b: Bytes, table: readonly Field[], into = new JcObject()): JcObject {
  for (const f of table) if (!f.when || f.when(b)) into.add(f.key, fieldValue(b, f));
  return into;
}

/** A field's value as the text output prints it: %#x for hexText fields (C prints 0 as "0"). */
export function fieldText(b: Bytes, f: Field): string {
  const v = fieldValue(b, f);
  if (f.hexText && (f.kind === 'int' || f.kind === 'u64')) {
    return cHex(f.kind === 'int' ? b.uint(f.offset, f.width) : (v as bigint));
  }
  return String(v);
}

/** Checks a structure's length before it is decoded. */
export function needBytes(data: Uint8Array, size: number, what: string): Bytes {
  if (data.byteLength < size) throw new RangeError(`${what} needs ${size} bytes, got ${data.byteLength}`);
  return new Bytes(data);
}
