// `phyr nvme SUBCOMMAND DEVICE [options]`: parses the command line the way nvme-cli does,
// refuses destructive subcommands without --force, opens the device, runs the subcommand.
// Exit status: 0 done, 1 the command failed (an NVMe status, an unreachable device), 2 the
// command line is wrong.
import { isUsageErrorCode } from './usage';
import { NvmeUsageError, parseNvmeArgs, usageText, type OptionSpec, type OutputFormat } from './args';
import { NvmeDevice, consoleIo, type NvmeIo } from './device';
import { SUBCOMMANDS, findSubcommand } from './registry';
import { outputFormatOption } from './args';
import { runList } from './subcommands/list';

const HELP_OPTION: OptionSpec = { long: 'help', short: 'h', kind: 'flag', help: 'this text' };
const LIST_OPTIONS: readonly OptionSpec[] = [outputFormatOption(['normal', 'json']), HELP_OPTION];

/** The overview `phyr nvme --help` prints. */
export function nvmeHelp(): string {
  const lines = ['usage: phyr nvme <command> <device> [<args>]', '', "nvme-cli's commands and options, on the controllers phyr drives (the embedded one, or one bound to vfio-pci).", '', 'The following are all implemented sub-commands:'];
  lines.push(`  ${'list'.padEnd(16)} List the namespaces of every controller phyr can open (no device)`);
  for (const s of SUBCOMMANDS) lines.push(`  ${s.name.padEnd(16)} ${s.summary.split('. ')[0].replace(/\.$/, '')}`);
  lines.push('', 'See phyr nvme <command> --help for more information on a specific command.');
  return lines.join('\n');
}

function outputFormat(values: Record<string, unknown>): OutputFormat {
  if (values['raw-binary'] === true) return 'binary';
  return (values['output-format'] as OutputFormat | undefined) ?? 'normal';
}

/** Runs `phyr nvme ARGV...`; resolves with the exit status. */
export async function runNvme(argv: readonly string[], io: NvmeIo = consoleIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(nvmeHelp());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(nvmeHelp());
    return 0;
  }
  try {
    if (name === 'list') {
      const { values, positionals } = parseNvmeArgs(rest, LIST_OPTIONS);
      if (values.help) {
        io.out(usageText('list', 'List the namespaces of every controller phyr can open: the embedded controller and the ones bound to vfio-pci.', LIST_OPTIONS).replace('list <device>', 'list'));
        return 0;
      }
      if (positionals.length) throw new NvmeUsageError(`list takes no device, got ${positionals.join(' ')}`);
      return await runList(io, outputFormat(values));
    }
    const sub = findSubcommand(name);
    if (!sub) {
      io.err(`phyr nvme: unknown command '${name}'\n\n${nvmeHelp()}`);
      return 2;
    }
    const specs = [...sub.options, HELP_OPTION];
    const { values, positionals } = parseNvmeArgs(rest, specs);
    if (values.help) {
      io.out(usageText(sub.name, sub.summary, specs));
      return 0;
    }
    if (positionals.length !== 1) throw new NvmeUsageError(positionals.length ? `one device, got ${positionals.join(' ')}` : 'a device is required: emu[:key=value,...] or a PCI address bound to vfio-pci');
    const destructive = typeof sub.destructive === 'function' ? sub.destructive(values) : sub.destructive === true;
    if (destructive && values.force !== true) {
      throw new NvmeUsageError(`${sub.name} changes or destroys data on ${positionals[0]}; add --force to confirm`);
    }
    const dev = await NvmeDevice.open(positionals[0]);
    try {
      return await sub.run({ dev, values, io, format: outputFormat(values) });
    } finally {
      await dev.close();
    }
  } catch (e) {
    const usage = e instanceof NvmeUsageError || isUsageErrorCode((e as { code?: unknown })?.code);
    io.err(`phyr nvme ${name}: ${(e as Error)?.message ?? String(e)}${usage ? `\n(see phyr nvme ${name} --help)` : ''}`);
    return usage ? 2 : 1;
  }
}
