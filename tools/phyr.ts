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
const COMMANDS = ['list', 'setup', 'identify', 'bench', 'validate', 'vm'] as const;

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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-V') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    console.log(require(path.join(__dirname, '..', '..', 'package.json')).version);
    return 0;
  }
  const mod = (COMMANDS as readonly string[]).includes(name) ? load(name) : undefined;
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
    console.error(`phyr: ${e.message ?? String(err)}`);
    if (process.env.PHYR_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  },
);
