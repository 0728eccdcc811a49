// JSON text byte for byte as nvme-cli prints it: nvme-cli builds json-c objects and prints
// them with JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, i.e. two-space
// indentation, no space after the colon, "{}" / "[]" when empty, "/" left alone, keys in insertion order (an
// ordered list here, because a JS object would move integer-like keys to the front).

/** A value nvme-cli puts into its JSON: integers, strings, objects, arrays. */
export type JcValue = number | bigint | string | JcObject | JcValue[];

/** A JSON object whose keys keep the order they were added in. */
export class JcObject {
  readonly entries: Array<[string, JcValue]> = [];

  /** Appends `key` (a repeated key replaces the value in place, as json-c does). */
  add(key: string, value: JcValue): this {
    const at = this.entries.findIndex(([k]) => k === key);
    if (at >= 0) this.entries[at] = [key, value];
    else this.entries.push([key, value]);
    return this;
  }

  get(key: string): JcValue | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }

  keys(): string[] {
    return this.entries.map(([k]) => k);
  }
}

/**
 * nvme-cli's json_object_add_value_int and _uint both make a json-c int (a C int32_t), so
 * a 32-bit field with bit 31 set prints negative there; this is that conversion.
 */
export function int32(v: number): number {
  return v | 0;
}

const pad = (level: number): string => '  '.repeat(level);

// json-c escapes '"', '\\', the C escapes and other control characters as \u00xx; for the
// ASCII text of NVMe structures that is what JSON.stringify writes.
function quote(s: string): string {
  return JSON.stringify(s);
}

function write(v: JcValue, level: number): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => pad(level + 1) + write(x, level + 1));
    return items.length ? `[\n${items.join(',\n')}\n${pad(level)}]` : '[]';
  }
  const items = v.entries.map(([k, x]) => `${pad(level + 1)}${quote(k)}:${write(x, level + 1)}`);
  return items.length ? `{\n${items.join(',\n')}\n${pad(level)}}` : '{}';
}

/** The text nvme-cli prints for `root` (json_print_object followed by its newline is the caller's `+ '\n'`). */
export function jsonC(root: JcValue): string {
  return write(root, 0);
}
