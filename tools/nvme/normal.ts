// The "normal" (text) output: fields as `name : value` lines, the way nvme-cli lays out
// id-ctrl and id-ns, from the same tables as the JSON.
import { Bytes, fieldText, type Field } from './layout';

/** One `key<pad>: value` line per present field; `width` is the key column nvme-cli uses. */
export function fieldLines(b: Bytes, table: readonly Field[], width: number): string[] {
  const out: string[] = [];
  for (const f of table) if (!f.when || f.when(b)) out.push(`${f.key.padEnd(width)}: ${fieldText(b, f)}`);
  return out;
}

/** nvme-cli's hex dump d(buf, len, 16, 1): a column header, then 16 bytes a line with the offset and the printable bytes. */
export function hexDump(data: Uint8Array, width = 16): string {
  let s = '     ';
  for (let i = 0; i <= 15; i++) s += i.toString(16).padStart(3);
  let ascii = '';
  let done = false;
  let i = 0;
  for (; i < data.length; i++) {
    done = false;
    if (i % width === 0) s += `\n${i.toString(16).padStart(4, '0')}:`;
    s += ` ${data[i].toString(16).padStart(2, '0')}`;
    ascii += data[i] >= 0x21 && data[i] <= 0x7e ? String.fromCharCode(data[i]) : '.';
    if ((i + 1) % width === 0) {
      s += ` "${ascii}"`;
      ascii = '';
      done = true;
    }
  }
  if (!done) s += ` ${' '.repeat(3 * (width - (i % width)))} "${ascii}"`;
  return s;
}
