// The command line's side of the NVMe/TCP target: `--listen tcp://ADDR[:PORT]` parsed, and
// the subsystem NQN a served target gets when none is given.
import { createHash } from 'crypto';
import * as net from 'net';
import * as os from 'os';
import { PhyrError } from '../lib/errors';
import { NVMF, NVME_TCP } from '../spec/nvmf';

/** Where the target listens. */
export interface ListenAddress {
  host: string;
  port: number;
  /** True for 127.0.0.0/8 and ::1: only this machine can connect. */
  loopback: boolean;
}

/** Parses `tcp://ADDR[:PORT]` (IPv6 in brackets; the port defaults to 4420, 0 picks one);
 *  a PhyrError (PHYR_SERVE_USAGE) says what is wrong. */
export function parseListenAddress(text: string): ListenAddress {
  const bad = (why: string) => new PhyrError('PHYR_SERVE_USAGE', `--listen ${text}: ${why} (give tcp://ADDRESS[:PORT], e.g. tcp://127.0.0.1:${NVME_TCP.PORT_NVME} or tcp://[::1])`);
  const m = /^tcp:\/\/(?:\[([^\]]+)\]|([^:/[\]]+))(?::(\d+))?$/.exec(text);
  if (!m) throw bad(text.startsWith('tcp://') ? 'not an address and port' : 'only the tcp:// transport is served');
  const host = m[1] ?? m[2];
  if (net.isIP(host) === 0) throw bad(`${host} is not an IPv4 or IPv6 address`);
  if (m[1] !== undefined && net.isIP(host) !== 6) throw bad('brackets hold an IPv6 address');
  const port = m[3] === undefined ? NVME_TCP.PORT_NVME : Number(m[3]);
  if (!Number.isInteger(port) || port > 65535) throw bad(`port ${m[3]} is outside 0..65535`);
  const loopback = net.isIP(host) === 4 ? host.startsWith('127.') : host === '::1';
  return { host, port, loopback };
}

/** A stable subsystem NQN for a served target on this machine: the UUID form anyone may
 *  use (NVMe 1.4 §7.9), from a hash of the host name and the target, so a restarted daemon
 *  keeps the NQN its hosts know. */
export function defaultSubsystemNqn(target: string): string {
  const h = createHash('sha256').update(`${os.hostname()}\0${target}`).digest('hex');
  // RFC 4122 layout, version 4 and variant bits set so the text is a well-formed UUID.
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `nqn.2014-08.org.nvmexpress:uuid:${uuid}`;
}

/** Checks an NQN the command line gives: "nqn." and at most 223 bytes (NVMe 1.4 §7.9). */
export function checkNqn(option: string, nqn: string): string {
  if (!nqn.startsWith('nqn.') || Buffer.byteLength(nqn) > 223 || Buffer.byteLength(nqn) >= NVMF.NQN_SIZE) {
    throw new PhyrError('PHYR_SERVE_USAGE', `${option} ${nqn}: an NQN starts with "nqn." and holds at most 223 bytes (e.g. nqn.2014-08.org.nvmexpress:uuid:<UUID>)`);
  }
  return nqn;
}
