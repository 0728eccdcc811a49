// id-ctrl, id-ns, list-ns, ns-descs: Identify (NVMe 1.4 §5.15) with CNS 01h, 00h, 02h, 03h.
import { NVME } from '../../../spec/nvme';
import { cHex } from '../hex';
import { JcObject, jsonC } from '../json-c';
import { Bytes } from '../layout';
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

// A power state's max power in watts: MP in centiwatts, or in 0.0001 W when MXPS (flags bit 0) is set.
function watts(mp: number, flags: number): string {
  return (flags & 1 ? mp / 10000 : mp / 100).toFixed(2);
}

function idCtrlText(data: Uint8Array): string {
  const b = new Bytes(data);
  const out = ['NVME Identify Controller:', ...fieldLines(b, ID_CTRL_FIELDS, 10)];
  for (let i = 0; i <= b.u8(263); i++) {
    const o = PSD_OFFSET + PSD_SIZE * i;
    const nonOp = b.u8(o + 3) & 2 ? 'non-operational' : 'operational';
    out.push(`ps ${String(i).padStart(4)} : mp:${watts(b.u16(o), b.u8(o + 3))}W ${nonOp} enlat:${b.u32(o + 4)} exlat:${b.u32(o + 8)} rrt:${b.u8(o + 12)} rrl:${b.u8(o + 13)}`);
    out.push(`          rwt:${b.u8(o + 14)} rwl:${b.u8(o + 15)} idle_power:${b.u16(o + 16) ? b.u16(o + 16) : '-'} active_power:${b.u16(o + 20) ? b.u16(o + 20) : '-'}`);
  }
  return out.join('\n');
}

function idNsText(nsid: number, data: Uint8Array): string {
  const b = new Bytes(data);
  const out = [`NVME Identify Namespace ${nsid}:`, ...fieldLines(b, ID_NS_FIELDS, 8)];
  const inUse = lbafInUse(data);
  for (let i = 0; i <= b.u8(25); i++) {
    const o = LBAF_OFFSET + 4 * i;
    out.push(`lbaf ${String(i).padStart(2)} : ms:${String(b.u16(o)).padEnd(3)} lbads:${String(b.u8(o + 2)).padEnd(2)} rp:${cHex(b.u8(o + 3) & 3)}${i === inUse ? ' (in use)' : ''}`);
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
