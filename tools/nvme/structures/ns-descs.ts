// Namespace Identification Descriptor list (CNS 03h, NVMe 1.4 §5.15.2.3, 4096 bytes) as
// `nvme ns-descs -o json` prints it (nvme-cli 2.3).
import { JcObject } from '../json-c';
import { Bytes, needBytes } from '../layout';
import { NVME } from '../../../spec/nvme';

/** One descriptor: where it starts, its type and length, its name and value text. */
export interface NsDescriptor {
  loc: number;
  nidt: number;
  nidl: number;
  type: 'eui64' | 'nguid' | 'uuid' | 'csi';
  value: string;
}

const HEADER = 4;

/** The descriptors nvme-cli knows, in list order; a zero NIDL ends the list, unknown types are skipped. */
export function nsDescriptors(data: Uint8Array): NsDescriptor[] {
  const b: Bytes = needBytes(data, NVME.IDENTIFY_DATA_SIZE, 'Namespace Identification Descriptor list');
  const out: NsDescriptor[] = [];
  for (let pos = 0; pos + HEADER <= NVME.IDENTIFY_DATA_SIZE; ) {
    const nidt = data[pos];
    const nidl = data[pos + 1];
    if (nidl === 0) break;
    const at = pos + HEADER;
    let len = nidl;
    let d: NsDescriptor | undefined;
    // Known types advance by their defined length, whatever NIDL says (as nvme-cli does).
    if (nidt === NVME.NIDT_EUI64) {
      len = 8;
      d = { loc: pos, nidt, nidl, type: 'eui64', value: b.hex(at, len) };
    } else if (nidt === NVME.NIDT_NGUID) {
      len = 16;
      d = { loc: pos, nidt, nidl, type: 'nguid', value: b.hex(at, len) };
    } else if (nidt === NVME.NIDT_UUID) {
      len = 16;
      d = { loc: pos, nidt, nidl, type: 'uuid', value: b.uuid(at) };
    } else if (nidt === NVME.NIDT_CSI) {
      len = 1;
      d = { loc: pos, nidt, nidl, type: 'csi', value: data[at] === 0 ? '0' : `0x${data[at].toString(16)}` };
    }
    if (d) out.push(d);
    pos += len + HEADER;
  }
  return out;
}

/** `nvme ns-descs -o json`: { "ns-descs": [ { loc, nidt, nidl, type, TYPE } ] } (no key when empty). */
export function nsDescsJson(data: Uint8Array): JcObject {
  const list = nsDescriptors(data).map((d) => new JcObject().add('loc', d.loc).add('nidt', d.nidt).add('nidl', d.nidl).add('type', d.type).add(d.type, d.value));
  const root = new JcObject();
  if (list.length) root.add('ns-descs', list);
  return root;
}
