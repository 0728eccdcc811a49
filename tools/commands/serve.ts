// `phyr serve [TARGET] --socket PATH [--group NAME]`: the daemon that shares one controller
// with other processes (docs/SERVE.md). Its logic is the serve room; this is the CLI entry.
import * as fs from 'fs';
import { PhyrError } from '../../lib/errors';
import * as path from 'path';
import { ServeDaemon, sharedTarget } from '../../serve';
import { DEFAULT_TARGET } from '../../targets';
import { checkTarget } from '../../targets/check';
import { type CommandIo, consoleIo, parseTargetCommand } from '../command-args';

export const summary = 'share one controller with other processes over a Unix socket (clients: phyr.connect)';

const HELP = `usage: phyr serve [TARGET] --socket PATH [--group NAME]

Brings up the controller at TARGET (default: ${DEFAULT_TARGET}: the embedded controller,
with shared=on added; or the PCI address of a controller bound to vfio-pci) and serves it
at the Unix socket PATH until SIGTERM or SIGINT. Each client (phyr.connect(PATH) in Node) gets its own IO queue pairs and
does IO on them directly; when a client exits or is killed its queues are deleted and its
memory unmapped. One line is logged per client attach and detach.

options:
  --socket PATH   the socket to create (must not exist); mode 0600: only this user connects
  --group NAME    let group NAME connect too (mode 0660, group NAME); a name or a number
  --help          this text`;

/** Output sink (tests pass their own). */
export type ServeIo = CommandIo;

/** Longest Unix socket path in bytes (sun_path is 108 bytes with its terminating NUL). */
const SOCKET_PATH_MAX = 107;

/** The gid of a group name (from /etc/group) or number; a PhyrError naming it when unknown. */
export function groupId(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = fs.readFileSync('/etc/group', 'utf8');
  } catch {
    // no group database: only numbers work
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && /^\d+$/.test(gid ?? '')) return Number(gid);
  }
  throw new PhyrError('PHYR_SERVE_USAGE', `--group ${name}: no such group in /etc/group (give a group name or a number)`);
}

export async function run(argv: string[], io: ServeIo = consoleIo): Promise<number> {
  const parsed = parseTargetCommand('serve', argv, { socket: { type: 'string' }, group: { type: 'string' } } as const, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (!values.socket) {
    io.err(`phyr serve: --socket PATH is required (the Unix socket clients connect to)\n\n${HELP}`);
    return 2;
  }
  // Everything that can be wrong with the command line is found before the controller is
  // brought up: a Unix socket path holds at most 107 bytes (unix(7)), in a directory.
  if (Buffer.byteLength(values.socket) > SOCKET_PATH_MAX) {
    io.err(`phyr serve: --socket: the path is ${Buffer.byteLength(values.socket)} bytes; a Unix socket path holds at most ${SOCKET_PATH_MAX} (choose a shorter one)`);
    return 2;
  }
  if (fs.existsSync(values.socket)) {
    io.err(`phyr serve: ${values.socket} exists; remove it if no daemon is serving there, or choose another path`);
    return 2;
  }
  const parent = path.dirname(path.resolve(values.socket));
  if (!fs.statSync(parent, { throwIfNoEntry: false })?.isDirectory()) {
    io.err(`phyr serve: --socket ${values.socket}: ${parent} is not a directory`);
    return 2;
  }
  const target = positionals[0] ?? DEFAULT_TARGET;
  try {
    sharedTarget(target);
    checkTarget(target); // a PCI address names a device that exists, an emu target's keys parse
  } catch (e) {
    if (!(e instanceof PhyrError)) throw e;
    io.err(`phyr serve: ${e.message}`);
    return 2;
  }
  const gid = values.group === undefined ? undefined : groupId(values.group);
  const daemon = await ServeDaemon.start(target, { socket: values.socket, group: gid, log: (l) => io.out(l) });
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      daemon.stop(`${signal} received`).then(
        () => resolve(0),
        (e: Error) => {
          io.err(`phyr serve: shutdown failed: ${e.message}`);
          resolve(1);
        },
      );
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
