#!/usr/bin/env node
// The phyr command line: dispatches to one module per subcommand in tools/commands/.
// Each subcommand module exports `run(argv: string[]): Promise<number>` (the exit code)
// and `summary` (one line for this help).
import * as path from 'path';

interface CommandModule {
  summary: string;
  run(argv: string[]): Promise<number>;
}

/** Subcommands, in the order the help lists them. */
const COMMANDS = ['list', 'setup', 'identify', 'nvme', 'bench', 'compare', 'plot', 'validate', 'serve', 'fio-engine', 'vm'] as const;

function load(name: string): CommandModule | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(__dirname, 'commands', name)) as CommandModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(path.join('commands', name))) return undefined;
    throw err;
  }
}

function usage(): string {
  const lines = ['usage: phyr COMMAND [options]   (phyr COMMAND --help for details)', '', 'commands:'];
  for (const name of COMMANDS) {
    const mod = load(name);
    if (mod) lines.push(`  ${name.padEnd(10)} ${mod.summary}`);
  }
  lines.push('', 'Targets: `emu[:key=value,...]` (the embedded emulated controller, the default) or a PCI address like 0000:01:00.0.');
  return lines.join('\n');
}

/**
 * Errors that mean "the command line is wrong", whichever subcommand raised them: exit
 * status 2 (as a usage error), not 1 (a failed run). parseArgs raises ERR_PARSE_ARGS_*;
 * subcommands raise PhyrErrors with *_USAGE codes, and a malformed target is one too.
 */
export function isUsageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return code.startsWith('ERR_PARSE_ARGS') || code.endsWith('_USAGE') || USAGE_CODES.has(code);
}

const USAGE_CODES = new Set(['PHYR_BAD_TARGET', 'PHYR_NO_TARGET', 'PHYR_BAD_EMU_TARGET', 'PHYR_VM_SPEC', 'PHYR_SETUP_NO_DEVICE', 'PHYR_SETUP_NOT_NVME']);

let commandName = '';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // No command (or an empty one) is a usage error: the help goes to stderr, exit 2.
    if (name) console.log(usage());
    else console.error(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    console.log(require(path.join(__dirname, '..', '..', 'package.json')).version);
    return 0;
  }
  const mod = (COMMANDS as readonly string[]).includes(name) ? load(name) : undefined;
  commandName = name;
  if (!mod) {
    console.error(`phyr: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error & { code?: string };
    const usage = isUsageError(err);
    const who = commandName ? `phyr ${commandName}` : 'phyr';
    console.error(`${who}: ${e?.message ?? String(err)}${usage ? `\n(see ${who} --help)` : ''}`);
    if (process.env.PHYR_DEBUG) console.error(e?.stack);
    process.exitCode = usage ? 2 : 1;
  },
);
