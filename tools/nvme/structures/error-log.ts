// Error Information log page (LID 01h, NVMe 1.4 §5.14.1.1, 64 bytes per entry): the fields
// and order of `nvme error-log -o json` (nvme-cli 2.3).
import { JcObject } from '../json-c';
import { decode, needBytes, type Field } from '../layout';

const f = (key: string, offset: number, width: number, kind: Field['kind'] = 'int'): Field => ({ key, offset, width, kind });

export const ERROR_ENTRY_SIZE = 64;

/** One entry's fields. status_field and phase_tag split the 16-bit word at byte 12. */
export const ERROR_ENTRY_FIELDS: readonly Field[] = [
  f('error_count', 0, 8, 'u64'), f('sqid', 8, 2), f('cmdid', 10, 2),
];
const ERROR_ENTRY_TAIL: readonly Field[] = [
  f('parm_error_location', 14, 2), f('lba', 16, 8, 'u64'), f('nsid', 24, 4), f('vs', 28, 1), f('trtype', 29, 1),
  f('cs', 32, 8, 'u64'), f('trtype_spec_info', 40, 2),
];

/** `nvme error-log -o json` for `entries` entries of `data`. */
export function errorLogJson(data: Uint8Array, entries: number): JcObject {
  needBytes(data, entries * ERROR_ENTRY_SIZE, `Error Information log of ${entries} entries`);
  const errors: JcObject[] = [];
  for (let i = 0; i < entries; i++) {
    const b = needBytes(data.subarray(i * ERROR_ENTRY_SIZE, (i + 1) * ERROR_ENTRY_SIZE), ERROR_ENTRY_SIZE, 'error entry');
    const e = decode(b, ERROR_ENTRY_FIELDS);
    const status = b.u16(12);
    e.add('status_field', status >> 1).add('phase_tag', status & 1);
    errors.push(decode(b, ERROR_ENTRY_TAIL, e));
  }
  return new JcObject().add('errors', errors);
}
