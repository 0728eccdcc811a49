// Identify Controller data structure (CNS 01h, NVMe 1.4 §5.15.2.1, 4096 bytes): the
// fields and order of `nvme id-ctrl -o json` (nvme-cli 2.3, libnvme 1.3 layout).
import { JcObject } from '../json-c';
import { Bytes, decode, needBytes, type Field } from '../layout';

const f = (key: string, offset: number, width: number, kind: Field['kind'] = 'int', hexText = false): Field => ({ key, offset, width, kind, hexText });
const x = (key: string, offset: number, width: number): Field => f(key, offset, width, 'int', true);

/** Identify Controller size. */
export const ID_CTRL_SIZE = 4096;

/** Fields before the power state descriptors, in nvme-cli's order. */
export const ID_CTRL_FIELDS: readonly Field[] = [
  x('vid', 0, 2), x('ssvid', 2, 2), f('sn', 4, 20, 'str'), f('mn', 24, 40, 'str'), f('fr', 64, 8, 'str'),
  f('rab', 72, 1), f('ieee', 73, 3), x('cmic', 76, 1), f('mdts', 77, 1), x('cntlid', 78, 2), x('ver', 80, 4),
  x('rtd3r', 84, 4), x('rtd3e', 88, 4), x('oaes', 92, 4), x('ctratt', 96, 4), x('rrls', 100, 2),
  f('cntrltype', 111, 1), f('fguid', 112, 16, 'uuid'), f('crdt1', 128, 2), f('crdt2', 130, 2), f('crdt3', 132, 2),
  f('nvmsr', 253, 1), f('vwci', 254, 1), f('mec', 255, 1), x('oacs', 256, 2), f('acl', 258, 1), f('aerl', 259, 1),
  x('frmw', 260, 1), x('lpa', 261, 1), f('elpe', 262, 1), f('npss', 263, 1), x('avscc', 264, 1), x('apsta', 265, 1),
  f('wctemp', 266, 2), f('cctemp', 268, 2), f('mtfa', 270, 2), f('hmpre', 272, 4), f('hmmin', 276, 4),
  f('tnvmcap', 280, 16, 'u128'), f('unvmcap', 296, 16, 'u128'), x('rpmbs', 312, 4), f('edstt', 316, 2),
  f('dsto', 318, 1), f('fwug', 319, 1), f('kas', 320, 2), x('hctma', 322, 2), f('mntmt', 324, 2), f('mxtmt', 326, 2),
  x('sanicap', 328, 4), f('hmminds', 332, 4), f('hmmaxd', 336, 2), f('nsetidmax', 338, 2), f('endgidmax', 340, 2),
  f('anatt', 342, 1), f('anacap', 343, 1), f('anagrpmax', 344, 4), f('nanagrpid', 348, 4), f('pels', 352, 4),
  f('domainid', 356, 2), f('megcap', 368, 16, 'u128'), x('sqes', 512, 1), x('cqes', 513, 1), f('maxcmd', 514, 2),
  f('nn', 516, 4), x('oncs', 520, 2), x('fuses', 522, 2), x('fna', 524, 1), x('vwc', 525, 1), f('awun', 526, 2),
  f('awupf', 528, 2), f('icsvscc', 530, 1), f('nwpc', 531, 1), f('acwu', 532, 2), x('ocfs', 534, 2), x('sgls', 536, 4),
  f('mnan', 540, 4), f('maxdna', 544, 16, 'u128'), f('maxcna', 560, 4),
  // nvme-cli's JSON leaves subnqn out when it is empty (its text prints it always).
  { key: 'subnqn', offset: 768, width: 256, kind: 'str', when: (b) => b.u8(768) !== 0 },
  f('ioccsz', 1792, 4), f('iorcsz', 1796, 4), f('icdoff', 1800, 2), x('fcatt', 1802, 1), f('msdbd', 1803, 1),
  f('ofcs', 1804, 2),
];

/** Power state descriptor n starts here (32 bytes each, §5.15.2.1 Figure 252). */
export const PSD_OFFSET = 2048;
export const PSD_SIZE = 32;

// Power scale (IPS, APS bits 7:6) as nvme-cli's nvme_psd_power_scale.
const scale = (byte: number): number => (byte >> 6) & 3;

/** One power state descriptor as `nvme id-ctrl -o json` prints it in "psds". */
export function decodePowerState(b: Bytes, n: number): JcObject {
  const o = PSD_OFFSET + PSD_SIZE * n;
  return new JcObject()
    .add('max_power', b.u16(o))
    .add('flags', b.u8(o + 3))
    .add('entry_lat', b.u32(o + 4) | 0)
    .add('exit_lat', b.u32(o + 8) | 0)
    .add('read_tput', b.u8(o + 12))
    .add('read_lat', b.u8(o + 13))
    .add('write_tput', b.u8(o + 14))
    .add('write_lat', b.u8(o + 15))
    .add('idle_power', b.u16(o + 16))
    .add('idle_scale', scale(b.u8(o + 18)))
    .add('active_power', b.u16(o + 20))
    .add('active_power_work', b.u8(o + 22) & 0x7)
    .add('active_scale', scale(b.u8(o + 22)));
}

/** `nvme id-ctrl -o json`'s object for Identify Controller data. */
export function idCtrlJson(data: Uint8Array): JcObject {
  const b = needBytes(data, ID_CTRL_SIZE, 'Identify Controller');
  const root = decode(b, ID_CTRL_FIELDS);
  const npss = b.u8(263);
  const psds: JcObject[] = [];
  for (let i = 0; i <= npss; i++) psds.push(decodePowerState(b, i));
  return root.add('psds', psds);
}
