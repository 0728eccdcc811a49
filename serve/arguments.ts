// Argument checks of serve/'s public entry points (connect(), the client's namespace and
// queue-pair calls, the daemon's options), as open() checks its own: a wrong type, a
// fractional or out-of-range number or an empty path throws InvalidArgumentError naming it.
import { InvalidArgumentError } from '../drivers/nvme';

// A value for an error message, without dumping it.
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return typeof v;
}

/** A socket path: a non-empty string without NUL, within sun_path (107 bytes + NUL). */
export function checkSocketPath(what: string, v: unknown): string {
  if (typeof v !== 'string') throw new InvalidArgumentError(`${what}: the socket path must be a string (the --socket of \`phyr serve\`), got ${describeValue(v)}`);
  if (v.length === 0) throw new InvalidArgumentError(`${what}: the socket path is empty; pass the --socket of \`phyr serve\``);
  if (v.includes('\0')) throw new InvalidArgumentError(`${what}: the socket path contains a NUL byte`);
  // sockaddr_un.sun_path holds 108 bytes on Linux, the terminating NUL included (unix(7)).
  if (Buffer.byteLength(v) > 107) throw new InvalidArgumentError(`${what}: the socket path is ${Buffer.byteLength(v)} bytes; a Unix socket path holds at most 107 (unix(7)): use a shorter one`);
  return v;
}

/** An integer in [min, max]. */
export function checkInteger(what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${what} must be an integer in ${min}..${max}, got ${describeValue(v)}`);
  }
  return v;
}

/** An options object (or undefined) with only the known keys. */
export function checkOptions(what: string, o: unknown, keys: readonly string[]): Record<string, unknown> {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InvalidArgumentError(`${what} must be an object, got ${describeValue(o)}`);
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new InvalidArgumentError(`${what}: unknown option '${k}' (known: ${keys.join(', ')})`);
  return o as Record<string, unknown>;
}

const HUGEPAGES = ['auto', 'on', 'off'];

/** connect()'s arguments. */
export function checkConnectArguments(socketPath: unknown, options: unknown): void {
  checkSocketPath('connect', socketPath);
  const o = checkOptions('connect options', options, ['hugepages', 'ioQueueSize', 'requestTimeoutMs']);
  if (o.hugepages !== undefined && !HUGEPAGES.includes(o.hugepages as string)) {
    throw new InvalidArgumentError(`connect options: hugepages must be 'auto', 'on' or 'off', got ${describeValue(o.hugepages)}`);
  }
  // CAP.MQES is 16 bits, 0's based (NVMe 1.4 §3.1.1): no queue has more than 65536 entries.
  if (o.ioQueueSize !== undefined) checkInteger('connect options: ioQueueSize', o.ioQueueSize, 2, 65536);
  // setTimeout's delay is a signed 32-bit number of milliseconds.
  if (o.requestTimeoutMs !== undefined) checkInteger('connect options: requestTimeoutMs', o.requestTimeoutMs, 1, 2 ** 31 - 1);
}

/** The daemon's options. */
export function checkServeOptions(target: unknown, options: unknown): void {
  if (typeof target !== 'string' || target.length === 0) throw new InvalidArgumentError(`phyr serve: the target must be a non-empty string ('emu[:...]' or a PCI address), got ${describeValue(target)}`);
  if (options === undefined) throw new InvalidArgumentError('phyr serve: options with a socket path are required');
  const o = checkOptions('phyr serve options', options, ['socket', 'group', 'log']);
  checkSocketPath('phyr serve', o.socket);
  if (o.group !== undefined) checkInteger('phyr serve options: group', o.group, 0, 2 ** 32 - 2);
  if (o.log !== undefined && typeof o.log !== 'function') throw new InvalidArgumentError(`phyr serve options: log must be a function, got ${describeValue(o.log)}`);
}
