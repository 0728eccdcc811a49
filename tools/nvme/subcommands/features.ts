// get-feature, set-feature: Get Features (NVMe 1.4 §5.13) and Set Features (§5.21), printed
// as nvme-cli prints them (it has no JSON form for these: one line per feature, then the
// data as a hex dump).
import { NVME } from '../../../spec/nvme';
import { NvmeStatusError, getFeaturesSqe, setFeaturesSqe } from '../../../drivers/nvme';
import { NvmeUsageError } from '../args';
import { featureDataBytes, featureName, selectName } from '../features';
import { cHex, cHexPadded } from '../hex';
import { hexDump } from '../normal';
import { FORCE_OPTION, NAMESPACE_OPTION, RAW_OPTION, num, type Subcommand, type SubcommandContext } from '../subcommand';

const ALL_NAMESPACES = 0xffffffff;
const FEATURE_IDS = 0x100;

const isInvalidField = (e: unknown): boolean => e instanceof NvmeStatusError && e.sct === NVME.SCT_GENERIC && e.sc === NVME.SC_INVALID_FIELD;
// A namespace-specific feature read with NSID FFFFFFFFh (e.g. Error Recovery on QEMU).
const isInvalidNamespace = (e: unknown): boolean => e instanceof NvmeStatusError && e.sct === NVME.SCT_GENERIC && e.sc === NVME.SC_INVALID_NAMESPACE;

/** The line nvme-cli prints for one feature read. */
export function getFeatureLine(fid: number, sel: number, result: number): string {
  return `get-feature:${cHexPadded(fid, fid ? 4 : 2)} (${featureName(fid)}), ${selectName(sel)} value:${cHexPadded(result, result ? 10 : 8)}`;
}

/** The capability lines of SEL 3 (supported capabilities). */
function capabilityLines(result: number): string[] {
  const out: string[] = [];
  if (result & NVME.FEAT_CAP_SAVEABLE) out.push('  Feature is saveable');
  if (result & NVME.FEAT_CAP_PER_NAMESPACE) out.push('  Feature is per-namespace');
  if (result & NVME.FEAT_CAP_CHANGEABLE) out.push('  Feature is changeable');
  return out;
}

async function readFeature(ctx: SubcommandContext, fid: number, sel: number, nsid: number, cdw11: number, dataLen: number | undefined): Promise<void> {
  const bytes = sel === 3 ? 0 : dataLen || featureDataBytes(fid, cdw11);
  const { dw0, data } = await ctx.dev.admin(getFeaturesSqe(fid, sel, nsid, cdw11), bytes);
  if (ctx.values['raw-binary'] === true && bytes) {
    ctx.io.bytes(data);
    return;
  }
  const lines = [getFeatureLine(fid, sel, dw0)];
  if (sel === 3) lines.push(...capabilityLines(dw0));
  else if (bytes) lines.push(hexDump(data));
  ctx.io.out(lines.join('\n'));
}

export const getFeature: Subcommand = {
  name: 'get-feature',
  summary: 'Read operating parameters of the specified controller; without --feature-id, every feature the controller reports.',
  options: [
    { long: 'feature-id', short: 'f', kind: 'u8', help: 'feature identifier' },
    { ...NAMESPACE_OPTION, help: 'identifier of desired namespace' },
    { long: 'sel', short: 's', kind: 'u8', help: '[0-3]: current/default/saved/supported' },
    { long: 'data-len', short: 'l', kind: 'u32', help: 'buffer len if data is returned through host memory buffer' },
    RAW_OPTION,
    { long: 'cdw11', short: 'c', kind: 'u32', help: 'feature specific dword 11' },
  ],
  async run(ctx) {
    const sel = num(ctx.values, 'sel') ?? 0;
    // SEL 8 ("changed") is nvme-cli's own comparison of current and default; phyr reads 0..3.
    if (sel > 3) throw new NvmeUsageError(`invalid 'select' param:${sel} (0 current, 1 default, 2 saved, 3 supported capabilities)`);
    const nsid = num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES;
    const cdw11 = num(ctx.values, 'cdw11') ?? 0;
    const dataLen = num(ctx.values, 'data-len');
    const one = num(ctx.values, 'feature-id');
    if (one !== undefined) {
      await readFeature(ctx, one, sel, nsid, cdw11, dataLen);
      return 0;
    }
    // Every identifier from 0: the ones the controller refuses with Invalid Field (not
    // implemented) or Invalid Namespace (namespace-specific, read with -n) are skipped;
    // any other failure stops the walk. nvme-cli 2.3's walk stops at the first refusal
    // that carries DNR, so it does not get far on most controllers.
    for (let fid = 0; fid < FEATURE_IDS; fid++) {
      try {
        await readFeature(ctx, fid, sel, nsid, cdw11, dataLen);
      } catch (e) {
        if (!isInvalidField(e) && !isInvalidNamespace(e)) throw e;
      }
    }
    return 0;
  },
};

export const setFeature: Subcommand = {
  name: 'set-feature',
  summary: 'Modify the saveable or changeable current operating parameters of the controller.',
  destructive: true,
  options: [
    { ...NAMESPACE_OPTION, help: 'desired namespace' },
    { long: 'feature-id', short: 'f', kind: 'u8', help: 'feature identifier (required)' },
    { long: 'value', short: 'v', kind: 'u32', help: 'new value of feature (required)' },
    { long: 'cdw12', short: 'c', kind: 'u32', help: 'feature cdw12, if used' },
    { long: 'save', short: 's', kind: 'flag', help: 'specifies that the controller shall save the attribute' },
    FORCE_OPTION,
  ],
  async run(ctx) {
    const fid = num(ctx.values, 'feature-id');
    const value = num(ctx.values, 'value');
    if (!fid) throw new NvmeUsageError('feature-id required param');
    if (value === undefined) throw new NvmeUsageError('--value (-v) is required');
    if (featureDataBytes(fid, 0)) throw new NvmeUsageError(`feature ${cHex(fid)} (${featureName(fid)}) takes a data buffer; phyr's set-feature sends values only`);
    const cdw12 = num(ctx.values, 'cdw12') ?? 0;
    const save = ctx.values.save === true;
    await ctx.dev.admin(setFeaturesSqe(fid, value, num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES, save, cdw12));
    ctx.io.out(`set-feature:${cHexPadded(fid, 4)} (${featureName(fid)}), value:${cHexPadded(value, value ? 10 : 8)}, cdw12:${cHexPadded(cdw12, cdw12 ? 10 : 8)}, save:${cHex(save ? 1 : 0)}`);
    return 0;
  },
};
