// The command line of a subcommand that takes options and at most one TARGET: what every
// such command does alike (a parse error or a second positional prints the error and the
// help, exit 2; --help prints the help, exit 0), in one place.
import { parseArgs } from 'util';

/** Where a command writes (tests pass their own). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr. */
export const consoleIo: CommandIo = { out: (s) => console.log(s), err: (s) => console.error(s) };

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'] & object;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>;

/**
 * Parses `argv` for `phyr COMMAND` with `options` (plus --help/-h) and at most one
 * positional (the TARGET). Returns the parsed values, or the exit status when the command
 * should end here (help shown: 0; a bad command line, reported with the help: 2).
 */
export function parseTargetCommand<O extends Options>(command: string, argv: string[], options: O, help: string, io: CommandIo): Parsed<O> | number {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h' } } }) as Parsed<O>;
  } catch (e) {
    io.err(`phyr ${command}: ${(e as Error).message}\n\n${help}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(help);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    io.err(`phyr ${command}: one TARGET at most, got ${parsed.positionals.join(' ')}\n\n${help}`);
    return 2;
  }
  return parsed;
}
