// The channel: Unix-socket messages that carry file descriptors (SCM_RIGHTS), and memfd
// memory two processes can map. This is how a served client (docs/SERVE.md) gets the
// controller's BAR and hands the daemon its DMA memory; Node's net module cannot pass
// descriptors. Sockets are SOCK_SEQPACKET: one send is one receive, with its descriptors.
// The native side (addon/channel) checks every argument and touches only descriptors it
// made or received.
import { PhyrError } from './errors';
import { addonRoom } from './native';

/** One received message. */
export interface ChannelMessage {
  /** The payload (a copy). Empty when `closed`. */
  readonly data: Buffer;
  /** Descriptors that came with it: now this process's, to map or close (closeChannelFd). */
  readonly fds: number[];
  /** The peer closed the connection (or died): nothing more will arrive. */
  readonly closed: boolean;
}

/** Memory another process can map: `fd` is its memfd, open while `memory` is alive. */
export interface SharedMemory {
  readonly memory: ArrayBuffer;
  readonly fd: number;
  /** True when backed by 2 MiB hugepages. */
  readonly huge: boolean;
}

/** A watch on one socket: `onReadable` runs whenever a message (or the hang-up) waits. */
export interface ChannelWatch {
  /** Stops watching (the socket stays open). Idempotent. */
  close(): void;
  ref(): this;
  unref(): this;
}

/** The process at the other end of a socket (SO_PEERCRED). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

interface ChannelNative {
  listen(path: string, mode: number): number;
  connect(path: string): number;
  accept(fd: number): number | null;
  send(fd: number, data: Uint8Array, fds: number[]): boolean;
  receive(fd: number): ChannelMessage | null;
  waitReadable(fd: number, timeoutMs: number): boolean;
  peer(fd: number): PeerCredentials;
  close(fd: number): void;
  createShared(size: number, huge: boolean): SharedMemory;
  mapShared(fd: number, size: number): ArrayBuffer;
  stats(): { liveSharedRegions: number; ownedFds: number };
  Watcher: new (fd: number, onReadable: () => void) => ChannelWatch;
  maxMessage: number;
  maxFds: number;
}

let cached: ChannelNative | undefined;
function native(): ChannelNative {
  cached ??= addonRoom<ChannelNative>('channel');
  return cached;
}

/**
 * A channel call failed. `code` is PHYR_CHANNEL_FAILED (a system call failed: `errno`
 * names it), PHYR_NOT_CHANNEL_FD (a descriptor the channel did not make) or
 * PHYR_CHANNEL_BAD_ARGUMENT.
 */
export class ChannelError extends PhyrError {
  constructor(
    code: string,
    message: string,
    /** The errno value of the failing call, when one failed. */
    readonly errno?: number,
  ) {
    super(code, message);
  }
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = e as Error & { code?: string; errno?: number };
    if (err instanceof PhyrError) throw err;
    const code = typeof err.code === 'string' && err.code.startsWith('PHYR_') ? err.code : 'PHYR_CHANNEL_BAD_ARGUMENT';
    throw new ChannelError(code, err.message, err.errno);
  }
}

/** Largest message payload in bytes, and most descriptors per message. */
export function channelLimits(): { maxMessage: number; maxFds: number } {
  return { maxMessage: native().maxMessage, maxFds: native().maxFds };
}

/** A listening socket at `path` (which must not exist), file mode `mode` (e.g. 0o600). */
export function listenSocket(path: string, mode: number): number {
  return wrap(() => native().listen(path, mode));
}

/** A connection to the listening socket at `path`. */
export function connectSocket(path: string): number {
  return wrap(() => native().connect(path));
}

/** One waiting connection, or null. */
export function acceptConnection(listenFd: number): number | null {
  return wrap(() => native().accept(listenFd));
}

/** Sends one message with descriptors; false when the socket buffer is full (try again when writable). */
export function sendMessage(fd: number, data: Uint8Array, fds: number[] = []): boolean {
  return wrap(() => native().send(fd, data, fds));
}

/** One waiting message, or null. */
export function receiveMessage(fd: number): ChannelMessage | null {
  return wrap(() => native().receive(fd));
}

/** Blocks up to `timeoutMs` for a message; true when one (or the hang-up) is waiting. */
export function waitReadable(fd: number, timeoutMs: number): boolean {
  return wrap(() => native().waitReadable(fd, timeoutMs));
}

/** Who is at the other end of a connected socket. */
export function peerOf(fd: number): PeerCredentials {
  return wrap(() => native().peer(fd));
}

/** Closes a socket or a received descriptor. */
export function closeChannelFd(fd: number): void {
  wrap(() => native().close(fd));
}

// The memfd of each shared memory made here, so code holding only the ArrayBuffer (a
// PciFunction's dmaMap) can send it.
const fdOfMemory = new WeakMap<ArrayBuffer, number>();

/** Zeroed memfd memory (size a multiple of 4 KiB, of 2 MiB with `huge`; hugepages when reserved). */
export function createSharedMemory(size: number, huge = false): SharedMemory {
  const m = wrap(() => native().createShared(size, huge));
  fdOfMemory.set(m.memory, m.fd);
  return m;
}

/** The memfd behind memory from createSharedMemory (open while it is alive), else undefined. */
export function sharedMemoryFd(memory: ArrayBuffer): number | undefined {
  return fdOfMemory.get(memory);
}

/** Maps `size` bytes of a received memfd (it must be phyr's: sealed against shrinking). */
export function mapSharedMemory(fd: number, size: number): ArrayBuffer {
  return wrap(() => native().mapShared(fd, size));
}

/** Calls `onReadable()` whenever a message or the hang-up waits on `fd`; drain with receiveMessage. */
export function watchSocket(fd: number, onReadable: () => void): ChannelWatch {
  if (typeof onReadable !== 'function') throw new ChannelError('PHYR_CHANNEL_BAD_ARGUMENT', 'onReadable must be a function');
  const Watcher = native().Watcher;
  return wrap(() => new Watcher(fd, onReadable));
}

/** Shared regions mapped and descriptors held by the channel room (leak checks). */
export function channelStats(): { liveSharedRegions: number; ownedFds: number } {
  return native().stats();
}
