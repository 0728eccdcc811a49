// id-ctrl, id-ns, list-ns, ns-descs: Identify (NVMe 1.4 §5.15) with CNS 01h, 00h, 02h, 03h.
import { NVME } from '../../../spec/nvme';
import { cHex } from '../hex';
import { JcObject, jsonC } from '../json-c';
import { Bytes, fieldText, type Field } from '../layout';
import { fieldLines } from '../normal';
import { NvmeUsageError, outputFormatOption } from '../args';
import { ID_CTRL_FIELDS, PSD_OFFSET, PSD_SIZE, idCtrlJson } from '../structures/id-ctrl';
import { ID_NS_FIELDS, LBAF_OFFSET, idNsJson, lbafInUse } from '../structures/id-ns';
import { nsDescriptors, nsDescsJson } from '../structures/ns-descs';
import { NAMESPACE_OPTION, RAW_OPTION, num, requireNsid, type Subcommand, type SubcommandContext } from '../subcommand';

function emit(ctx: SubcommandContext, data: Uint8Array, json: () => string, text: () => string): number {
  if (ctx.format === 'binary') ctx.io.bytes(data);
  else ctx.io.out(ctx.format === 'json' ? json() : text());
  return 0;
}

// Power in watts with nvme-cli's digits: 0.0001 W units print four decimals, 0.01 W units two.
function powerText(value: number, tenThousandths: boolean): string {
  return tenThousandths ? `${Math.floor(value / 10000)}.${String(value % 10000).padStart(4, '0')}W` : `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}W`;
}

// IPS / APS (bits 7:6): 0 not reported, 1 units of 0.0001 W, 2 units of 0.01 W.
function scaledPower(value: number, scaleByte: number): string {
  const scale = (scaleByte >> 6) & 3;
  return scale === 0 ? '-' : scale === 1 ? powerText(value, true) : scale === 2 ? powerText(value, false) : 'reserved';
}

const WORKLOADS = ['-', '1MiB 32 RW, 30s idle', '80K 128KiB SW'];

/** nvme-cli's `id-ctrl` text (without -H): one `key : value` line per field, then the power states. */
export function idCtrlText(data: Uint8Array): string {
  const b = new Bytes(data);
  // The text prints subnqn even when empty and ieee as three hex bytes (most significant first).
  const table = ID_CTRL_FIELDS.map((f) => (f.key === 'subnqn' ? { ...f, when: undefined } : f));
  const out = ['NVME Identify Controller:', ...fieldLines(b, table, 10).map((l) => (l.startsWith('ieee ') ? `ieee      : ${[75, 74, 73].map((o) => b.u8(o).toString(16).padStart(2, '0')).join('')}` : l))];
  for (let i = 0; i <= b.u8(263); i++) {
    const o = PSD_OFFSET + PSD_SIZE * i;
    const flags = b.u8(o + 3);
    const nonOp = flags & 2 ? 'non-' : '';
    out.push(`ps   ${String(i).padStart(4)} : mp:${powerText(b.u16(o), (flags & 1) !== 0)} ${nonOp}operational enlat:${b.u32(o + 4) | 0} exlat:${b.u32(o + 8) | 0} rrt:${b.u8(o + 12)} rrl:${b.u8(o + 13)}`);
    out.push(`            rwt:${b.u8(o + 14)} rwl:${b.u8(o + 15)} idle_power:${scaledPower(b.u16(o + 16), b.u8(o + 18))} active_power:${scaledPower(b.u16(o + 20), b.u8(o + 22))}`);
    out.push(`            active_power_workload:${WORKLOADS[b.u8(o + 22) & 7] ?? 'reserved'}`);
  }
  return out.join('\n');
}

/** nvme-cli's `id-ns` text (without -H): its own field order, which is not the JSON's. */
export function idNsText(nsid: number, data: Uint8Array): string {
  const b = new Bytes(data);
  const field = (key: string): Field => ID_NS_FIELDS.find((f) => f.key === key) as Field;
  const line = (key: string, label = `${key.padEnd(8)}: `): string => `${label}${fieldText(b, field(key))}`;
  const out = [`NVME Identify Namespace ${nsid}:`];
  for (const k of ['nsze', 'ncap', 'nuse', 'nsfeat', 'nlbaf', 'flbas', 'mc', 'dpc', 'dps', 'nmic', 'rescap', 'fpi']) out.push(line(k));
  out.push(`dlfeat  : ${b.u8(33)}`);
  for (const k of ['nawun', 'nawupf', 'nacwu', 'nabsn', 'nabo', 'nabspf', 'noiob', 'nvmcap']) out.push(line(k));
  if (b.u8(24) & 0x10) for (const k of ['npwg', 'npwa', 'npdg', 'npda', 'nows']) out.push(line(k));
  for (const k of ['mssrl', 'mcl', 'msrc', 'nulbaf', 'anagrpid']) out.push(line(k));
  out.push(`nsattr\t: ${b.u8(99)}`, line('nvmsetid'), line('endgid'), `nguid   : ${b.hex(104, 16)}`, `eui64   : ${b.hex(120, 8)}`);
  const inUse = lbafInUse(data);
  for (let i = 0; i <= b.u8(25) + b.u8(82); i++) {
    const o = LBAF_OFFSET + 4 * i;
    out.push(`lbaf ${String(i).padStart(2)} : ms:${String(b.u16(o)).padEnd(3)} lbads:${String(b.u8(o + 2)).padEnd(2)} rp:${cHex(b.u8(o + 3))} ${i === inUse ? '(in use)' : ''}`);
  }
  return out.join('\n');
}

export const idCtrl: Subcommand = {
  name: 'id-ctrl',
  summary: 'Send an Identify Controller command to the given device and report information about the controller.',
  options: [outputFormatOption(), RAW_OPTION],
  async run(ctx) {
    const data = await ctx.dev.identify(NVME.CNS_CONTROLLER);
    return emit(ctx, data, () => jsonC(idCtrlJson(data)), () => idCtrlText(data));
  },
};

export const idNs: Subcommand = {
  name: 'id-ns',
  summary: 'Send an Identify Namespace command to the given device and report information about the namespace.',
  options: [NAMESPACE_OPTION, outputFormatOption(), RAW_OPTION],
  async run(ctx) {
    const nsid = requireNsid(ctx.values, true);
    const data = await ctx.dev.identify(NVME.CNS_NAMESPACE, nsid);
    return emit(ctx, data, () => jsonC(idNsJson(data)), () => idNsText(nsid, data));
  },
};

export const listNs: Subcommand = {
  name: 'list-ns',
  summary: 'For the specified controller handle, show the active namespace list, starting with the given nsid.',
  options: [{ ...NAMESPACE_OPTION, help: 'first nsid returned list should start from' }, outputFormatOption(['normal', 'json'])],
  async run(ctx) {
    const start = num(ctx.values, 'namespace-id') ?? 1;
    if (start === 0) throw new NvmeUsageError('--namespace-id 0 is not a namespace id: the list starts at the nsid given (default 1)');
    if (ctx.format === 'binary') throw new NvmeUsageError('list-ns prints normal or json, not binary');
    const data = await ctx.dev.identify(NVME.CNS_ACTIVE_NS_LIST, start - 1);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const ids: Array<[number, number]> = [];
    for (let i = 0; i < 1024; i++) if (v.getUint32(4 * i, true)) ids.push([i, v.getUint32(4 * i, true)]);
    if (ctx.format === 'json') {
      ctx.io.out(jsonC(new JcObject().add('nsid_list', ids.map(([, id]) => new JcObject().add('nsid', id | 0)))));
    } else ctx.io.out(ids.map(([i, id]) => `[${String(i).padStart(4)}]:${cHex(id)}`).join('\n'));
    return 0;
  },
};

export const nsDescs: Subcommand = {
  name: 'ns-descs',
  summary: 'Send an Identify Namespace Identification Descriptor list command and show the descriptors.',
  options: [NAMESPACE_OPTION, outputFormatOption(), RAW_OPTION],
  async run(ctx) {
    const nsid = requireNsid(ctx.values);
    const data = await ctx.dev.identify(NVME.CNS_NS_DESCRIPTORS, nsid);
    const text = (): string => [`NVME Namespace Identification Descriptors NS ${nsid}:`, ...nsDescriptors(data).map((d) => `${d.type.padEnd(6)}: ${d.value}`)].join('\n');
    return emit(ctx, data, () => jsonC(nsDescsJson(data)), text);
  },
};
