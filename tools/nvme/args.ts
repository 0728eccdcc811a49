// Command-line parsing in nvme-cli's style (its argconfig over getopt_long): long options
// as --name=value or --name value, short ones as -n value or -nvalue, flags that combine
// (-Hv), options and the device in any order, numbers in decimal or 0x hexadecimal.
import { PhyrError } from '../../lib/errors';

/** What an option takes: a flag, an unsigned number of at most `bits` bits, a string, or the output format. */
export type OptionKind = 'flag' | 'u8' | 'u16' | 'u32' | 'u64' | 'string' | 'format' | 'list';

/** One option of a subcommand, under nvme-cli's long and short names. */
export interface OptionSpec {
  long: string;
  short?: string;
  kind: OptionKind;
  help: string;
}

/** nvme-cli's -o/--output-format values. */
export type OutputFormat = 'normal' | 'json' | 'binary';

/** Parsed values by long name: booleans for flags, numbers (bigint for u64), number lists (list) or strings. */
export type OptionValues = Record<string, boolean | number | bigint | string | number[] | undefined>;

/** A command line that does not fit the subcommand's options (exit status 2). */
export class NvmeUsageError extends PhyrError {
  constructor(message: string) {
    super('PHYR_NVME_USAGE', message);
  }
}

const MAX: Record<string, bigint> = { u8: 0xffn, u16: 0xffffn, u32: 0xffffffffn, u64: 0xffffffffffffffffn };

/** An unsigned number as nvme-cli's strtoul(…, 0) takes it (decimal, 0x hex), bounded by the option's width. */
export function parseNumber(text: string, kind: OptionKind, name: string): number | bigint {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new NvmeUsageError(`--${name} needs an unsigned number (decimal or 0x hex), got '${text}'`);
  const v = BigInt(text);
  if (v > MAX[kind]) throw new NvmeUsageError(`--${name} is at most ${MAX[kind]} (${kind}), got '${text}'`);
  return kind === 'u64' ? v : Number(v);
}

function convert(spec: OptionSpec, text: string): number | bigint | string | number[] {
  if (spec.kind === 'string') return text;
  if (spec.kind === 'list') return text.split(',').map((t) => parseNumber(t.trim(), 'u64', spec.long) as bigint).map(Number);
  if (spec.kind === 'format') {
    if (text !== 'normal' && text !== 'json' && text !== 'binary') throw new NvmeUsageError(`--output-format is normal, json or binary, got '${text}'`);
    return text;
  }
  return parseNumber(text, spec.kind, spec.long);
}

/** Parses `argv` against `specs`: the option values and the positional arguments (the device). */
export function parseNvmeArgs(argv: readonly string[], specs: readonly OptionSpec[]): { values: OptionValues; positionals: string[] } {
  const values: OptionValues = {};
  const positionals: string[] = [];
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const set = (spec: OptionSpec, text: string | undefined): void => {
    values[spec.long] = spec.kind === 'flag' ? true : convert(spec, text as string);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new NvmeUsageError(`unknown option '--${name}'`);
      if (spec.kind === 'flag') {
        if (eq >= 0) throw new NvmeUsageError(`--${name} takes no value`);
        set(spec, undefined);
      } else if (eq >= 0) set(spec, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw new NvmeUsageError(`--${name} needs a value`);
        set(spec, argv[++i]);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const spec = byShort.get(a[j]);
        if (!spec) throw new NvmeUsageError(`unknown option '-${a[j]}'`);
        if (spec.kind === 'flag') {
          set(spec, undefined);
          continue;
        }
        const rest = a.slice(j + 1);
        if (rest) set(spec, rest);
        else {
          if (i + 1 >= argv.length) throw new NvmeUsageError(`-${a[j]} (--${spec.long}) needs a value`);
          set(spec, argv[++i]);
        }
        break;
      }
    } else positionals.push(a);
  }
  return { values, positionals };
}

/** The -o/--output-format option with the formats a subcommand supports. */
export function outputFormatOption(formats: readonly OutputFormat[] = ['normal', 'json', 'binary']): OptionSpec {
  return { long: 'output-format', short: 'o', kind: 'format', help: `Output format: ${formats.join('|')}` };
}

/** The usage text of a subcommand, in nvme-cli's layout. */
export function usageText(name: string, summary: string, specs: readonly OptionSpec[]): string {
  const lines = [`Usage: phyr nvme ${name} <device> [OPTIONS]`, '', summary, '', '<device>: emu[:key=value,...] (the embedded controller) or a PCI address bound to vfio-pci', '', 'Options:'];
  for (const s of specs) {
    const arg = s.kind === 'flag' ? '' : s.kind === 'format' ? '=<FMT>' : s.kind === 'string' ? '=<STR>' : s.kind === 'list' ? '=<LIST>' : '=<NUM>';
    const left = `  [  --${s.long}${arg}${s.short ? `, -${s.short}${arg ? ` <${arg.slice(2, -1)}>` : ''}` : ''} ]`;
    lines.push(`${left.padEnd(40)}--- ${s.help}`);
  }
  return lines.join('\n');
}
