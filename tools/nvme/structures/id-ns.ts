// Identify Namespace data structure (CNS 00h, NVMe 1.4 §5.15.2.2 / NVM Command Set 2.0,
// 4096 bytes): the fields and order of `nvme id-ns -o json` (nvme-cli 2.3).
import { JcObject } from '../json-c';
import { decode, needBytes, type Field } from '../layout';

const f = (key: string, offset: number, width: number, kind: Field['kind'] = 'int', hexText = false): Field => ({ key, offset, width, kind, hexText });
const x = (key: string, offset: number, width: number): Field => f(key, offset, width, 'int', true);

export const ID_NS_SIZE = 4096;

// NSFEAT bit 4: the NPWG..NOWS optimal-performance fields are valid; nvme-cli prints them only then.
const optPerf = { when: (b: { u8(o: number): number }) => (b.u8(24) & 0x10) !== 0 };

/** Fields before the LBA formats, in nvme-cli's order (it prints eui64 before nguid). */
export const ID_NS_FIELDS: readonly Field[] = [
  f('nsze', 0, 8, 'u64', true), f('ncap', 8, 8, 'u64', true), f('nuse', 16, 8, 'u64', true), x('nsfeat', 24, 1),
  f('nlbaf', 25, 1), x('flbas', 26, 1), x('mc', 27, 1), x('dpc', 28, 1), x('dps', 29, 1), x('nmic', 30, 1),
  x('rescap', 31, 1), x('fpi', 32, 1), x('dlfeat', 33, 1), f('nawun', 34, 2), f('nawupf', 36, 2), f('nacwu', 38, 2),
  f('nabsn', 40, 2), f('nabo', 42, 2), f('nabspf', 44, 2), f('noiob', 46, 2), f('nvmcap', 48, 16, 'u128'),
  x('nsattr', 99, 1), f('nvmsetid', 100, 2),
  { ...f('npwg', 64, 2), ...optPerf }, { ...f('npwa', 66, 2), ...optPerf }, { ...f('npdg', 68, 2), ...optPerf },
  { ...f('npda', 70, 2), ...optPerf }, { ...f('nows', 72, 2), ...optPerf },
  f('mssrl', 74, 2), f('mcl', 76, 4), f('msrc', 80, 1), f('nulbaf', 82, 1), f('anagrpid', 92, 4), f('endgid', 102, 2),
  f('eui64', 120, 8, 'hex'), f('nguid', 104, 16, 'hex'),
];

/** LBA format n (4 bytes each from byte 128): MS, LBADS, RP. */
export const LBAF_OFFSET = 128;

/** `nvme id-ns -o json`'s object for Identify Namespace data. */
export function idNsJson(data: Uint8Array): JcObject {
  const b = needBytes(data, ID_NS_SIZE, 'Identify Namespace');
  const root = decode(b, ID_NS_FIELDS);
  const lbafs: JcObject[] = [];
  for (let i = 0; i <= b.u8(25); i++) {
    const o = LBAF_OFFSET + 4 * i;
    lbafs.push(new JcObject().add('ms', b.u16(o)).add('ds', b.u8(o + 2)).add('rp', b.u8(o + 3)));
  }
  return root.add('lbafs', lbafs);
}

/** The LBA format in use: FLBAS bits 3:0, with bits 6:5 as the upper bits when NLBAF > 16. */
export function lbafInUse(data: Uint8Array): number {
  const flbas = data[26];
  return (flbas & 0xf) | (data[25] > 15 ? ((flbas >> 5) & 3) << 4 : 0);
}
