// `phyr serve [TARGET] --socket PATH [--group NAME] [--listen tcp://ADDR[:PORT] ...]`: the
// daemon that shares one controller with other processes, and exports its namespaces over
// NVMe/TCP to hosts on the network (docs/SERVE.md). Its logic is the serve and fabrics
// rooms; this is the CLI entry.
import * as fs from 'fs';
import { PhyrError } from '../../lib/errors';
import * as path from 'path';
import { adminWithData, getLogPageSqe, NVME, type Controller } from '../../drivers/nvme';
import { controllerBackend } from '../../fabrics/backend';
import { FabricStatusError } from '../../fabrics/capsule';
import { checkNqn, defaultSubsystemNqn, parseListenAddress, type ListenAddress } from '../../fabrics/listen';
import { TcpTarget } from '../../fabrics/target';
import { ServeDaemon, sharedTarget } from '../../serve';
import { open } from '../../targets/open';
import { DEFAULT_TARGET } from '../../targets';
import { checkTarget } from '../../targets/check';
import { type CommandIo, consoleIo, parseTargetCommand } from '../command-args';

export const summary = 'share one controller with other processes (phyr.connect) and with hosts over NVMe/TCP';

const HELP = `usage: phyr serve [TARGET] --socket PATH [--group NAME]
       phyr serve [TARGET] --listen tcp://ADDR[:PORT] [--subnqn NQN] [--allow-host NQN ...]

Brings up the controller at TARGET (default: ${DEFAULT_TARGET}: the embedded controller,
with shared=on added; or the PCI address of a controller bound to vfio-pci) and serves it
at the Unix socket PATH until SIGTERM or SIGINT. Each client (phyr.connect(PATH) in Node) gets its own IO queue pairs and
does IO on them directly; when a client exits or is killed its queues are deleted and its
memory unmapped. One line is logged per client attach and detach.

With --listen, the controller's namespaces are also an NVMe/TCP subsystem: any Linux host
connects with \`nvme connect -t tcp -a ADDR -s PORT -n NQN\` and gets them as block devices.

options:
  --socket PATH        the socket to create (must not exist); mode 0600: only this user connects
  --group NAME         let group NAME connect too (mode 0660, group NAME); a name or a number
  --listen tcp://ADDR[:PORT]
                       NVMe/TCP on ADDR (an IPv4 or [IPv6] address), PORT (default 4420)
  --subnqn NQN         the subsystem's NQN (default: a UUID NQN from this host and TARGET)
  --allow-host NQN     a host NQN that may connect (repeat for more); without it a loopback
                       listener admits every host and any other listener none
  --allow-any-host     admit every host NQN (whoever reaches the port)
  --help               this text`;

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
  const parsed = parseTargetCommand(
    'serve',
    argv,
    { socket: { type: 'string' }, group: { type: 'string' }, listen: { type: 'string' }, subnqn: { type: 'string' }, 'allow-host': { type: 'string', multiple: true }, 'allow-any-host': { type: 'boolean' } } as const,
    HELP,
    io,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (!values.socket && !values.listen) {
    io.err(`phyr serve: give --socket PATH (the Unix socket clients connect to), --listen tcp://ADDR[:PORT] (NVMe/TCP), or both\n\n${HELP}`);
    return 2;
  }
  let listen: ListenAddress | undefined;
  let subnqn = '';
  const allowHosts = values['allow-host'] ?? [];
  try {
    if (values.listen) listen = parseListenAddress(values.listen);
    else if (values.subnqn !== undefined || allowHosts.length || values['allow-any-host']) throw new PhyrError('PHYR_SERVE_USAGE', '--subnqn, --allow-host and --allow-any-host need --listen');
    if (values.subnqn !== undefined) subnqn = checkNqn('--subnqn', values.subnqn);
    for (const h of allowHosts) checkNqn('--allow-host', h);
    if (values['allow-any-host'] && allowHosts.length) throw new PhyrError('PHYR_SERVE_USAGE', '--allow-any-host and --allow-host exclude each other');
  } catch (e) {
    if (!(e instanceof PhyrError)) throw e;
    io.err(`phyr serve: ${e.message}`);
    return 2;
  }
  if (!values.socket) return serveFabricOnly(positionals[0] ?? DEFAULT_TARGET, listen!, subnqn, allowHosts, values['allow-any-host'] === true, io);
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
  const fabric = listen ? await startFabric(daemon.ctrl, target, listen, subnqn, allowHosts, values['allow-any-host'] === true, io) : undefined;
  return untilSignal((signal) => (fabric ? fabric.close() : Promise.resolve()).then(() => daemon.stop(`${signal} received`)), io);
}

// The log pages a fabric host may read through to the backing controller: Error
// Information, SMART / Health and Firmware Slot (NVMe 1.4 §5.14.1.1-3); others are refused.
const PASSED_LOG_PAGES = new Set<number>([NVME.LOG_ERROR, NVME.LOG_SMART, NVME.LOG_FIRMWARE_SLOT]);

/** Starts the NVMe/TCP target on `ctrl` and logs what it admits. */
async function startFabric(ctrl: Controller, target: string, listen: ListenAddress, subnqn: string, allowHosts: string[], allowAny: boolean, io: ServeIo): Promise<TcpTarget> {
  const nqn = subnqn || defaultSubsystemNqn(target);
  const hosts: string[] | 'any' = allowAny || (!allowHosts.length && listen.loopback) ? 'any' : allowHosts;
  const tcp = await TcpTarget.listen({
    host: listen.host,
    port: listen.port,
    subsystems: [
      {
        nqn,
        backend: await controllerBackend(ctrl),
        allowHosts: hosts,
        logPage: async (lid, nsid, offset, bytes) => {
          if (!PASSED_LOG_PAGES.has(lid)) throw new FabricStatusError(NVME.SCT_COMMAND_SPECIFIC, NVME.SC_INVALID_LOG_PAGE);
          return Buffer.from((await adminWithData(ctrl, getLogPageSqe(lid, nsid, bytes, { offset }), bytes)).data);
        },
      },
    ],
    log: (l) => io.out(l),
  });
  const { host, port } = tcp.address;
  const who = hosts === 'any' ? `every host${allowAny ? '' : ' (a loopback listener)'}` : hosts.length ? `hosts ${hosts.join(', ')}` : 'no host yet: give --allow-host NQN (the listener is not loopback)';
  io.out(`fabric: NVMe/TCP at tcp://${host.includes(':') ? `[${host}]` : host}:${port}, subsystem ${nqn}, admitting ${who}`);
  return tcp;
}

/** `--listen` without `--socket`: the controller serves only NVMe/TCP hosts. */
async function serveFabricOnly(target: string, listen: ListenAddress, subnqn: string, allowHosts: string[], allowAny: boolean, io: ServeIo): Promise<number> {
  try {
    checkTarget(target);
  } catch (e) {
    if (!(e instanceof PhyrError)) throw e;
    io.err(`phyr serve: ${e.message}`);
    return 2;
  }
  const ctrl = await open(target, { completion: 'interrupt' });
  let tcp: TcpTarget;
  try {
    tcp = await startFabric(ctrl, target, listen, subnqn, allowHosts, allowAny, io);
  } catch (e) {
    await ctrl.close();
    const err = e as NodeJS.ErrnoException;
    io.err(`phyr serve: --listen tcp://${listen.host}:${listen.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`);
    return 1;
  }
  return untilSignal((signal) => {
    io.out(`fabric: ${signal} received: closing connections`);
    return tcp.close().then(() => ctrl.close());
  }, io);
}

/** Waits for SIGTERM or SIGINT, then runs `stop`: resolves 0 when it succeeds, 1 (with the
 *  reason printed) when it fails. */
function untilSignal(stop: (signal: string) => Promise<void>, io: ServeIo): Promise<number> {
  return new Promise<number>((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      stop(signal).then(
        () => resolve(0),
        (e: Error) => {
          io.err(`phyr serve: shutdown failed: ${e.message}`);
          resolve(1);
        },
      );
    };
    const onTerm = () => onSignal('SIGTERM');
    const onInt = () => onSignal('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
