// fio's pattern syntax (buffer_pattern, verify_pattern): a sequence of pieces, in any order
// and number —
//   0xHEX   bytes in the order written (an odd digit count gives the first byte one digit;
//           a following 0x starts a new piece: 0xff0x14 is ff 14)
//   DECIMAL an int32 in little-endian order, as few bytes as hold it (66 is 42, -12 is
//           f4 ff ff ff, 0 is one zero byte)
//   "TEXT"  the bytes of TEXT (no escapes)
//   'FILE'  the bytes of a file, as many as still fit
//   %o      (verify_pattern only) 8 bytes holding the IO's byte offset, little-endian,
//           pasted per IO (fio's paste_format); fio fails parsing buffer_pattern with %o
// at most 512 bytes in all.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { BenchOptionError } from './errors';

/** The most bytes a pattern holds (fio's MAX_PATTERN_SIZE). */
export const MAX_PATTERN_BYTES = 512;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** At most `max` bytes from the start of `file` (one read, as fio's; a device such as /dev/urandom works). */
function readUpTo(file: string, max: number, bad: (why: string) => never): Buffer {
  let fd: number;
  try {
    // Without blocking: a FIFO with no writer would hold the open (and the CLI) for ever.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return bad(`cannot read pattern file '${file}': ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(max);
    return buf.subarray(0, max ? readSync(fd, buf, 0, max, null) : 0);
  } catch (e) {
    return bad(`cannot read pattern file '${file}': ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** Parses a pattern as fio does; throws naming the option and the bad piece. */
export function parsePattern(option: string, text: string): number[] {
  return parsePatternPieces(option, text, false).bytes;
}

/** A pattern with %o: its bytes (8 zeros at each %o) and the positions of the %o's. */
export interface OffsetPattern {
  bytes: number[];
  offsets: number[];
}

/** Parses verify_pattern, which alone may hold %o (fio's verify_fmt). */
export function parseVerifyPattern(option: string, text: string): OffsetPattern {
  return parsePatternPieces(option, text, true);
}

function parsePatternPieces(option: string, text: string, allowOffset: boolean): OffsetPattern {
  const out: number[] = [];
  const offsets: number[] = [];
  const bad = (why: string): never => {
    throw new BenchOptionError(option, text, why);
  };
  const room = () => MAX_PATTERN_BYTES - out.length;
  let i = 0;
  if (text === '') bad('a pattern is required (e.g. 0xdeadbeef, "text", 12)');
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) bad(`the ${c === '"' ? 'string' : 'file name'} starting at character ${i + 1} has no closing ${c}`);
      const body = text.slice(i + 1, end);
      let bytes: Buffer;
      if (c === '"') {
        bytes = Buffer.from(body, 'latin1');
        if (bytes.length === 0) bad('an empty string adds no bytes');
      } else {
        bytes = readUpTo(body, room(), bad); // fio reads only what still fits
        if (bytes.length === 0) bad(`pattern file '${body}' is empty (or the pattern is already ${MAX_PATTERN_BYTES} bytes)`);
      }
      if (bytes.length > room()) bad(`the pattern is longer than ${MAX_PATTERN_BYTES} bytes`);
      out.push(...bytes);
      i = end + 1;
    } else if (c === '%') {
      if (!allowOffset) bad("%o (the IO's offset) is for verify_pattern only: fio fails parsing it in this option too");
      if (text[i + 1] !== 'o') bad(`'${text.slice(i, i + 2)}' is not a pattern piece: the one % format is %o (the IO's offset)`);
      if (room() < 8) bad(`the pattern is longer than ${MAX_PATTERN_BYTES} bytes (%o takes 8)`);
      offsets.push(out.length);
      out.push(0, 0, 0, 0, 0, 0, 0, 0);
      i += 2;
    } else if (/^0[xX][0-9a-fA-F]/.test(text.slice(i))) {
      let digits = /^[0-9a-fA-F]+/.exec(text.slice(i + 2))![0];
      // A digit run that ends in "0" followed by x/X is the next piece's 0x (fio: 0xff0x14).
      if (/^[xX]/.test(text.slice(i + 2 + digits.length)) && digits.endsWith('0') && digits.length > 1) digits = digits.slice(0, -1);
      const padded = digits.length % 2 ? `0${digits}` : digits;
      if (padded.length / 2 > room()) bad(`the pattern is longer than ${MAX_PATTERN_BYTES} bytes`);
      for (let k = 0; k < padded.length; k += 2) out.push(parseInt(padded.slice(k, k + 2), 16));
      i += 2 + digits.length;
    } else {
      const m = /^[-+]?\d+/.exec(text.slice(i));
      if (!m) bad(`'${text.slice(i)}' is not a pattern piece: give 0xHEX, a decimal number, "text" or 'file'`);
      // A decimal run stops where a 0x piece starts (fio looks ahead for 0x).
      let lit = m![0];
      const hex = text.slice(i).search(/0[xX]/);
      if (hex > 0 && hex < lit.length) lit = lit.slice(0, hex);
      const v = Number(lit);
      if (!Number.isSafeInteger(v) || v < INT32_MIN || v > INT32_MAX) bad(`${lit} is outside a 32-bit signed integer (give larger patterns as 0xHEX)`);
      const bytes: number[] = [];
      if (v === 0) bytes.push(0);
      for (let u = v >>> 0; u; u >>>= 8) bytes.push(u & 0xff);
      if (bytes.length > room()) bad(`the pattern is longer than ${MAX_PATTERN_BYTES} bytes`);
      out.push(...bytes);
      i += lit.length;
    }
  }
  return { bytes: out, offsets };
}
