// What every `phyr nvme` subcommand declares: its nvme-cli name, one help line, its
// options, and what it does with the opened device.
import type { OptionSpec, OptionValues, OutputFormat } from './args';
import { NvmeUsageError } from './args';
import type { NvmeDevice, NvmeIo } from './device';

/** What a subcommand's run() gets. */
export interface SubcommandContext {
  dev: NvmeDevice;
  values: OptionValues;
  io: NvmeIo;
  /** -o/--output-format (normal when not given; -b/--raw-binary makes it binary). */
  format: OutputFormat;
}

/** One subcommand. run() resolves with the exit status. */
export interface Subcommand {
  name: string;
  summary: string;
  options: readonly OptionSpec[];
  /** Refuses to run without --force: it destroys or changes data (or does with these options). */
  destructive?: boolean | ((values: OptionValues) => boolean);
  run(ctx: SubcommandContext): Promise<number>;
}

/** -n/--namespace-id. */
export const NAMESPACE_OPTION: OptionSpec = { long: 'namespace-id', short: 'n', kind: 'u32', help: 'identifier of desired namespace' };
/** -b/--raw-binary. */
export const RAW_OPTION: OptionSpec = { long: 'raw-binary', short: 'b', kind: 'flag', help: 'output in binary format' };
/** -f/--force (phyr's confirmation for destructive subcommands). */
export const FORCE_OPTION: OptionSpec = { long: 'force', kind: 'flag', help: 'confirm: the command changes or destroys data (refused without it)' };

/** A number option's value (undefined when not given). */
export function num(values: OptionValues, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw new NvmeUsageError(`--${name} needs a number`);
  return v;
}

/** A namespace id option that must be given and be a valid NSID (1..FFFFFFFEh, or FFFFFFFFh when `all`). */
export function requireNsid(values: OptionValues, all = false): number {
  const n = num(values, 'namespace-id');
  if (n === undefined) throw new NvmeUsageError('--namespace-id (-n) is required');
  if (n === 0 || (n === 0xffffffff && !all)) throw new NvmeUsageError(`--namespace-id ${n} is not a namespace id (1..4294967294${all ? ', or 4294967295 for all' : ''})`);
  return n;
}
