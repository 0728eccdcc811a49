// format, flush, dsm, write-zeroes, compare: Format NVM (NVMe 1.4 §5.23) and the NVM
// command set's Flush (§6.8), Dataset Management (§6.7), Write Zeroes (§6.16) and Compare
// (§6.6). The ones that destroy data run only with --force.
import { readFileSync } from 'node:fs';
import { NVME } from '../../../spec/nvme';
import { formatNvmSqe } from '../../../drivers/nvme';
import { NvmeUsageError } from '../args';
import { idNsJson } from '../structures/id-ns';
import { FORCE_OPTION, NAMESPACE_OPTION, num, requireNsid, type Subcommand } from '../subcommand';

const ALL_NAMESPACES = 0xffffffff;

export const format: Subcommand = {
  name: 'format',
  summary: 'Re-format a specified namespace on the given device. Can erase all data in namespace (user data erase) or delete data encryption key if specified.',
  destructive: true,
  options: [
    { ...NAMESPACE_OPTION, help: 'identifier of desired namespace (default: all)' },
    { long: 'lbaf', short: 'l', kind: 'u8', help: 'LBA format to apply (required unless --block-size)' },
    { long: 'ses', short: 's', kind: 'u8', help: '[0-2]: secure erase' },
    { long: 'pi', short: 'i', kind: 'u8', help: '[0-3]: protection info off/Type 1/Type 2/Type 3' },
    { long: 'pil', short: 'p', kind: 'u8', help: '[0-1]: protection info location last/first 8 bytes of metadata' },
    { long: 'ms', short: 'm', kind: 'u8', help: '[0-1]: extended format off/on' },
    { long: 'reset', short: 'r', kind: 'flag', help: 'Automatically reset the controller after successful format' },
    { long: 'block-size', short: 'b', kind: 'u32', help: 'target block size (picks the LBA format with that data size and no metadata)' },
    FORCE_OPTION,
  ],
  async run(ctx) {
    const nsid = num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES;
    let lbaf = num(ctx.values, 'lbaf');
    const blockSize = num(ctx.values, 'block-size');
    if (lbaf !== undefined && blockSize !== undefined) throw new NvmeUsageError('Invalid specification of both LBAF and Block Size, please specify only one');
    const ses = num(ctx.values, 'ses') ?? 0;
    const pi = num(ctx.values, 'pi') ?? 0;
    const pil = num(ctx.values, 'pil') ?? 0;
    const ms = num(ctx.values, 'ms') ?? 0;
    if (ses > 7) throw new NvmeUsageError(`invalid secure erase settings:${ses}`);
    if (pi > 7) throw new NvmeUsageError(`invalid pi:${pi}`);
    if (pil > 1 || ms > 1) throw new NvmeUsageError('--pil and --ms are 0 or 1');
    if (blockSize !== undefined) {
      // The format whose LBADS matches and that carries no metadata (Identify Namespace LBAF list).
      const id = idNsJson(await ctx.dev.identify(NVME.CNS_NAMESPACE, nsid === ALL_NAMESPACES ? 1 : nsid));
      const lbafs = id.get('lbafs') as Array<{ get(k: string): unknown }>;
      const at = lbafs.findIndex((f) => 2 ** (f.get('ds') as number) === blockSize && f.get('ms') === 0);
      if (at < 0) throw new NvmeUsageError(`LBAF corresponding to given block size ${blockSize} not found`);
      lbaf = at;
    }
    if (lbaf === undefined) throw new NvmeUsageError('--lbaf (-l) or --block-size (-b) is required');
    if (lbaf > 15) throw new NvmeUsageError(`invalid lbaf:${lbaf}`);
    await ctx.dev.admin(formatNvmSqe(nsid, { lbaf, ms, pi, pil, ses }));
    ctx.io.out(`Success formatting namespace:${nsid.toString(16)}`);
    if (ctx.values.reset === true) await ctx.dev.ctrl.reset('format --reset');
    return 0;
  },
};

export const flush: Subcommand = {
  name: 'flush',
  summary: 'Commit data and metadata associated with given namespaces to nonvolatile media.',
  options: [{ ...NAMESPACE_OPTION, help: 'identifier of desired namespace (default: every namespace)' }],
  async run(ctx) {
    const nsid = num(ctx.values, 'namespace-id') ?? ALL_NAMESPACES;
    const targets = nsid === ALL_NAMESPACES ? ctx.dev.ctrl.namespaces() : [ctx.dev.ctrl.namespace(nsid)];
    for (const ns of targets) await ns.flush();
    ctx.io.out('NVMe Flush: success');
    return 0;
  },
};

export const writeZeroes: Subcommand = {
  name: 'write-zeroes',
  summary: 'Set a range of logical blocks to zero.',
  destructive: true,
  options: [
    NAMESPACE_OPTION,
    { long: 'start-block', short: 's', kind: 'u64', help: '64-bit addr of first block to access' },
    { long: 'block-count', short: 'c', kind: 'u16', help: 'number of blocks (zeroes based) on device to access' },
    FORCE_OPTION,
  ],
  async run(ctx) {
    const ns = ctx.dev.ctrl.namespace(requireNsid(ctx.values));
    const start = num(ctx.values, 'start-block') ?? 0;
    const count = (num(ctx.values, 'block-count') ?? 0) + 1;
    await ns.writeZeroes(start, count);
    ctx.io.out('NVME Write Zeroes Success');
    return 0;
  },
};

export const dsm: Subcommand = {
  name: 'dsm',
  summary: 'The Dataset Management command is used by the host to indicate attributes for ranges of logical blocks; phyr sends the deallocate attribute (--ad).',
  destructive: true,
  options: [
    NAMESPACE_OPTION,
    { long: 'blocks', short: 'b', kind: 'list', help: 'Comma separated list of the number of blocks in each range' },
    { long: 'slbs', short: 's', kind: 'list', help: 'Comma separated list of the starting block in each range' },
    { long: 'ad', short: 'd', kind: 'flag', help: 'Attribute Deallocate' },
    FORCE_OPTION,
  ],
  async run(ctx) {
    const ns = ctx.dev.ctrl.namespace(requireNsid(ctx.values));
    const blocks = (ctx.values.blocks as number[] | undefined) ?? [];
    const slbs = (ctx.values.slbs as number[] | undefined) ?? [];
    if (!blocks.length || blocks.length !== slbs.length) throw new NvmeUsageError('No range definition provided: --blocks and --slbs need the same number of entries');
    if (blocks.length > 256) throw new NvmeUsageError(`${blocks.length} ranges: Dataset Management takes at most 256`);
    if (ctx.values.ad !== true) throw new NvmeUsageError('phyr sends Dataset Management with the deallocate attribute only: add --ad (-d)');
    // One Dataset Management command per range (the namespace API's deallocate); nvme-cli sends one for all.
    for (let i = 0; i < blocks.length; i++) await ns.deallocate(slbs[i], blocks[i]);
    ctx.io.out('NVMe DSM: success');
    return 0;
  },
};

export const compare: Subcommand = {
  name: 'compare',
  summary: 'Compare specified logical blocks on device with specified data buffer; return failure if buffer and block(s) are dissimilar.',
  options: [
    NAMESPACE_OPTION,
    { long: 'start-block', short: 's', kind: 'u64', help: '64-bit addr of first block to access' },
    { long: 'block-count', short: 'c', kind: 'u16', help: 'number of blocks (zeroes based) on device to access' },
    { long: 'data-size', short: 'z', kind: 'u64', help: 'size of data in bytes' },
    { long: 'data', short: 'd', kind: 'string', help: 'data file to compare the blocks with' },
  ],
  async run(ctx) {
    const ns = ctx.dev.ctrl.namespace(requireNsid(ctx.values));
    const size = num(ctx.values, 'data-size');
    if (!size) throw new NvmeUsageError('data size not provided');
    const file = ctx.values.data;
    if (typeof file !== 'string') throw new NvmeUsageError('--data (-d) names the file to compare with');
    // The transfer is the block count's worth of blocks; a smaller data size is rounded up to it (as nvme-cli does).
    const bytes = ((num(ctx.values, 'block-count') ?? 0) + 1) * ns.lbaSize;
    if (size < bytes) ctx.io.err(`Rounding data size to fit block count (${bytes} bytes)`);
    const data = new Uint8Array(bytes);
    let input: Uint8Array;
    try {
      input = readFileSync(file);
    } catch (e) {
      throw new NvmeUsageError(`cannot read --data ${file}: ${(e as Error).message}`);
    }
    data.set(input.subarray(0, Math.min(bytes, size, input.length)));
    await ns.compare(num(ctx.values, 'start-block') ?? 0, data);
    ctx.io.err('compare: Success');
    return 0;
  },
};
